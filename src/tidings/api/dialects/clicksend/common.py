"""What the ClickSend routes share: the router factory, paging parameters and id lookups.

List, contact and account ids are integers ClickSend clients expect, handed out by
``core.aliases`` and resolved back to tidings ids before every call, which then checks the
acting account as usual (another account's number is simply not found).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from tidings.api.dialects.clicksend.errors import ClickSendRoute
from tidings.api.state import Services
from tidings.core import contacts, lists
from tidings.core.aliases import AliasKind, target_of
from tidings.errors import NotFound
from tidings.store.contacts import ContactListRecord, ContactRecord
from tidings.store.records import AccountRecord

DEFAULT_PAGE_SIZE = 15
MAX_PAGE_SIZE = 1000

PageQuery = Annotated[int, Query(ge=1)]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def clicksend_router(prefix: str = "") -> APIRouter:
    """A router whose every answer, errors and authentication included, is ClickSend's."""
    return APIRouter(prefix=prefix, tags=["clicksend"], route_class=ClickSendRoute)


def page_url(request: Request) -> str:
    return str(request.url.replace(query=None))


async def list_by_number(found: Services, account: AccountRecord, number: int) -> ContactListRecord:
    """The caller's list with this ClickSend number (NotFound for another account's)."""
    try:
        target = await target_of(found.database, AliasKind.LIST, number)
    except NotFound:
        raise NotFound(f"no list {number}") from None
    try:
        return await lists.get_list(found.database, account, target)
    except NotFound:
        raise NotFound(f"no list {number}") from None


async def contact_in_list(
    found: Services, account: AccountRecord, contact_number: int, contact_list: ContactListRecord
) -> ContactRecord:
    missing = NotFound(f"no contact {contact_number} in this list")
    try:
        target = await target_of(found.database, AliasKind.CONTACT, contact_number)
        record = await contacts.get_contact(found.database, account, target)
    except NotFound:
        raise missing from None
    page, _ = await contacts.search_contacts(
        found.database, account, list_id=contact_list.id, phone=record.phone, limit=1
    )
    if not page or page[0].id != record.id:
        raise missing
    return record
