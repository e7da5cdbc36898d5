"""ClickSend's fax and post: ``/fax/send`` and ``/fax/price``, ``/post/letters/send`` and
``/price``, ``/post/postcards/send`` and ``/price``.

Each request names one file (``file_url``: a URL, one of our upload URLs, or a media id) that
is fetched once under the SSRF guard, converted to PDF if it is not one, and checked as the
channel takes it; a file that cannot be sent refuses the whole request (INVALID_MEDIA_FILE).
Each recipient then gets its own status: a fax number that is no number, an address that
cannot go in an envelope window, a return address the account does not have. A send stores one
message per good recipient, as ``POST /v1/messages`` with channel fax, letter or postcard
does: a fax from the message's ``from`` (else the account's default sender) to its number, a
letter or postcard to its address with the return address as it is now; each answers its
``message_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    clicksend_router,
    list_by_number,
)
from tidings.api.dialects.clicksend.errors import envelope, message_status_for, recipient_status
from tidings.api.dialects.clicksend.history import ChannelRoutes, channel_router, send_at_of
from tidings.api.dialects.clicksend.post import return_address_for, shape_return_address
from tidings.api.dialects.clicksend.schemas import (
    FaxMessage,
    FaxMessages,
    PostLetter,
    PostPostcard,
    PostRecipient,
)
from tidings.api.dialects.clicksend.sms import default_sender_of
from tidings.api.state import Services
from tidings.core import lists, messaging
from tidings.core import return_addresses as return_address_core
from tidings.core.accounts import utcnow
from tidings.core.aliases import AliasKind, number_for
from tidings.core.channels import Channel
from tidings.core.content import ChannelContent, load_content
from tidings.core.documents import (
    Document,
    DocumentKind,
    DocumentRefused,
    FaxContent,
    FaxResult,
    LetterOptions,
    PostContent,
    address_of,
    document_prices,
    document_ref,
    letter_pages,
    load_document,
    price_of,
    recipient_label,
)
from tidings.documents.address import PostalAddress
from tidings.documents.errors import DocumentRejected
from tidings.documents.letter import check_addresses, draw_address_field
from tidings.documents.pdf import A4, A6_LANDSCAPE
from tidings.documents.postcard import ADDRESS_BLOCK, postcard_sides
from tidings.documents.printing import new_canvas
from tidings.errors import NotFound, TidingsError
from tidings.events.formats.clicksend import gateway_status, unix
from tidings.phone import InvalidNumber, normalize_number
from tidings.store.records import AccountRecord, MessageRecord

router = clicksend_router()


async def _stored(
    found: Services,
    account: AccountRecord,
    *,
    to: str,
    sender: str,
    schedule: int | None,
    custom_string: str | None,
    channel: Channel,
    content: ChannelContent,
) -> tuple[str | None, str]:
    """One document message stored for sending: (its id, ClickSend's status of it)."""
    settings = found.settings
    try:
        request = messaging.SendRequest(
            to=[to],
            sender=sender,
            body="",
            send_at=send_at_of(schedule),
            customer_data=custom_string,
            channel=channel,
            content=content,
        )
        prepared = messaging.prepare_send(
            account,
            request,
            max_recipients=settings.max_recipients,
            default_max_parts=settings.default_max_parts,
        )
        [result] = (await found.intake.submit(prepared)).recipients
    except TidingsError as error:
        return None, message_status_for(error)
    return result.id, recipient_status(result.error)


async def _sent_item(
    found: Services,
    account: AccountRecord,
    item: dict[str, Any],
    *,
    price_key: str,
    pages_key: str,
    file_url: str,
    user_id: int,
    store: dict[str, Any] | None,
) -> dict[str, Any]:
    """A send's answer for one recipient: the price's, with its message stored (``store``:
    the arguments of :func:`_stored`) and what ClickSend adds to a sent one."""
    if store is None or item["status"] != "SUCCESS":
        return item
    message_id, status = await _stored(found, account, **store)
    good = status == "SUCCESS"
    return {
        **item,
        "message_id": message_id,
        "status": status,
        price_key: item[price_key] if good else rendering.price(Decimal(0)),
        pages_key: item[pages_key] if good else 0,
        "date_added": unix(utcnow()),
        "user_id": user_id,
        "subaccount_id": user_id,
        "_file_url": file_url,
        "_api_username": account.name,
    }


# Fax -----------------------------------------------------------------------------------------


async def _fax_numbers(found: Services, account: AccountRecord, item: FaxMessage) -> list[str]:
    """The fax numbers a message goes to: ``to``, or the fax numbers of a list's contacts."""
    if item.list_id is None:
        return [item.to] if item.to else []
    contact_list = await list_by_number(found, account, item.list_id)
    numbers: list[str] = []
    async for page in lists.list_recipients(
        found.database, account.id, include_list_ids=[contact_list.id]
    ):
        numbers.extend(contact.fax for contact in page if contact.fax)
    return numbers


async def _fax_items(
    found: Services, account: AccountRecord, body: FaxMessages, document: Document
) -> list[dict[str, Any]]:
    prices = document_prices(found.settings)
    pages = document.info.page_count
    items = []
    for message in body.messages:
        numbers = await _fax_numbers(found, account, message)
        for raw in numbers or [message.to or ""]:
            status = "SUCCESS"
            try:
                number = normalize_number(raw, (message.country or account.region).upper())
            except InvalidNumber:
                number, status = raw, "INVALID_RECIPIENT"
            good = status == "SUCCESS"
            items.append(
                {
                    "to": number,
                    "from": message.from_ or "",
                    "list_id": message.list_id,
                    "custom_string": message.custom_string,
                    "schedule": message.schedule or 0,
                    "country": message.country,
                    "message_pages": pages if good else 0,
                    "message_price": rendering.price(
                        price_of(DocumentKind.FAX, pages, LetterOptions(), prices)
                        if good
                        else Decimal(0)
                    ),
                    "status": status,
                }
            )
    return items


def _totals(items: list[dict[str, Any]], price_key: str) -> dict[str, Any]:
    good = [item for item in items if item["status"] == "SUCCESS"]
    return {
        "total_price": float(sum(Decimal(item[price_key]) for item in good)),
        "total_count": len(items),
        "queued_count": len(good),
    }


async def _fax_answer(
    found: Services, account: AccountRecord, body: FaxMessages, *, send: bool
) -> JSONResponse:
    document = await load_document(
        found.media, account.id, body.file_url, DocumentKind.FAX, field="file_url"
    )
    items = await _fax_items(found, account, body, document)
    if send:
        content = FaxContent(document=document_ref(document), pages=document.info.page_count)
        user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
        default_sender = await default_sender_of(found, account)
        items = [
            await _sent_item(
                found,
                account,
                item,
                price_key="message_price",
                pages_key="message_pages",
                file_url=body.file_url,
                user_id=user_id,
                store={
                    "to": item["to"],
                    "sender": item["from"] or default_sender,
                    "schedule": item["schedule"],
                    "custom_string": item["custom_string"],
                    "channel": Channel.FAX,
                    "content": content,
                },
            )
            for item in items
        ]
    data = {
        **_totals(items, "message_price"),
        "messages": items,
        "_currency": rendering.currency(found.settings.currency),
    }
    return envelope(data, msg="Messages queued for delivery." if send else "Here are some results.")


@router.post("/fax/send", summary="Send a fax to each number")
async def send_fax(body: FaxMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    return await _fax_answer(found, account, body, send=True)


@router.post("/fax/price", summary="Calculate the price of a fax to each number")
async def price_fax(body: FaxMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    return await _fax_answer(found, account, body, send=False)


# Post ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Addressed:
    recipient: PostalAddress
    return_address: PostalAddress | None
    shaped_return_address: dict[str, Any] | None
    status: str


def _postal(recipient: PostRecipient) -> PostalAddress:
    return PostalAddress(
        name=recipient.address_name or "",
        line_1=recipient.address_line_1 or "",
        line_2=recipient.address_line_2 or "",
        city=recipient.address_city or "",
        state=recipient.address_state or "",
        postal_code=recipient.address_postal_code or "",
        country=(recipient.address_country or "").upper(),
    )


async def _addressed(
    found: Services,
    account: AccountRecord,
    recipient: PostRecipient,
    user_id: int,
    *,
    postcard: bool,
    priority: bool,
) -> _Addressed:
    address = _postal(recipient)
    back: PostalAddress | None = None
    shaped = None
    if recipient.return_address_id is not None:
        try:
            record = await return_address_for(found, account, recipient.return_address_id)
        except NotFound:
            return _Addressed(address, None, None, "INVALID_RETURN_ADDRESS")
        back = return_address_core.postal_address(record)
        shaped = shape_return_address(record, recipient.return_address_id, user_id)
    try:
        if postcard:
            drawing, _ = new_canvas(A6_LANDSCAPE)
            draw_address_field(drawing, A6_LANDSCAPE, ADDRESS_BLOCK, address, back, priority=False)
        else:
            check_addresses(address, back, page=A4, priority=priority)
    except DocumentRejected:
        return _Addressed(address, back, shaped, "INVALID_RECIPIENT")
    return _Addressed(address, back, shaped, "SUCCESS")


def _recipient_item(
    recipient: PostRecipient, addressed: _Addressed, pages: int, price: Decimal
) -> dict[str, Any]:
    good = addressed.status == "SUCCESS"
    return {
        "address_name": recipient.address_name,
        "address_line_1": recipient.address_line_1,
        "address_line_2": recipient.address_line_2,
        "address_city": recipient.address_city,
        "address_state": recipient.address_state,
        "address_postal_code": recipient.address_postal_code,
        "address_country": recipient.address_country,
        "return_address_id": recipient.return_address_id,
        "custom_string": recipient.custom_string,
        "schedule": recipient.schedule or 0,
        "post_pages": pages if good else 0,
        "post_price": rendering.price(price if good else Decimal(0)),
        "status": addressed.status,
        "_return_address": addressed.shaped_return_address,
    }


@dataclass(frozen=True, slots=True)
class _Post:
    """What every recipient of one letter or postcard request gets."""

    channel: Channel
    documents: tuple[Document, ...]
    options: LetterOptions
    pages: int
    price: Decimal
    file_url: str
    # Fields of the request each recipient's answer repeats (a letter's print options).
    echoed: dict[str, Any]


async def _post_answer(
    found: Services,
    account: AccountRecord,
    recipients: list[PostRecipient],
    post: _Post,
    *,
    send: bool,
) -> JSONResponse:
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    sender = await default_sender_of(found, account) if send else ""
    postcard = post.channel is Channel.POSTCARD
    items = []
    for recipient in recipients:
        addressed = await _addressed(
            found, account, recipient, user_id, postcard=postcard, priority=post.options.priority
        )
        item = {**_recipient_item(recipient, addressed, post.pages, post.price), **post.echoed}
        store = None
        if send and addressed.status == "SUCCESS":
            address = address_of(addressed.recipient)
            content = PostContent(
                documents=tuple(document_ref(d) for d in post.documents),
                address=address,
                return_address=None
                if addressed.return_address is None
                else address_of(addressed.return_address),
                template_used=post.options.template_used,
                colour=post.options.colour,
                duplex=post.options.duplex,
                priority=post.options.priority,
                pages=post.pages,
            )
            store = {
                "to": recipient_label(address),
                "sender": sender,
                "schedule": recipient.schedule,
                "custom_string": recipient.custom_string,
                "channel": post.channel,
                "content": content,
            }
        items.append(
            await _sent_item(
                found,
                account,
                item,
                price_key="post_price",
                pages_key="post_pages",
                file_url=post.file_url,
                user_id=user_id,
                store=store,
            )
        )
    data = {
        **_totals(items, "post_price"),
        "recipients": items,
        "_currency": rendering.currency(found.settings.currency),
    }
    return envelope(data, msg="Messages queued for delivery." if send else "Here are some results.")


async def _letter(found: Services, account: AccountRecord, body: PostLetter) -> _Post:
    document = await load_document(
        found.media, account.id, body.file_url, DocumentKind.LETTER, field="file_url"
    )
    options = LetterOptions(
        template_used=bool(body.template_used),
        colour=bool(body.colour),
        duplex=bool(body.duplex),
        priority=bool(body.priority_post),
    )
    pages = letter_pages(document.info, options)
    return _Post(
        channel=Channel.LETTER,
        documents=(document,),
        options=options,
        pages=pages,
        price=price_of(DocumentKind.LETTER, pages, options, document_prices(found.settings)),
        file_url=body.file_url,
        echoed={
            "colour": body.colour,
            "duplex": body.duplex,
            "priority_post": body.priority_post,
            "template_used": body.template_used,
        },
    )


@router.post("/post/letters/send", summary="Send a letter to each address")
async def send_letter(body: PostLetter, account: AccountDep, found: ServicesDep) -> JSONResponse:
    post = await _letter(found, account, body)
    return await _post_answer(found, account, body.recipients, post, send=True)


@router.post("/post/letters/price", summary="Calculate the price of a letter to each address")
async def price_letter(body: PostLetter, account: AccountDep, found: ServicesDep) -> JSONResponse:
    post = await _letter(found, account, body)
    return await _post_answer(found, account, body.recipients, post, send=False)


async def _postcard(found: Services, account: AccountRecord, body: PostPostcard) -> _Post:
    files = [
        await load_document(found.media, account.id, url, DocumentKind.POSTCARD, field="file_urls")
        for url in body.file_urls
    ]
    try:
        postcard_sides([f.pdf for f in files])
    except DocumentRejected as rejected:
        raise DocumentRefused(rejected, field="file_urls") from None
    options = LetterOptions()
    return _Post(
        channel=Channel.POSTCARD,
        documents=tuple(files),
        options=options,
        pages=2,
        price=price_of(DocumentKind.POSTCARD, 2, options, document_prices(found.settings)),
        file_url=body.file_urls[0],
        echoed={},
    )


@router.post("/post/postcards/send", summary="Send a postcard to each address")
async def send_postcard(
    body: PostPostcard, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    post = await _postcard(found, account, body)
    return await _post_answer(found, account, body.recipients, post, send=True)


@router.post("/post/postcards/price", summary="Calculate the price of a postcard to each address")
async def price_postcard(
    body: PostPostcard, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    post = await _postcard(found, account, body)
    return await _post_answer(found, account, body.recipients, post, send=False)


# History and receipts ------------------------------------------------------------------------


def _status_fields(message: MessageRecord) -> dict[str, Any]:
    gateway = gateway_status(message.status)
    return {
        "status_code": str(gateway.status_code),
        "status_text": gateway.error_text,
        "status": gateway.status,
    }


def _fax_history_item(message: MessageRecord, user_id: int, found: Services) -> dict[str, Any]:
    content = load_content(FaxContent, message.content)
    report = load_content(FaxResult, message.result)
    pages = content.pages if content is not None else 0
    return {
        "to": message.recipient,
        "from": message.sender,
        "list_id": None,
        "message_id": message.id,
        "message_pages": pages,
        "pages_sent": None if report is None else report.pages_sent,
        "message_price": rendering.price(
            price_of(DocumentKind.FAX, pages, LetterOptions(), document_prices(found.settings))
        ),
        "custom_string": message.customer_data or "",
        "schedule": unix(message.send_at) or 0,
        "date_added": unix(message.created_at) or 0,
        "country": rendering.country_of(message.recipient),
        "carrier": "",
        "user_id": user_id,
        "subaccount_id": user_id,
        **_status_fields(message),
    }


def _post_history_item(message: MessageRecord, user_id: int, found: Services) -> dict[str, Any]:
    content = load_content(PostContent, message.content)
    item: dict[str, Any] = {
        "message_id": message.id,
        "custom_string": message.customer_data or "",
        "schedule": unix(message.send_at) or 0,
        "date_added": unix(message.created_at) or 0,
        "user_id": user_id,
        "subaccount_id": user_id,
        **_status_fields(message),
    }
    if content is None:
        return item
    kind = DocumentKind(message.channel)
    address = content.address
    return {
        **item,
        "address_name": address.name,
        "address_line_1": address.line_1,
        "address_line_2": address.line_2,
        "address_city": address.city,
        "address_state": address.state,
        "address_postal_code": address.postal_code,
        "address_country": address.country,
        "post_pages": content.pages,
        "post_price": rendering.price(
            price_of(kind, content.pages, content.options, document_prices(found.settings))
        ),
        "colour": int(content.colour),
        "duplex": int(content.duplex),
        "priority_post": int(content.priority),
        "template_used": int(content.template_used),
    }


def _fax_receipt(message: MessageRecord, _user_id: int) -> dict[str, Any]:
    gateway = gateway_status(message.status)
    report = load_content(FaxResult, message.result)
    return {
        "timestamp_send": str(unix(message.created_at) or 0),
        "timestamp": str(unix(message.status_at) or 0),
        "message_id": message.id,
        "status_code": str(gateway.status_code),
        "status_text": gateway.error_text,
        "error_code": str(gateway.error_code) if gateway.status_code != 201 else None,
        "error_text": message.error_detail if gateway.status_code != 201 else None,
        "custom_string": message.customer_data or "",
        "message_type": "fax",
        "pages_sent": None if report is None else report.pages_sent,
    }


def _post_export_values(message: MessageRecord) -> list[Any]:
    content = load_content(PostContent, message.content)
    if content is None:
        return ["", "", "", "", "", 0]
    address = content.address
    return [
        address.name,
        address.line_1,
        address.city,
        address.postal_code,
        address.country,
        content.pages,
    ]


_POST_EXPORT_COLUMNS = (
    "address_name",
    "address_line_1",
    "address_city",
    "address_postal_code",
    "address_country",
    "post_pages",
)

router.include_router(
    channel_router(
        ChannelRoutes(
            channel=Channel.FAX,
            prefix="/fax",
            name="fax",
            label="Fax",
            history=lambda _account, found: (
                lambda message, user_id: _fax_history_item(message, user_id, found)
            ),
            receipt=_fax_receipt,
        )
    )
)
for _channel, _prefix, _label in (
    (Channel.LETTER, "/post/letters", "Letter"),
    (Channel.POSTCARD, "/post/postcards", "Postcard"),
):
    router.include_router(
        channel_router(
            ChannelRoutes(
                channel=_channel,
                prefix=_prefix,
                name=_prefix.strip("/").replace("/", "_"),
                label=_label,
                history=lambda _account, found: (
                    lambda message, user_id: _post_history_item(message, user_id, found)
                ),
                export_columns=_POST_EXPORT_COLUMNS,
                export_values=_post_export_values,
            )
        )
    )
