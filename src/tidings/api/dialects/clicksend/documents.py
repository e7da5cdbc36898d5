"""ClickSend's fax and post: ``/fax/price``, ``/post/letters/price``, ``/post/postcards/price``.

Each request names one file (``file_url``: a URL, one of our upload URLs, or a media id) that
is fetched once under the SSRF guard, converted to PDF if it is not one, and checked as the
channel takes it; a file that cannot be sent refuses the whole request (INVALID_MEDIA_FILE).
Each recipient then gets its own status: a fax number that is no number, an address that
cannot go in an envelope window, a return address the account does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import clicksend_router, list_by_number
from tidings.api.dialects.clicksend.errors import envelope
from tidings.api.dialects.clicksend.post import return_address_for, shape_return_address
from tidings.api.dialects.clicksend.schemas import (
    FaxMessage,
    FaxMessages,
    PostLetter,
    PostPostcard,
    PostRecipient,
)
from tidings.api.state import Services
from tidings.core import lists
from tidings.core import return_addresses as return_address_core
from tidings.core.aliases import AliasKind, number_for
from tidings.core.documents import (
    Document,
    DocumentKind,
    DocumentRefused,
    LetterOptions,
    document_prices,
    letter_pages,
    load_document,
    price_of,
)
from tidings.core.errors import NotFound
from tidings.documents.address import PostalAddress
from tidings.documents.errors import DocumentRejected
from tidings.documents.letter import check_addresses, draw_address_field
from tidings.documents.pdf import A4, A6_LANDSCAPE
from tidings.documents.postcard import ADDRESS_BLOCK, postcard_sides
from tidings.documents.printing import new_canvas
from tidings.phone import InvalidNumber, normalize_number
from tidings.store.records import AccountRecord

router = clicksend_router()


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


@router.post("/fax/price", summary="Calculate the price of a fax to each number")
async def price_fax(body: FaxMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    document = await load_document(
        found.media, account.id, body.file_url, DocumentKind.FAX, field="file_url"
    )
    items = await _fax_items(found, account, body, document)
    data = {
        **_totals(items, "message_price"),
        "messages": items,
        "_currency": rendering.currency(found.settings.currency),
    }
    return envelope(data, msg="Here are some results.")


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


@router.post("/post/letters/price", summary="Calculate the price of a letter to each address")
async def price_letter(body: PostLetter, account: AccountDep, found: ServicesDep) -> JSONResponse:
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
    price = price_of(DocumentKind.LETTER, pages, options, document_prices(found.settings))
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    items = []
    for recipient in body.recipients:
        addressed = await _addressed(
            found, account, recipient, user_id, postcard=False, priority=options.priority
        )
        items.append(
            {
                **_recipient_item(recipient, addressed, pages, price),
                "colour": body.colour,
                "duplex": body.duplex,
                "priority_post": body.priority_post,
                "template_used": body.template_used,
            }
        )
    data = {
        **_totals(items, "post_price"),
        "recipients": items,
        "_currency": rendering.currency(found.settings.currency),
    }
    return envelope(data, msg="Here are some results.")


@router.post("/post/postcards/price", summary="Calculate the price of a postcard to each address")
async def price_postcard(
    body: PostPostcard, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    files = [
        await load_document(found.media, account.id, url, DocumentKind.POSTCARD, field="file_urls")
        for url in body.file_urls
    ]
    try:
        postcard_sides([f.pdf for f in files])
    except DocumentRejected as rejected:
        raise DocumentRefused(rejected, field="file_urls") from None
    price = price_of(DocumentKind.POSTCARD, 2, LetterOptions(), document_prices(found.settings))
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    items = []
    for recipient in body.recipients:
        addressed = await _addressed(
            found, account, recipient, user_id, postcard=True, priority=False
        )
        items.append(_recipient_item(recipient, addressed, 2, price))
    data = {
        **_totals(items, "post_price"),
        "recipients": items,
        "_currency": rendering.currency(found.settings.currency),
    }
    return envelope(data, msg="Here are some results.")
