"""What the ClickSend routes share: the router factory, paging parameters and id lookups.

List, contact and account ids are integers ClickSend clients expect, handed out by
``core.aliases`` and resolved back to tidings ids before every call, which then checks the
acting account as usual (another account's number is simply not found).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request

from tidings.api.dialects.clicksend.errors import ClickSendRoute
from tidings.api.state import Services
from tidings.core import lists
from tidings.core.aliases import AliasKind, numbers_for, target_of
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


# In ClickSend each list holds its own contacts, so a contact_id names a contact as one list
# holds it: the same number in two lists has two ids, and each list its own names for it.


def _list_contact(list_id: str, contact_id: str) -> str:
    return f"{list_id}/{contact_id}"


async def contact_numbers(
    found: Services, list_id: str, contact_ids: Sequence[str]
) -> dict[str, int]:
    """The ClickSend contact_id of each of these contacts in this list."""
    numbers = await numbers_for(
        found.database,
        AliasKind.LIST_CONTACT,
        [_list_contact(list_id, contact_id) for contact_id in contact_ids],
    )
    return {contact_id: numbers[_list_contact(list_id, contact_id)] for contact_id in contact_ids}


async def contact_by_number(
    found: Services, account: AccountRecord, number: int
) -> tuple[str, ContactRecord]:
    """The list a ClickSend contact_id is in, and the contact as that list shows it."""
    try:
        target = await target_of(found.database, AliasKind.LIST_CONTACT, number)
        list_id, _, contact_id = target.partition("/")
        return list_id, await lists.listed_member(found.database, account, list_id, contact_id)
    except NotFound:
        raise NotFound(f"no contact {number}") from None


async def contact_in_list(
    found: Services, account: AccountRecord, number: int, contact_list: ContactListRecord
) -> ContactRecord:
    """The contact with this ClickSend contact_id, as ``contact_list`` shows it."""
    missing = NotFound(f"no contact {number} in this list")
    try:
        list_id, record = await contact_by_number(found, account, number)
    except NotFound:
        raise missing from None
    if list_id != contact_list.id:
        raise missing
    return record
