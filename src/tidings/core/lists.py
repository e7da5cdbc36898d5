"""Contact lists (groups): create, rename, delete, membership, and reading members for sending.

A list and the contacts in it always belong to the same account: every operation checks both
against the acting account before it changes anything.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.accounts import utcnow
from tidings.core.contacts import (
    PAGE_LIMIT_MAX,
    as_listed,
    clean_contact_fields,
    contact_properties,
    listed_fields,
    listed_view,
)
from tidings.core.mailbox import NumberedPage, check_page, page_offset
from tidings.errors import AlreadyExists, InvalidRequest, NotFound
from tidings.store import contacts as contact_store
from tidings.store import optout as optout_store
from tidings.store.contacts import ContactListRecord, ContactRecord
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord

MAX_LIST_NAME = 200
RECIPIENT_PAGE_ROWS = 1_000


def _clean_name(name: str) -> str:
    text = name.strip()
    if not 1 <= len(text) <= MAX_LIST_NAME:
        raise InvalidRequest(f"a list name has 1 to {MAX_LIST_NAME} characters", field="name")
    return text


async def _require_list(
    connection: AsyncConnection, account: AccountRecord, list_id: str
) -> ContactListRecord:
    found = await contact_store.find_list(connection, account.id, list_id)
    if found is None:
        raise NotFound(f"no list {list_id}")
    return found


async def _require_contact(
    connection: AsyncConnection, account: AccountRecord, contact_id: str
) -> ContactRecord:
    found = await contact_store.find_contact(connection, account.id, contact_id)
    if found is None:
        raise NotFound(f"no contact {contact_id}")
    return found


async def create_list(database: Database, account: AccountRecord, name: str) -> ContactListRecord:
    text = _clean_name(name)
    now = utcnow()
    try:
        async with database.write() as connection:
            return await contact_store.insert_list(
                connection,
                id=new_id(),
                account_id=account.id,
                name=text,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        raise AlreadyExists(f"a list named {text!r} already exists") from None


async def ensure_list(database: Database, account: AccountRecord, name: str) -> ContactListRecord:
    """The account's list called ``name``, created when there is none."""
    text = _clean_name(name)
    async with database.read() as connection:
        found = await contact_store.find_list_by_name(connection, account.id, text)
    if found is not None:
        return found
    try:
        return await create_list(database, account, text)
    except AlreadyExists:  # created meanwhile by another request
        async with database.read() as connection:
            found = await contact_store.find_list_by_name(connection, account.id, text)
        if found is None:  # pragma: no cover - deleted again in between
            raise
        return found


async def get_list(database: Database, account: AccountRecord, list_id: str) -> ContactListRecord:
    async with database.read() as connection:
        return await _require_list(connection, account, list_id)


async def find_list_by_name(
    database: Database, account: AccountRecord, name: str
) -> ContactListRecord:
    async with database.read() as connection:
        found = await contact_store.find_list_by_name(connection, account.id, name.strip())
    if found is None:
        raise NotFound(f"no list named {name!r}")
    return found


async def rename_list(
    database: Database, account: AccountRecord, list_id: str, name: str
) -> ContactListRecord:
    text = _clean_name(name)
    try:
        async with database.write() as connection:
            if not await contact_store.rename_list(
                connection, account.id, list_id, name=text, at=utcnow()
            ):
                raise NotFound(f"no list {list_id}")
            return await _require_list(connection, account, list_id)
    except IntegrityError:
        raise AlreadyExists(f"a list named {text!r} already exists") from None


async def delete_list(database: Database, account: AccountRecord, list_id: str) -> None:
    """Delete the list; its contacts stay."""
    async with database.write() as connection:
        if not await contact_store.delete_list(connection, account.id, list_id):
            raise NotFound(f"no list {list_id}")


async def search_lists(
    database: Database,
    account: AccountRecord,
    *,
    name: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[ContactListRecord], str | None]:
    """A page of lists (with member counts) and the next page's cursor (None at the end)."""
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidRequest(f"limit is 1 to {PAGE_LIMIT_MAX}", field="limit")
    async with database.read() as connection:
        page = await contact_store.search_lists(
            connection, account.id, limit=limit + 1, name=name or None, after_id=cursor
        )
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None


async def add_members(
    database: Database, account: AccountRecord, list_id: str, contact_ids: Sequence[str]
) -> int:
    """Put the contacts in the list; returns how many were not there yet.

    Nothing changes when one of them is not a contact of the account.
    """
    wanted = list(dict.fromkeys(contact_ids))
    if not wanted:
        raise InvalidRequest("give at least one contact", field="contact_ids")
    async with database.write() as connection:
        await _require_list(connection, account, list_id)
        for contact_id in wanted:
            await _require_contact(connection, account, contact_id)
        return await contact_store.add_members(connection, list_id, wanted, at=utcnow())


async def remove_member(
    database: Database, account: AccountRecord, list_id: str, contact_id: str
) -> None:
    async with database.write() as connection:
        await _require_list(connection, account, list_id)
        if not await contact_store.remove_member(connection, list_id, contact_id):
            raise NotFound(f"contact {contact_id} is not in list {list_id}")


async def remove_all_members(database: Database, account: AccountRecord, list_id: str) -> int:
    """Empty the list; returns how many contacts were removed from it."""
    async with database.write() as connection:
        await _require_list(connection, account, list_id)
        return await contact_store.remove_all_members(connection, list_id)


async def copy_member(
    database: Database,
    account: AccountRecord,
    list_id: str,
    contact_id: str,
    target_list_id: str,
    *,
    move: bool = False,
) -> ContactListRecord:
    """Put a member of ``list_id`` in ``target_list_id`` too (or instead, with ``move``).

    The target shows it as the source list does (:func:`tidings.core.contacts.listed_view`).
    Returns the target list. Being in the target already is fine.
    """
    async with database.write() as connection:
        await _require_list(connection, account, list_id)
        await _require_list(connection, account, target_list_id)
        shown = await contact_store.member_fields(connection, list_id, [contact_id])
        if contact_id not in shown:
            raise NotFound(f"contact {contact_id} is not in list {list_id}")
        await contact_store.add_member(connection, target_list_id, contact_id, at=utcnow())
        await contact_store.set_member_fields(
            connection, target_list_id, contact_id, shown[contact_id]
        )
        if move and target_list_id != list_id:
            await contact_store.remove_member(connection, list_id, contact_id)
        return await _require_list(connection, account, target_list_id)


async def move_member(
    database: Database,
    account: AccountRecord,
    list_id: str,
    contact_id: str,
    target_list_id: str,
) -> ContactListRecord:
    return await copy_member(database, account, list_id, contact_id, target_list_id, move=True)


# How a list shows its members (see tidings.core.contacts.listed_view) -------------------------


async def listed_members(
    database: Database, list_id: str, members: Sequence[ContactRecord]
) -> list[ContactRecord]:
    """The members as ``list_id`` shows them: its own fields where it has set them, the
    contact's where not. The caller has checked that the list and members are the account's."""
    async with database.read() as connection:
        return await as_listed(connection, [list_id], members)


async def listed_member(
    database: Database, account: AccountRecord, list_id: str, contact_id: str
) -> ContactRecord:
    """One member as the account's list shows it; NotFound unless it is in the list."""
    async with database.read() as connection:
        await _require_list(connection, account, list_id)
        contact = await contact_store.find_contact(connection, account.id, contact_id)
        shown = await contact_store.member_fields(connection, list_id, [contact_id])
    if contact is None or contact_id not in shown:
        raise NotFound(f"contact {contact_id} is not in list {list_id}")
    return listed_view(contact, shown[contact_id])


async def set_listed_fields(
    database: Database,
    account: AccountRecord,
    list_id: str,
    member: ContactRecord,
    changes: Mapping[str, Any],
) -> ContactRecord:
    """Change how ``list_id`` shows ``member`` (as it shows it now), leaving the contact and the
    other lists as they are. ``changes`` are contact fields without ``phone``; ``properties``
    replaces the whole set."""
    fields = clean_contact_fields(changes, region=account.region)
    properties = fields.pop("properties", contact_properties(member))
    updated = dataclasses.replace(
        member, **fields, properties=json.dumps(properties, ensure_ascii=False)
    )
    async with database.write() as connection:
        await _require_list(connection, account, list_id)
        stored = listed_fields(updated)
        if not await contact_store.set_member_fields(connection, list_id, member.id, stored):
            raise NotFound(f"contact {member.id} is not in list {list_id}")
    return updated


async def list_recipients(
    database: Database,
    account_id: str,
    *,
    include_list_ids: Sequence[str],
    exclude_list_ids: Sequence[str] = (),
    only_active: bool = True,
    page_rows: int = RECIPIENT_PAGE_ROWS,
) -> AsyncIterator[list[ContactRecord]]:
    """The contacts to send to for a set of lists, page by page in contact id order, each as
    its first list shows it (:func:`tidings.core.contacts.as_listed`).

    A contact in several included lists comes once; one in any excluded list never comes.
    Each page is its own short read, so a campaign starts on the first page of a 100,000
    member list without building the whole list in memory. The caller has checked that the
    lists belong to ``account_id`` (a foreign list id simply yields nobody).
    """
    after_id: str | None = None
    while True:
        async with database.read() as connection:
            page = await contact_store.contacts_in_lists(
                connection,
                account_id,
                include_list_ids=include_list_ids,
                exclude_list_ids=exclude_list_ids,
                only_active=only_active,
                after_id=after_id,
                limit=page_rows,
            )
            page = await as_listed(connection, include_list_ids, page)
        if page:
            yield page
        if len(page) < page_rows:
            return
        after_id = page[-1].id


async def numbered_lists(
    database: Database,
    account: AccountRecord,
    *,
    page: int = 1,
    per_page: int = 15,
    name: str | None = None,
) -> NumberedPage[ContactListRecord]:
    """One numbered page of the account's lists (with member counts), and the total."""
    check_page(page, per_page)
    async with database.read() as connection:
        items, total = await contact_store.numbered_lists(
            connection, account.id, offset=page_offset(page, per_page), limit=per_page, name=name
        )
    return NumberedPage(items, total, page, per_page)


async def numbered_members(
    database: Database, account: AccountRecord, list_id: str, *, page: int = 1, per_page: int = 15
) -> NumberedPage[ContactRecord]:
    """One numbered page of a list's contacts, and the total."""
    check_page(page, per_page)
    async with database.read() as connection:
        await _require_list(connection, account, list_id)
        items, total = await contact_store.numbered_members(
            connection, account.id, list_id, offset=page_offset(page, per_page), limit=per_page
        )
    return NumberedPage(items, total, page, per_page)


async def remove_opted_out_members(
    database: Database, account: AccountRecord, list_id: str, opt_out_list_id: str
) -> int:
    """Remove from a list the contacts that may not be messaged: those in the opt-out list
    (ClickSend keeps opt-outs as a list) and those opted out account-wide or blocked in the
    registry (``core/optout.py``; an opt-out from one sender only does not count, that number
    may still hear from the others). Returns how many were removed."""
    removed = 0
    async with database.write() as connection:
        await _require_list(connection, account, list_id)
        await _require_list(connection, account, opt_out_list_id)
        after: str | None = None
        while True:
            page = await contact_store.contacts_in_lists(
                connection,
                account.id,
                include_list_ids=[list_id],
                only_active=False,
                after_id=after,
                limit=RECIPIENT_PAGE_ROWS,
            )
            if not page:
                return removed
            after = page[-1].id
            suppressed = await optout_store.suppressed_among(
                connection, account.id, [c.phone for c in page], sender=optout_store.ANY_SENDER
            )
            for contact in page:
                if contact.phone in suppressed or await contact_store.is_member(
                    connection, opt_out_list_id, contact.id
                ):
                    removed += await contact_store.remove_member(connection, list_id, contact.id)
