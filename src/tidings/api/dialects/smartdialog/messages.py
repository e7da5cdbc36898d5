"""SmartDialog's gateway sends: a message (SMS, or MMS with ``AttachmentUri``), a reply to a
message and a reply in a discussion (thread)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header

from tidings.api.dialects.smartdialog import rendering
from tidings.api.dialects.smartdialog.common import (
    GrantDep,
    RecipientsRejected,
    ServicesDep,
    checked_dlr_url,
    customer_account,
    gateway_send,
    send_accepted,
    send_request,
    smartdialog_router,
)
from tidings.api.dialects.smartdialog.schemas import DiscussionReply, SendMessage
from tidings.api.state import Services
from tidings.core import conversations, messaging, mms, services
from tidings.core.channels import Channel
from tidings.store.records import AccountRecord

router = smartdialog_router()


def _limits(found: Services) -> conversations.SendLimits:
    settings = found.settings
    return conversations.SendLimits(
        max_recipients=settings.max_recipients,
        default_max_parts=settings.default_max_parts,
        idempotency_window=timedelta(days=settings.idempotency_days),
    )


def _reply(
    found: Services,
    content: str,
    customer_data: str | None,
    dlr_url: str | None,
    send: SendMessage | None,
) -> conversations.Reply:
    return conversations.Reply(
        body=content,
        send_at=None if send is None else send.SendDateTime,
        request_id=None if send is None else send.RequestId,
        customer_data=customer_data,
        dlr_url=checked_dlr_url(found, dlr_url),
    )


async def _replied(
    found: Services,
    account: AccountRecord,
    prepared: messaging.PreparedSend | messaging.SendResult,
    field: str,
) -> tuple[list[messaging.RecipientResult], str | None]:
    """A reply stored through the intake (or its earlier answer), and the thread it is in."""
    result = (
        prepared
        if isinstance(prepared, messaging.SendResult)
        else await found.intake.submit(prepared)
    )
    accepted = [r for r in result.recipients if r.id is not None]
    if not accepted:
        # A reply has one recipient; refused, say, because that handset opted out.
        [refused] = result.recipients
        raise RecipientsRejected({field: [refused.error_detail or refused.error or "rejected"]})
    message_id = accepted[0].id
    thread_id = (
        None
        if message_id is None
        else await conversations.thread_of_message(found.database, account, message_id)
    )
    return accepted, thread_id


@router.post("/messages", operation_id="SendMessage")
async def send_message(
    body: SendMessage,
    found: ServicesDep,
    grant: GrantDep,
    customer_id: Annotated[str, Header(alias="Customer-Id")],
    service_id: Annotated[str, Header(alias="Service-Id")],
) -> dict[str, Any]:
    send = await gateway_send(found, grant, "Gateway.Send", customer_id, service_id)
    account = send.account
    sender = services.check_sender(account, send.service, body.Sender)
    request = dataclasses.replace(
        send_request(
            found, body, to=[r.Address for r in body.Recipients], sender=sender, text=body.Content
        ),
        personalization={
            r.Address: r.Personalization for r in body.Recipients if r.Personalization
        },
        ad=body.AdMessage,
    )
    if body.AttachmentUri:
        # An attachment makes it an MMS (the file fetched once, now); never dropped.
        mms_sender = mms.check_sender(sender)
        media = await mms.mms_media(
            found.media,
            found.database,
            found.transports,
            account,
            [mms_sender],
            [body.AttachmentUri],
        )
        request = dataclasses.replace(
            request, channel=Channel.MMS, sender=mms_sender, content=mms.MmsContent(media=media)
        )
    return rendering.sent(await send_accepted(found, account, request))


@router.post("/messages/reply/{parent_message_id}", operation_id="SendReplyMessage")
async def send_reply_message(
    parent_message_id: str,
    body: SendMessage,
    found: ServicesDep,
    grant: GrantDep,
    customer_id: Annotated[str, Header(alias="Customer-Id")],
    service_id: Annotated[str, Header(alias="Service-Id")],
) -> dict[str, Any]:
    # The addresses are the parent's (core swaps them for an inbound parent); Sender and
    # Recipients are required by the connector but a reply cannot choose them.
    send = await gateway_send(found, grant, "Gateway.Send", customer_id, service_id)
    account = send.account
    prepared = await conversations.prepare_reply_to_message(
        found.database,
        account,
        parent_message_id,
        _reply(found, body.Content, body.CustomerData, body.DlrUrl, body),
        limits=_limits(found),
    )
    if isinstance(prepared, messaging.PreparedSend):
        services.check_sender(account, send.service, prepared.sender_address)
    accepted, _ = await _replied(found, account, prepared, "Recipients[0].Address")
    return rendering.sent(accepted)


@router.post("/messages/discussion/reply", operation_id="SendDiscussionReplyMessage")
async def send_discussion_reply(
    body: DiscussionReply,
    found: ServicesDep,
    grant: GrantDep,
    customer_id: Annotated[str, Header(alias="CustomerId")],
) -> dict[str, Any]:
    grant.require("Discussion.Reply")
    account = await customer_account(found, grant, customer_id)
    prepared = await conversations.prepare_reply_to_thread(
        found.database,
        account,
        body.ThreadId,
        _reply(found, body.Content, body.CustomerData, None, None),
        limits=_limits(found),
    )
    accepted, thread_id = await _replied(found, account, prepared, "ThreadId")
    return {**rendering.sent(accepted), "ThreadId": thread_id or body.ThreadId}
