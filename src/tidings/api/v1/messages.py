"""``/v1/messages``: send, preview, read, list and cancel."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import json
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from tidings.api.auth import AccountDep, ServicesDep, account_without_query, services
from tidings.api.problems import problem
from tidings.api.state import Services
from tidings.api.v1.media import base_url
from tidings.api.v1.schemas import (
    DocumentFields,
    DocumentPreview,
    FittedMedia,
    HistoryEntry,
    MessageDetailView,
    MessagePage,
    MessagesAccepted,
    MessagesPreview,
    MessageView,
    PartView,
    PreviewMessages,
    RecipientError,
    RecipientOutcome,
    SendMessages,
    WhatsAppButtonView,
    WhatsAppPreviewView,
    WhatsAppTemplateView,
)
from tidings.api.v1.voice import channel_content, speak, voice_options_given, voice_preview
from tidings.core import audience, documents, messaging, mms, return_addresses, whatsapp
from tidings.core.accounts import utcnow
from tidings.core.channels import DOCUMENT_CHANNELS, Channel
from tidings.errors import InvalidRequest
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.lifecycle import MessageStatus
from tidings.store.records import AccountRecord

# Below this many recipients planning is quicker than handing it to a thread.
_PLAN_IN_THREAD_ABOVE = 200
_MAX_IDEMPOTENCY_HEADER = 200

router = APIRouter(prefix="/v1/messages", tags=["messages"])


def _outcome(result: messaging.RecipientResult) -> dict[str, object]:
    entry: dict[str, object] = {"to": result.to}
    if result.error is not None:
        error: dict[str, object] = {
            "code": result.error,
            "reason": result.reason,
            "detail": result.error_detail,
        }
        if result.placeholders:
            error["placeholders"] = result.placeholders
        entry["error"] = error
        return entry
    for name in ("id", "address", "status", "encoding", "parts", "price"):
        value = getattr(result, name)
        if value is not None:
            entry[name] = value
    return entry


def _document_fields(body: DocumentFields) -> bool:
    return bool(
        body.document
        or body.back
        or body.address
        or body.return_address_id
        or body.template_used
        or body.colour
        or body.duplex
        or body.priority_post
    )


async def _on_document_channel(
    found: Services,
    account: AccountRecord,
    body: SendMessages,
    request: messaging.SendRequest,
    channel: Channel,
) -> messaging.SendRequest:
    """A fax (to numbers) or a letter or postcard (to one address) of a PDF, checked now."""
    if body.media or body.subject or body.fallback_sms:
        raise InvalidRequest(
            f"media, subject and fallback_sms are not for {channel}", field="channel"
        )
    return await _document_request(
        found, account, body, request, channel, to_lists=bool(body.lists)
    )


async def _document_request(
    found: Services,
    account: AccountRecord,
    body: DocumentFields,
    request: messaging.SendRequest,
    channel: Channel,
    *,
    to_lists: bool = False,
) -> messaging.SendRequest:
    """``request`` as a fax (to numbers) or a letter or postcard (to one address, and with
    ``to_lists`` to the postal address of each list member) of the body's document, checked
    now: a send's and a preview's."""
    if body.document is None:
        raise InvalidRequest(f"a {channel} needs a document", field="document")
    if channel is Channel.FAX:
        if body.back or body.address or body.return_address_id:
            raise InvalidRequest("a fax goes to numbers (to), not an address", field="address")
        fax = await documents.fax_content(found.media, account.id, body.document, field="document")
        return dataclasses.replace(request, channel=channel, content=fax)
    if body.address is None and not to_lists:
        raise InvalidRequest(f"a {channel} needs the recipient's address", field="address")
    if request.to:
        raise InvalidRequest(f"a {channel} goes to its address, not to numbers", field="to")
    if channel is Channel.LETTER and body.back:
        raise InvalidRequest("back is a postcard's", field="back")
    address = (
        None if body.address is None else documents.checked_address(body.address, field="address")
    )
    return_address = None
    if body.return_address_id is not None:
        record = await return_addresses.get_return_address(
            found.database, account, body.return_address_id
        )
        return_address = documents.address_of(return_addresses.postal_address(record))
    kind = documents.DocumentKind(channel.value)
    content = await documents.post_content(
        found.media,
        account.id,
        kind,
        [body.document, *([body.back] if body.back else [])],
        # Sent to lists only: each member's address takes its place (audience).
        address=address or documents.LIST_MEMBERS_ADDRESS,
        return_address=return_address,
        options=documents.LetterOptions(
            template_used=body.template_used,
            colour=body.colour,
            duplex=body.duplex,
            priority=body.priority_post,
        ),
        field="document",
    )
    to = [] if address is None else [documents.recipient_label(address)]
    return dataclasses.replace(request, to=to, channel=channel, content=content)


async def _on_channel(
    found: Services, account: AccountRecord, body: SendMessages, request: messaging.SendRequest
) -> messaging.SendRequest:
    """The send on its channel: MMS takes media (resolved now: ids, our URLs, other URLs
    fetched once) and a subject, voice the call's options, fax, letters and postcards a
    document (and an address), WhatsApp a template, a file or reply buttons; nothing of one
    is taken for another channel without saying so."""
    if body.channel is not None and body.channel in DOCUMENT_CHANNELS:
        return await _on_document_channel(found, account, body, request, body.channel)
    if _document_fields(body):
        raise InvalidRequest(
            "document, address and print options are for fax, letter and postcard",
            field="channel",
        )
    if body.channel is Channel.WHATSAPP:
        if voice_options_given(body):
            raise InvalidRequest("voice options are for voice, not WhatsApp", field="channel")
        return await whatsapp.prepare(
            found.database,
            found.media,
            account,
            request,
            template=None if body.template is None else body.template.model_dump(),
            media=body.media,
            buttons=[b.model_dump() for b in body.buttons],
            fallback_sms=bool(body.fallback_sms),
            subject=body.subject,
        )
    if body.template is not None or body.buttons:
        raise InvalidRequest(
            "template and buttons are for WhatsApp: send with channel whatsapp", field="channel"
        )
    voice = channel_content(body, found.speech)
    if voice is not None:
        if body.media or body.subject or body.fallback_sms:
            raise InvalidRequest(
                "media, subject and fallback_sms are for MMS, not voice", field="channel"
            )
        return dataclasses.replace(request, channel=Channel.VOICE, content=voice)
    channel = body.channel or (Channel.MMS if body.media or body.subject else Channel.SMS)
    if channel is Channel.MMS:
        sender = mms.check_sender(request.sender)
        media = await mms.mms_media(
            found.media, found.database, found.transports, account, [sender], body.media
        )
        return dataclasses.replace(
            request,
            channel=Channel.MMS,
            sender=sender,
            subject=mms.check_subject(body.subject),
            content=mms.MmsContent(media=media, fallback_sms=body.fallback_sms),
        )
    if body.media or body.subject or body.fallback_sms:
        raise InvalidRequest(
            "media, subject and fallback_sms are for MMS: send with channel mms", field="channel"
        )
    if channel is not Channel.SMS:
        raise InvalidRequest(f"/v1/messages does not send {channel} messages", field="channel")
    return request


async def _with_recipients(
    found: Services,
    account: AccountRecord,
    body: SendMessages | PreviewMessages,
    request: messaging.SendRequest,
) -> messaging.SendRequest:
    """``request`` to whom the body names: its numbers and the members of its lists (minus
    its exclude lists, the lists the account's own), each with its contact's placeholder
    values. A send's and a preview's, so that both count the same recipients."""
    if body.lists or body.exclude_lists:
        return await audience.with_list_members(
            found.database,
            account,
            request,
            list_ids=body.lists,
            exclude_list_ids=body.exclude_lists,
            max_recipients=found.settings.max_recipients,
        )
    return await audience.with_contact_values(found.database, account, request)


async def send_messages(
    http: Request,
    body: SendMessages,
    account: AccountDep,
    idempotency_key: Annotated[str | None, Header(max_length=_MAX_IDEMPOTENCY_HEADER)] = None,
) -> JSONResponse:
    """Send one text to one or many recipients (up to `max_recipients`), or to the members of
    contact lists.

    Each recipient is accepted (it gets a message id, status `queued`, or `scheduled` with
    `send_at`) or refused with a code and a numeric reason (invalid number, opted out,
    duplicate, blocked, undeliverable). A send that some recipients took is a 202 with
    `accepted` and `rejected`; one that none took is a 422 problem with the same `messages`.
    `{placeholders}` are filled from `personalization`, else the recipient's contact, else
    their default (`{name|there}`); a recipient left with one without a value is refused
    (`missing_placeholder`). A `request_id` or `Idempotency-Key` header makes a retry return
    the first answer (`Idempotent-Replayed: true`)."""
    # Not a dependency (ServicesDep): FastAPI's cost per dependency is a fair part of a
    # one-recipient request's.
    found = await services(http)
    settings = found.settings
    dlr_url = None
    if body.dlr_url is not None:
        # Refuse at the door what the delivery worker would refuse later (SSRF guard).
        dlr_url = validate_callback_url(str(body.dlr_url), TargetPolicy.from_settings(settings))
    request = messaging.SendRequest(
        to=[body.to] if isinstance(body.to, str) else body.to,
        sender=body.from_,
        body=body.body,
        personalization=body.personalization,
        send_at=body.send_at,
        request_id=body.request_id,
        idempotency_key=idempotency_key,
        customer_data=body.customer_data,
        dlr_url=dlr_url,
        max_parts=body.max_parts,
        ad=body.ad,
        force_opt_in=body.force_opt_in,
    )
    if (
        body.channel is not None
        or body.media
        or body.subject
        or body.fallback_sms
        or body.template is not None
        or body.buttons
        or voice_options_given(body)
        or _document_fields(body)
    ):
        request = await _on_channel(found, account, body, request)
    request = await _with_recipients(found, account, body, request)
    window = timedelta(days=settings.idempotency_days)
    now = utcnow()
    result = await messaging.find_replay(
        found.database, account, messaging.idempotency_key(request), not_before=now - window
    )
    if result is None:
        prepare = functools.partial(
            messaging.prepare_send,
            account,
            request,
            max_recipients=settings.max_recipients,
            default_max_parts=settings.default_max_parts,
            idempotency_window=window,
            now=now,
        )
        # Planning thousands of recipients takes a while; other requests keep being served.
        prepared = (
            await asyncio.to_thread(prepare)
            if len(request.to) > _PLAN_IN_THREAD_ABOVE
            else prepare()
        )
        # Stored together with concurrent requests in one transaction (group commit).
        result = await found.intake.submit(prepared)
    # Built by hand rather than through the response model: 10,000 entries validate slowly.
    content = {
        "messages": [_outcome(r) for r in result.recipients],
        "accepted": result.accepted,
        "rejected": result.rejected,
    }
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    if not result.accepted:
        # Nothing will be sent: a 202 would read as success to a client that checks only the
        # status. The refusals are in the problem, each with its recipient's reason.
        return problem(
            422,
            "No recipient was accepted.",
            slug="no-recipient-accepted",
            headers=headers,
            **content,
        )
    return JSONResponse(content, status_code=202, headers=headers)


async def answer_common_send(request: Request, raw: bytes) -> Response | None:
    """The shortcut of ``POST /v1/messages`` (see ``api.shortcuts``): a send of the common
    shape answered by calling :func:`send_messages` directly; None for any other request,
    which FastAPI's handler then answers in full.

    FastAPI's dependency solving and validation cost a third of a one-recipient request. The
    common shape is one where FastAPI would find nothing to refuse: ``Content-Type:
    application/json``, an ``Idempotency-Key`` of at most 200 characters if any, and a JSON
    body that is a valid :class:`SendMessages` (the shortcut is only taken without a query
    string, so there is no ``account_id``). For it this does what FastAPI does: the body
    parsed with ``json.loads`` and validated by the same model, the account dependency, then
    the endpoint. Anything else (and every validation error) takes FastAPI's path, so errors
    keep their order, field paths and problem+json answers; nothing here has an effect before
    that choice is made.
    """
    headers = request.headers
    if headers.get("content-type") != "application/json":
        return None
    idempotency_key = headers.get("idempotency-key")
    if idempotency_key is not None and len(idempotency_key) > _MAX_IDEMPOTENCY_HEADER:
        return None
    try:
        body = SendMessages.model_validate(json.loads(raw))
    except Exception:  # not JSON, not valid, too deep: FastAPI's handler gives the answer
        return None
    account = await account_without_query(request)
    return await send_messages(request, body, account, idempotency_key)


router.add_api_route(
    "",
    send_messages,
    methods=["POST"],
    status_code=202,
    response_model=MessagesAccepted,
    summary="Send messages to one or many recipients",
    responses={
        202: {
            "headers": {
                "Idempotent-Replayed": {
                    "description": "true when this answer replays the first one of the same "
                    "request_id or Idempotency-Key",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            }
        },
        413: {"description": "A file (media, a document) is larger than its channel takes."},
        415: {"description": "A file is of a type that cannot be sent on its channel."},
    },
)


@router.post(
    "/preview",
    response_model=MessagesPreview,
    summary="Numbers, parts and price (voice: speech, documents: pages, WhatsApp: its text)",
    responses={
        200: {
            "content": {
                "audio/wav": {"schema": {"type": "string", "format": "binary"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "image/tiff": {"schema": {"type": "string", "format": "binary"}},
            }
        },
        404: {"description": "No such document or header file (media id) or return address."},
        413: {"description": "The document is larger than its channel takes."},
        415: {"description": "The document is of a type that cannot be made a PDF."},
    },
)
async def preview_messages(
    http: Request, body: PreviewMessages, account: AccountDep, found: ServicesDep
) -> MessagesPreview | Response:
    """What a send would do, without sending: each recipient's number in E.164 or why it would be
    refused, the encoding and parts of its text, and the price. For a voice message also the
    speech's length; asked with ``Accept: audio/wav``, the answer is the speech itself. For a
    fax, letter or postcard the pages as they will be sent (the fax as the recipient's machine
    prints it, the letter with its address in the envelope's window), their count, price units
    and price; asked with ``Accept: application/pdf`` (letter, postcard) or ``image/tiff``
    (fax), the answer is the file the printer or fax gateway will get. For WhatsApp the text
    the handset will show: a template with its parameters filled in (refused, as the send is,
    when unknown, not approved or short of a parameter), or a free-form message with whether
    each recipient's 24-hour customer-service window is open."""
    if body.channel in DOCUMENT_CHANNELS:
        return await _preview_document(http, body, account, found)
    if _document_fields(body):
        raise InvalidRequest(
            "document, address and print options are for fax, letter and postcard",
            field="channel",
        )
    if body.channel is Channel.WHATSAPP:
        return await _preview_whatsapp(body, account, found)
    if body.template is not None:
        raise InvalidRequest(
            "template is for WhatsApp: preview with channel whatsapp", field="channel"
        )
    voice = channel_content(body, found.speech)
    spoken = None
    if voice is not None:
        spoken = await speak(found.speech, body.body, voice)
        if "audio/wav" in http.headers.get("accept", ""):
            return Response(spoken.wav(), media_type="audio/wav")
    settings = found.settings
    request = await _with_recipients(
        found,
        account,
        body,
        messaging.SendRequest(
            to=[body.to] if isinstance(body.to, str) else body.to,
            sender=body.from_,
            body=body.body,
            personalization=body.personalization,
            max_parts=body.max_parts,
            channel=body.channel,
            content=voice,
            force_opt_in=body.force_opt_in,
        ),
    )
    preview = await _screened(
        found,
        account,
        request,
        settings.price_per_part if voice is None else settings.voice_price_per_unit,
    )
    return MessagesPreview(
        messages=[_preview_outcome(r) for r in preview.recipients],
        parts=preview.parts,
        price=preview.price,
        currency=preview.currency,
        media=await _fitted_media(found, account, body.from_, body.media) if body.media else None,
        voice=None if spoken is None else voice_preview(body.body, spoken),
    )


async def _screened(
    found: Services, account: AccountRecord, request: messaging.SendRequest, price: Decimal
) -> messaging.Preview:
    """What the send of ``request`` would take and cost at ``price`` a unit: planned, then
    screened as a send is (opted out, blocked, undeliverable)."""
    settings = found.settings
    preview = messaging.preview_messages(
        account,
        request,
        price_per_part=price,
        currency=settings.currency,
        max_recipients=settings.max_recipients,
        default_max_parts=settings.default_max_parts,
    )
    return await messaging.screened_preview(found.database, account, request, preview)


async def _preview_document(
    http: Request, body: PreviewMessages, account: AccountRecord, found: Services
) -> MessagesPreview | Response:
    """A fax's, letter's or postcard's preview: its recipients and price as a send would have
    them, and its pages rendered as its transport renders them."""
    channel = body.channel
    if body.media or body.lang is not None or body.voice is not None:
        raise InvalidRequest(f"media, lang and voice are not for {channel}", field="channel")
    request = await _document_request(
        found,
        account,
        body,
        messaging.SendRequest(
            to=[body.to] if isinstance(body.to, str) else body.to,
            sender=body.from_,
            body=body.body,
            personalization=body.personalization,
            channel=channel,
            force_opt_in=body.force_opt_in,
        ),
        channel,
        to_lists=bool(body.lists),
    )
    request = await _with_recipients(found, account, body, request)
    content = _shown_document(request)
    kind = documents.DocumentKind(channel.value)
    rendered = await documents.rendered_pages(found.media, account.id, kind, content)
    accept = http.headers.get("accept", "")
    if rendered.content_type in accept:
        return Response(rendered.data, media_type=rendered.content_type)
    options = content.options if isinstance(content, documents.PostContent) else None
    price = documents.price_of(
        kind,
        rendered.pages,
        options or documents.LetterOptions(),
        documents.document_prices(found.settings),
    )
    preview = await _screened(found, account, request, price)
    return MessagesPreview(
        messages=[_preview_outcome(r) for r in preview.recipients],
        parts=preview.parts,
        price=preview.price,
        currency=preview.currency,
        document=DocumentPreview(
            pages=rendered.pages,
            units=documents.price_units(kind, rendered.pages),
            price=price,
            content_type=rendered.content_type,
            shown=[
                "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                for png in rendered.shown
            ],
        ),
    )


def _shown_document(
    request: messaging.SendRequest,
) -> documents.FaxContent | documents.PostContent:
    """The document a preview renders: the request's, or for a letter or postcard to lists
    the first addressee's (each member's address in the window)."""
    for member in request.contents or ():
        if (
            isinstance(member, documents.PostContent)
            and member.address != documents.LIST_MEMBERS_ADDRESS
        ):
            return member
    content = request.content
    assert isinstance(content, documents.FaxContent | documents.PostContent)
    return content


async def _preview_whatsapp(
    body: PreviewMessages, account: AccountRecord, found: Services
) -> MessagesPreview:
    """A WhatsApp message as the handset will show it (a template filled in, refused as the
    send would refuse it) and, for a free-form message, each recipient's 24-hour window."""
    if body.media or body.lang is not None or body.voice is not None:
        raise InvalidRequest(
            "media, lang and voice are not previewed for WhatsApp", field="channel"
        )
    request = await _with_recipients(
        found,
        account,
        body,
        messaging.SendRequest(
            to=[body.to] if isinstance(body.to, str) else body.to,
            sender=body.from_,
            body=body.body,
            personalization=body.personalization,
            max_parts=body.max_parts,
            channel=Channel.WHATSAPP,
            force_opt_in=body.force_opt_in,
        ),
    )
    shown = await whatsapp.preview(
        found.database,
        found.media,
        account,
        request,
        template=None if body.template is None else body.template.model_dump(),
    )
    if not request.body:
        # A template's SMS text, were it sent as one, is what the handset shows.
        request = dataclasses.replace(request, body=shown.text)
    preview = await _screened(found, account, request, found.settings.price_per_part)
    rendered = shown.rendered
    template = None
    if rendered is not None and body.template is not None:
        template = WhatsAppTemplateView(
            name=body.template.name,
            language=body.template.language,
            status=shown.template_status,
            approved=shown.template_status in (None, "APPROVED"),
            header=rendered.header_text,
            header_media=None if rendered.header_media is None else rendered.header_media.kind,
            body=rendered.body,
            footer=rendered.footer,
            buttons=[
                WhatsAppButtonView(type=kind.value, text=label, target=target)
                for kind, label, target in rendered.buttons
            ],
        )
    return MessagesPreview(
        messages=[_preview_outcome(r) for r in preview.recipients],
        parts=preview.parts,
        price=preview.price,
        currency=preview.currency,
        whatsapp=WhatsAppPreviewView(
            text=shown.text,
            template=template,
            window_open=None if rendered is not None else shown.window_open,
        ),
    )


def _preview_outcome(r: messaging.RecipientResult) -> RecipientOutcome:
    return RecipientOutcome(
        to=r.to,
        address=r.address,
        encoding=r.encoding,
        parts=r.parts,
        price=r.price,
        error=None
        if r.error is None
        else RecipientError(
            code=r.error,
            reason=messaging.REASON_OF.get(r.error),
            detail=r.error_detail,
            placeholders=r.placeholders,
        ),
    )


async def _fitted_media(
    found: Services, account: AccountRecord, sender: str, references: list[str]
) -> list[FittedMedia]:
    """Each file as the route an MMS from ``sender`` would take sends it (converted once for
    that route's limit, and kept for the send)."""
    fitting = await mms.route_target(
        found.database, found.transports, account, mms.check_sender(sender)
    )
    target = fitting.target
    fitted: list[FittedMedia] = []
    for ref in await mms.media_refs(found.media, account.id, references):
        record = await found.media.get(account.id, ref.id)
        sent = await found.media.fitted(record, target)
        fitted.append(
            FittedMedia(
                id=record.id,
                content_type=record.content_type,
                size=record.size,
                sent_content_type=sent.content_type,
                sent_size=sent.size,
                max_bytes=target.max_bytes,
                route=fitting.route,
            )
        )
    return fitted


@router.get("", response_model=MessagePage, summary="List messages, newest first")
async def list_messages(
    account: AccountDep,
    found: ServicesDep,
    status: Annotated[list[MessageStatus] | None, Query()] = None,
    recipient: str | None = None,
    since: Annotated[AwareDatetime | None, Query(description="created at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="created before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> MessagePage:
    """The acting account's messages, newest first, in pages: filter by status, recipient and
    creation time, and pass `next_cursor` as `cursor` for the next page."""
    page, next_cursor = await messaging.list_messages(
        found.database,
        account,
        limit=limit,
        statuses=status or (),
        recipient=recipient,
        created_from=since,
        created_until=until,
        cursor=cursor,
    )
    return MessagePage(data=[MessageView.of(m) for m in page], next_cursor=next_cursor)


@router.get("/{message_id}", response_model=MessageDetailView, summary="One message in detail")
async def get_message(
    message_id: str, http: Request, account: AccountDep, found: ServicesDep
) -> MessageDetailView:
    """One message with its whole history (every status with its time and detail, e.g. the
    carrier's receipt) and its parts with the SMSC's message ids and error codes."""
    detail = await messaging.get_message(found.database, account, message_id)
    view = MessageDetailView(
        **MessageView.of(detail.message).model_dump(by_alias=True),
        history=[HistoryEntry.of(e) for e in detail.history],
        parts=[PartView.of(p) for p in detail.parts],
    )
    await sign_media([view], http, found)
    return view


async def sign_media(views: Iterable[MessageView], http: Request, found: Services) -> None:
    """Give each media item of these views its signed URL, so that whoever reads them (a
    person, a client) can fetch the files without a key."""
    base = base_url(http, found)
    for view in views:
        for item in view.media or ():
            item.url = (await found.media.signed_url(base, item.id)).url


@router.post("/{message_id}/cancel", response_model=MessageView, summary="Cancel before sending")
async def cancel_message(message_id: str, account: AccountDep, found: ServicesDep) -> MessageView:
    """Cancel a message that is still `queued` or `scheduled`. A message already handed to a
    carrier cannot be cancelled (409)."""
    return MessageView.of(await messaging.cancel_message(found.database, account, message_id))
