"""tidings records in ClickSend's shapes, with the field types the official SDKs validate.

ClickSend types the same thing differently in different objects (list ids are integers in list
and contact objects but strings in message objects; ``status_code`` is an integer in a receipt
but a string in history), and the 6.x SDK checks every one strictly, so each shape is built here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import phonenumbers
import pycountry

from tidings.core.contacts import contact_properties
from tidings.core.mailbox import NumberedPage
from tidings.events.formats.clicksend import (
    GATEWAY_STATUS,
    gateway_status,
    receipt_push,
    unix,
)
from tidings.store.contacts import ContactListRecord, ContactRecord
from tidings.store.records import MessageRecord

_CURRENCY_SIGNS = {"AUD": "$", "USD": "$", "NZD": "$", "CAD": "$", "EUR": "€", "GBP": "£"}


def statuses_named(name: str) -> tuple[str, ...]:
    """The tidings statuses ClickSend calls ``name`` (case-insensitive)."""
    wanted = name.strip().lower()
    return tuple(sorted(s for s, g in GATEWAY_STATUS.items() if g.status.lower() == wanted))


def country_of(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)


def currency(code: str) -> dict[str, str]:
    found = pycountry.currencies.get(alpha_3=code)
    return {
        "currency_name_short": code,
        "currency_prefix_d": _CURRENCY_SIGNS.get(code, code),
        "currency_prefix_c": "c",
        "currency_name_long": code if found is None else str(found.name),
    }


def price(value: Decimal) -> str:
    return f"{value:.4f}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message of a send or price answer, before it is shaped."""

    to: str
    body: str
    sender: str
    schedule: int
    custom_string: str | None
    status: str
    message_id: str | None = None
    parts: int = 0
    list_id: int | None = None
    contact_id: int | None = None


def sent_message(
    item: Outgoing, *, at: datetime, user_id: int, price_per_part: Decimal, as_text: bool = False
) -> dict[str, Any]:
    """A message of a send answer (6.x ``SmsSendSms``), or of a price answer (``Sms``, whose
    ``date`` and ``schedule`` are strings: ``as_text``)."""
    date = unix(at) or 0
    return {
        "direction": "out",
        "date": str(date) if as_text else date,
        "to": item.to,
        "body": item.body,
        "from": item.sender,
        "schedule": str(item.schedule) if as_text else item.schedule,
        "message_id": item.message_id,
        "message_parts": item.parts,
        "message_price": price(price_per_part * item.parts),
        "from_email": None,
        "list_id": None if item.list_id is None else str(item.list_id),
        "custom_string": item.custom_string or "",
        "contact_id": None if item.contact_id is None else str(item.contact_id),
        "user_id": user_id,
        "subaccount_id": user_id,
        "is_shared_system_number": False,
        "country": country_of(item.to),
        "carrier": "",
        "status": item.status,
    }


def history_message(
    message: MessageRecord, user_id: int, *, price_per_part: Decimal, username: str
) -> dict[str, Any]:
    """A message of the history (6.x ``ViewSmsHistoryDataAllOfDataInner``: codes as strings)."""
    gateway = gateway_status(message.status)
    return {
        "direction": message.direction,
        "date": unix(message.created_at),
        "to": message.recipient,
        "body": message.body,
        "from": message.sender,
        "status": gateway.status,
        "schedule": str(unix(message.send_at) or ""),
        "status_code": str(gateway.status_code),
        "status_text": gateway.error_text,
        "error_code": str(gateway.error_code),
        "error_text": message.error_detail or gateway.error_text,
        "message_id": message.id,
        "message_parts": message.parts_count,
        "message_price": price(price_per_part * message.parts_count),
        "from_email": None,
        "list_id": None,
        "custom_string": message.customer_data or "",
        "contact_id": None,
        "user_id": user_id,
        "subaccount_id": user_id,
        "country": country_of(message.recipient),
        "carrier": "",
        "first_name": None,
        "last_name": None,
        "_api_username": username,
    }


def receipt(message: MessageRecord, user_id: int) -> dict[str, Any]:
    """A delivery receipt (``SmsReceipt``: codes as integers), as polled and as pushed."""
    return receipt_push(
        message_id=message.id,
        status=message.status,
        status_at=message.status_at,
        sent_at=message.created_at,
        custom_string=message.customer_data,
        error_detail=message.error_detail,
        user_id=user_id,
        channel=message.channel,
    )


def inbound(message: MessageRecord, original: MessageRecord | None) -> dict[str, Any]:
    """An inbound message (``InboundSms``), with the last message sent to its sender."""
    return {
        "timestamp": unix(message.created_at),
        "from": message.sender,
        "body": message.body,
        "original_body": None if original is None else original.body,
        "original_message_id": None if original is None else original.id,
        "to": message.recipient,
        "custom_string": "" if original is None else original.customer_data or "",
        "message_id": message.id,
        "_keyword": (message.body.split() or [""])[0].upper(),
    }


def contact_list(record: ContactListRecord, number: int) -> dict[str, Any]:
    """A list (``ContactList``: integer ids)."""
    return {
        "list_id": number,
        "list_name": record.name,
        "list_email_id": None,
        "_contacts_count": record.member_count,
        "_import_in_progress": 0,
        "_optout_in_progress": 0,
    }


# ClickSend contact field → tidings contact field; the rest live in the contact's properties.
CONTACT_FIELDS: Mapping[str, str] = {
    "phone_number": "phone",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "fax_number": "fax",
    "organization_name": "organisation",
    "address_line_1": "street",
    "address_city": "city",
    "address_state": "state",
    "address_postal_code": "zip",
    "address_country": "country",
}
CONTACT_PROPERTIES = ("address_line_2", "custom_1", "custom_2", "custom_3", "custom_4")


def contact(
    record: ContactRecord, number: int, *, list_number: int, list_name: str | None
) -> dict[str, Any]:
    """A contact (``Contact``: integer ids, dates as unix seconds)."""
    properties = contact_properties(record)
    shown: dict[str, Any] = {"contact_id": number, "list_id": list_number}
    for theirs, ours in CONTACT_FIELDS.items():
        shown[theirs] = getattr(record, ours)
    for name in CONTACT_PROPERTIES:
        shown[name] = properties.get(name)
    shown.update(
        date_added=unix(record.created_at),
        date_updated=unix(record.updated_at),
        _list_name=list_name,
    )
    return shown


def paginated(
    items: Sequence[Any], *, total: int, page: int, per_page: int, base_url: str
) -> dict[str, Any]:
    """ClickSend's (Laravel's) paginator around one page of items."""
    last_page = max(1, -(-total // per_page))

    def url(number: int) -> str:
        return f"{base_url}?{urlencode({'page': number, 'limit': per_page})}"

    first = (page - 1) * per_page + 1
    return {
        "total": total,
        "per_page": per_page,
        "current_page": page,
        "last_page": last_page,
        "next_page_url": url(page + 1) if page < last_page else None,
        "prev_page_url": url(page - 1) if page > 1 else None,
        "from": first if items else None,
        "to": first + len(items) - 1 if items else None,
        "data": list(items),
    }


def numbered(page: NumberedPage[Any], items: Sequence[Any], base_url: str) -> dict[str, Any]:
    return paginated(
        items, total=page.total, page=page.page, per_page=page.per_page, base_url=base_url
    )
