"""ClickSend SMS routes (send, price, cancel, history, export, receipts, inbound) and the
account: ClickSend's request → the core call ``/v1`` makes → ClickSend's answer.

Both SDK generations reach these paths: 6.x puts ``/v3`` in its paths, 5.x in its host.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    DEFAULT_PAGE_SIZE,
    LimitQuery,
    PageQuery,
    clicksend_router,
    contact_by_number,
    contact_numbers,
    list_by_number,
    page_url,
)
from tidings.api.dialects.clicksend.errors import (
    SubjectRequired,
    envelope,
    message_status_for,
    recipient_status,
)
from tidings.api.dialects.clicksend.history import (
    ChannelRoutes,
    channel_router,
    send_at_of,
    unix_time_of,
)
from tidings.api.dialects.clicksend.schemas import (
    DateBefore,
    SmsMessage,
    SmsMessages,
)
from tidings.api.state import Services
from tidings.core import contacts, lists, mailbox, messaging, routing
from tidings.core.accounts import utcnow
from tidings.core.aliases import AliasKind, number_for
from tidings.core.channels import Channel
from tidings.core.mms import MmsContent, check_sender
from tidings.errors import InvalidRequest, TidingsError
from tidings.events.formats.clicksend import unix
from tidings.store.contacts import ContactRecord
from tidings.store.records import AccountRecord

# ClickSend sends a message that names no sender from the account's default sender (its
# "default sender settings") or else a shared number. Here: the account's default sender
# (``routing.default_sender``), or else, having no shared numbers, this alphanumeric sender
# (accounts limited to registered senders refuse it, as they refuse any unregistered sender).
FALLBACK_SENDER = "tidings"


async def default_sender_of(found: Services, account: AccountRecord) -> str:
    default = await routing.default_sender(found.database, account)
    return FALLBACK_SENDER if default is None else default.address


# tidings has no billing: GET /account answers this balance, in the configured currency.
ACCOUNT_BALANCE = "1000000.00"

router = clicksend_router()


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who a ClickSend message goes to: the numbers, and for each contact among them its
    ClickSend contact_id and its placeholder values as its list holds it."""

    to: list[str]
    contact_ids: dict[str, int]
    values: dict[str, dict[str, str]]


async def recipients_of(found: Services, account: AccountRecord, item: SmsMessage) -> Recipients:
    """The recipients of a message to ``to``, a list's contacts, or one contact."""
    members: list[ContactRecord] = []
    if item.list_id is None and item.contact_id is not None and not item.to:
        list_id, contact = await contact_by_number(found, account, item.contact_id)
        members = [contact]
    elif item.list_id is None:
        return Recipients([item.to] if item.to else [], {}, {})
    else:
        contact_list = await list_by_number(found, account, item.list_id)
        list_id = contact_list.id
        async for page in lists.list_recipients(
            found.database, account.id, include_list_ids=[list_id]
        ):
            members.extend(page)
    numbers = await contact_numbers(found, list_id, [m.id for m in members])
    return Recipients(
        to=[m.phone for m in members],
        contact_ids={m.phone: numbers[m.id] for m in members},
        values={m.phone: contacts.placeholder_values(m) for m in members},
    )


# ClickSend's MMS subjects are at most 20 characters (tidings' own limit is 40).
CLICKSEND_MAX_SUBJECT = 20


@dataclass(frozen=True, slots=True)
class AsMms:
    """What makes a ClickSend message an MMS (``/mms/send``): its subject and its media."""

    subject: str | None
    content: MmsContent


async def _send(
    found: Services,
    account: AccountRecord,
    item: SmsMessage,
    default_sender: str | None,
    *,
    store: bool,
    mms: AsMms | None = None,
) -> list[rendering.Outgoing]:
    """One ClickSend message (to one number or to a list) through core's accept or preview;
    ``default_sender`` is set when some message of the request names no sender; ``mms`` sends
    it as an MMS."""
    settings = found.settings
    recipients = await recipients_of(found, account, item)
    to = recipients.to
    sender = item.from_ or default_sender or FALLBACK_SENDER
    schedule = item.schedule or 0

    def outgoing(to_number: str, status: str, **extra: Any) -> rendering.Outgoing:
        return rendering.Outgoing(
            to=to_number,
            body=item.body,
            sender=sender,
            schedule=schedule,
            custom_string=item.custom_string,
            status=status,
            list_id=item.list_id,
            contact_id=recipients.contact_ids.get(to_number),
            **extra,
        )

    if not to:
        return [outgoing(item.to or "", "INVALID_RECIPIENT")]
    try:
        request = messaging.SendRequest(
            to=to,
            sender=sender,
            body=item.body,
            send_at=send_at_of(item.schedule),
            customer_data=item.custom_string,
            personalization=recipients.values,
        )
        if mms is not None:
            if not mms.subject:
                raise SubjectRequired("An MMS needs a subject.", field="subject")
            if len(mms.subject) > CLICKSEND_MAX_SUBJECT:
                raise InvalidRequest(
                    f"An MMS subject is at most {CLICKSEND_MAX_SUBJECT} characters.",
                    field="subject",
                )
            request = dataclasses.replace(
                request,
                channel=Channel.MMS,
                sender=check_sender(sender),
                subject=mms.subject,
                content=mms.content,
            )
        if store:
            prepared = messaging.prepare_send(
                account,
                request,
                max_recipients=settings.max_recipients,
                default_max_parts=settings.default_max_parts,
            )
            results = (await found.intake.submit(prepared)).recipients
        else:
            results = messaging.preview_messages(
                account,
                request,
                price_per_part=settings.price_per_part,
                currency=settings.currency,
                max_recipients=settings.max_recipients,
                default_max_parts=settings.default_max_parts,
            ).recipients
    except TidingsError as error:
        status = message_status_for(error)
        return [outgoing(number, status) for number in to]
    return [
        outgoing(
            result.address or result.to,
            recipient_status(result.error),
            message_id=result.id,
            parts=result.parts or 0,
        )
        for result in results
    ]


async def send_answer(
    found: Services,
    account: AccountRecord,
    messages: Sequence[SmsMessage],
    *,
    store: bool,
    mms: Callable[[SmsMessage], AsMms] | None = None,
    shape: Callable[[dict[str, Any], SmsMessage], None] | None = None,
) -> JSONResponse:
    """A send or price answer; ``mms`` makes each message an MMS, and ``shape`` adds what an
    MMS answer has besides an SMS's."""
    settings = found.settings
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    # One read for the request, and none when every message names its sender.
    default_sender = (
        await default_sender_of(found, account)
        if any(not item.from_ for item in messages)
        else None
    )
    # Concurrently, so that the intake stores the messages of one request in one transaction.
    answers = await asyncio.gather(
        *(
            _send(
                found,
                account,
                item,
                default_sender,
                store=store,
                mms=None if mms is None else mms(item),
            )
            for item in messages
        )
    )
    shaped = [outgoing for answer in answers for outgoing in answer]
    sources = [item for item, answer in zip(messages, answers, strict=True) for _ in answer]
    now = utcnow()
    good = [item for item in shaped if item.status == "SUCCESS"]
    total = settings.price_per_part * sum(item.parts for item in good)
    shown = [
        rendering.sent_message(
            item,
            at=now,
            user_id=user_id,
            price_per_part=settings.price_per_part,
            as_text=not store,
        )
        for item in shaped
    ]
    if shape is not None:
        for entry, source in zip(shown, sources, strict=True):
            shape(entry, source)
    data = {
        "total_price": float(total),
        "total_count": len(shaped),
        "queued_count": len(good),
        "blocked_count": 0,
        "messages": shown,
        "_currency": rendering.currency(settings.currency),
    }
    msg = "Messages queued for delivery." if store else "Here are some results."
    return envelope(data, msg=msg)


# SMS -----------------------------------------------------------------------------------------


@router.post("/sms/send", summary="Send SMS")
async def send_sms(body: SmsMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    return await send_answer(found, account, body.messages, store=True)


@router.post("/sms/price", summary="Calculate the price of SMS")
async def price_sms(body: SmsMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    return await send_answer(found, account, body.messages, store=False)


@router.put("/sms/cancel-all", summary="Cancel every scheduled SMS")
async def cancel_all_sms(account: AccountDep, found: ServicesDep) -> JSONResponse:
    count = await mailbox.cancel_all_scheduled(found.database, account, channel=Channel.SMS)
    return envelope({"count": count}, msg=f"{count} messages have been cancelled.")


@router.put("/sms/{message_id}/cancel", summary="Cancel a scheduled SMS")
async def cancel_sms(message_id: str, account: AccountDep, found: ServicesDep) -> JSONResponse:
    cancelled = await messaging.cancel_message(
        found.database, account, message_id, channel=Channel.SMS
    )
    return envelope(
        {"message_id": cancelled.id, "status": "Cancelled"}, msg="Message has been cancelled."
    )


def history_filter(
    q: str | None, date_from: int | None, date_to: int | None
) -> mailbox.HistoryFilter:
    """ClickSend's ``q=field:value`` (status, to, from, message_id) and date range."""
    values: dict[str, Any] = {
        "created_from": unix_time_of(date_from, "date_from"),
        # ClickSend's date_to is inclusive, to the second.
        "created_until": unix_time_of(None if date_to is None else date_to + 1, "date_to"),
        "channel": Channel.SMS,
    }
    if q:
        name, separator, value = q.partition(":")
        name = name.strip().lower()
        if not separator or name not in ("status", "to", "from", "message_id"):
            raise InvalidRequest(
                "q is field:value with field status, to, from or message_id", field="q"
            )
        value = value.strip()
        if name == "status":
            statuses = rendering.statuses_named(value)
            if not statuses:
                raise InvalidRequest(f"unknown status {value!r}", field="q")
            values["statuses"] = statuses
        elif value:
            values[{"to": "recipient", "from": "sender"}.get(name, name)] = value
    return mailbox.HistoryFilter(**values)


def _newest_first(order_by: str | None) -> bool:
    # ClickSend sorts by date, oldest first, unless told otherwise.
    if order_by is None:
        return False
    field, _, direction = order_by.partition(":")
    if field.strip().lower() != "date" or direction.strip().lower() not in ("", "asc", "desc"):
        raise InvalidRequest("order_by is date:asc or date:desc", field="order_by")
    return direction.strip().lower() == "desc"


@router.get("/sms/history", summary="SMS history")
async def sms_history(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    date_from: int | None = None,
    date_to: int | None = None,
    q: str | None = None,
    order_by: str | None = None,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    numbered = await mailbox.history_page(
        found.database,
        account,
        page=page,
        per_page=limit,
        where=history_filter(q, date_from, date_to),
        newest_first=_newest_first(order_by),
    )
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    username = account.name
    items = [
        rendering.history_message(
            m, user_id, price_per_part=found.settings.price_per_part, username=username
        )
        for m in numbered.items
    ]
    return envelope(rendering.numbered(numbered, items, page_url(request)), msg="SMS History.")


# Receipts and inbound ------------------------------------------------------------------------


router.include_router(
    channel_router(
        ChannelRoutes(
            channel=Channel.SMS,
            prefix="/sms",
            name="sms",
            label="SMS",
            export_columns=(),
            receipt=rendering.receipt,
            receipts_msg="Receipts.",
        )
    )
)


@router.get("/sms/inbound", summary="Inbound messages not marked read")
async def sms_inbound(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    numbered = await mailbox.unread_page(
        found.database, account, mailbox.INBOUND, page=page, per_page=limit
    )
    replies = await mailbox.with_originals(found.database, account, numbered.items)
    items = [rendering.inbound(r.message, r.original) for r in replies]
    return envelope(rendering.numbered(numbered, items, page_url(request)), msg="Inbound SMS.")


@router.put("/sms/inbound-read", summary="Mark inbound messages read")
async def sms_inbound_read(
    account: AccountDep, found: ServicesDep, body: DateBefore | None = None
) -> JSONResponse:
    before = None if body is None else unix_time_of(body.date_before, "date_before")
    await mailbox.mark_read(found.database, account, mailbox.INBOUND, before=before)
    return envelope(None, msg="Inbound messages have been marked as read.")


@router.put("/sms/inbound-read/{message_id}", summary="Mark one inbound message read")
async def sms_inbound_read_one(
    message_id: str, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    await mailbox.mark_read(found.database, account, mailbox.INBOUND, message_id=message_id)
    return envelope(None, msg="Inbound message has been marked as read.")


@router.get("/sms/inbound/{message_id}", summary="One inbound message, or the reply to one sent")
async def sms_inbound_one(message_id: str, account: AccountDep, found: ServicesDep) -> JSONResponse:
    # 6.x calls this with the id of the message sent (original_message_id), 5.x with the
    # inbound message's own id: both are answered.
    reply = await mailbox.find_inbound(found.database, account, message_id)
    return envelope(rendering.inbound(reply.message, reply.original), msg="Inbound SMS.")


# Account -------------------------------------------------------------------------------------


@router.get("/account", summary="Account details and balance")
async def view_account(account: AccountDep, found: ServicesDep) -> JSONResponse:
    number = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    data = {
        "user_id": number,
        "username": account.name,
        "user_email": None,
        "active": 1 if account.status == "active" else 0,
        "banned": 0,
        "date_sign_up": unix(account.created_at),
        "balance": ACCOUNT_BALANCE,
        "account": number,
        "account_name": account.name,
        "country": account.region,
        "default_country_sms": account.region,
        "timezone": account.timezone,
        "setting_unicode_sms": 1,
        "_currency": rendering.currency(found.settings.currency),
    }
    return envelope(data, msg="Here are your account details.")
