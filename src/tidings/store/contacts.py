"""Contacts, contact lists and list membership.

Every function takes the owning account id and scopes its query to it, so a caller holding one
account's id can never reach another account's rows. Bulk paths (CSV import) go through the
same driver-level executemany/COPY as the message queue.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.driver import insert_many
from tidings.store.models import contact_lists, contacts, list_members

# Stays well under SQLite's 32,766 bound parameters per statement.
_IN_CHUNK = 5_000


class _Record:
    @classmethod
    def from_row(cls, row: Row[Any]) -> Self:
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ContactRecord(_Record):
    """A contact (``contacts``): its profile, its custom properties (JSON), its delivery
    counters; a new one is made by ``core.contacts.new_contact_row`` and inserted whole."""

    id: str
    account_id: str
    phone: str
    email: str | None
    first_name: str | None
    last_name: str | None
    gender: str | None
    birth_year: int | None
    street: str | None
    zip: str | None
    city: str | None
    state: str | None
    country: str | None
    organisation: str | None
    fax: str | None
    properties: str
    active: bool
    hard_errors_total: int
    hard_errors_current: int
    soft_errors_total: int
    soft_errors_current: int
    failed_messages: int
    last_error: str | None
    error_since: datetime | None
    created_at: datetime
    updated_at: datetime

    def as_row(self) -> dict[str, Any]:
        """The contact as its ``contacts`` row, to insert it."""
        return {name: getattr(self, name) for name in _CONTACT_COLUMNS}


_CONTACT_COLUMNS = tuple(f.name for f in fields(ContactRecord))


@dataclass(frozen=True, slots=True)
class ContactListRecord(_Record):
    id: str
    account_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    member_count: int


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


# Contacts ------------------------------------------------------------------------------------


async def insert_contact(connection: AsyncConnection, contact: ContactRecord) -> ContactRecord:
    created = (
        await connection.execute(insert(contacts).values(**contact.as_row()).returning(contacts))
    ).one()
    return ContactRecord.from_row(created)


async def insert_contacts(connection: AsyncConnection, rows: Sequence[ContactRecord]) -> None:
    """Insert many contacts in one executemany (COPY on PostgreSQL)."""
    await insert_many(connection, contacts, [contact.as_row() for contact in rows])


async def find_contact(
    connection: AsyncConnection, account_id: str, contact_id: str
) -> ContactRecord | None:
    row = (
        await connection.execute(
            select(contacts).where(contacts.c.account_id == account_id, contacts.c.id == contact_id)
        )
    ).one_or_none()
    return None if row is None else ContactRecord.from_row(row)


async def phones_of(
    connection: AsyncConnection, account_id: str, contact_ids: Collection[str]
) -> dict[str, str]:
    """Each of ``contact_ids`` that is the account's, with its phone."""
    if not contact_ids:
        return {}
    result = await connection.execute(
        select(contacts.c.id, contacts.c.phone).where(
            contacts.c.account_id == account_id, contacts.c.id.in_(list(contact_ids))
        )
    )
    return {row.id: row.phone for row in result}


async def find_contact_by_phone(
    connection: AsyncConnection, account_id: str, phone: str
) -> ContactRecord | None:
    row = (
        await connection.execute(
            select(contacts).where(contacts.c.account_id == account_id, contacts.c.phone == phone)
        )
    ).one_or_none()
    return None if row is None else ContactRecord.from_row(row)


async def contacts_by_phone(
    connection: AsyncConnection, account_id: str, phones: Sequence[str]
) -> dict[str, ContactRecord]:
    """The account's contacts among ``phones``, keyed by phone."""
    found: dict[str, ContactRecord] = {}
    for chunk in _chunks(phones):
        result = await connection.execute(
            select(contacts).where(
                contacts.c.account_id == account_id, contacts.c.phone.in_(list(chunk))
            )
        )
        for row in result:
            record = ContactRecord.from_row(row)
            found[record.phone] = record
    return found


async def update_contact(
    connection: AsyncConnection, account_id: str, contact_id: str, **values: Any
) -> ContactRecord | None:
    row = (
        await connection.execute(
            update(contacts)
            .where(contacts.c.account_id == account_id, contacts.c.id == contact_id)
            .values(**values)
            .returning(contacts)
        )
    ).one_or_none()
    return None if row is None else ContactRecord.from_row(row)


async def update_contacts(
    connection: AsyncConnection, account_id: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Apply many updates as one executemany; every row has ``id`` and the same other keys."""
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    statement = (
        update(contacts)
        .where(contacts.c.account_id == account_id, contacts.c.id == bindparam("contact_id"))
        .values({name: bindparam(f"new_{name}") for name in names})
    )
    parameters = [
        {"contact_id": row["id"], **{f"new_{name}": row[name] for name in names}} for row in rows
    ]
    await connection.execute(statement, parameters)


async def delete_contact(connection: AsyncConnection, account_id: str, contact_id: str) -> bool:
    # Memberships go first: SQLite enforces ON DELETE CASCADE only with foreign keys on.
    owned = select(contacts.c.id).where(
        contacts.c.account_id == account_id, contacts.c.id == contact_id
    )
    await connection.execute(delete(list_members).where(list_members.c.contact_id.in_(owned)))
    result = await connection.execute(
        delete(contacts).where(contacts.c.account_id == account_id, contacts.c.id == contact_id)
    )
    return result.rowcount > 0


def _in_list(list_id: str) -> ColumnElement[bool]:
    return exists().where(
        list_members.c.list_id == list_id, list_members.c.contact_id == contacts.c.id
    )


async def search_contacts(
    connection: AsyncConnection,
    account_id: str,
    *,
    limit: int,
    text: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    name: str | None = None,
    list_id: str | None = None,
    after_id: str | None = None,
) -> list[ContactRecord]:
    """The account's contacts in id order, filtered; ``after_id`` continues a previous page.

    ``text`` matches a phone prefix, or a part of the email or either name, ignoring case;
    ``name`` matches a part of the first or last name, ignoring case.
    """
    query = select(contacts).where(contacts.c.account_id == account_id)
    if phone is not None:
        query = query.where(contacts.c.phone == phone)
    if email is not None:
        query = query.where(func.lower(contacts.c.email) == email.lower())
    if name is not None:
        pattern = f"%{_escape_like(name.lower())}%"
        query = query.where(
            or_(
                func.lower(contacts.c.first_name).like(pattern, escape="\\"),
                func.lower(contacts.c.last_name).like(pattern, escape="\\"),
            )
        )
    if text is not None:
        pattern = f"%{_escape_like(text.lower())}%"
        query = query.where(
            or_(
                contacts.c.phone.like(f"{_escape_like(text)}%", escape="\\"),
                func.lower(contacts.c.email).like(pattern, escape="\\"),
                func.lower(contacts.c.first_name).like(pattern, escape="\\"),
                func.lower(contacts.c.last_name).like(pattern, escape="\\"),
            )
        )
    if list_id is not None:
        query = query.where(_in_list(list_id))
    if after_id is not None:
        query = query.where(contacts.c.id > after_id)
    query = query.order_by(contacts.c.id).limit(limit)
    return [ContactRecord.from_row(row) for row in await connection.execute(query)]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def contacts_in_lists(
    connection: AsyncConnection,
    account_id: str,
    *,
    include_list_ids: Sequence[str],
    exclude_list_ids: Sequence[str] = (),
    only_active: bool = True,
    after_id: str | None = None,
    limit: int,
) -> list[ContactRecord]:
    """One page (id order) of the contacts in any of ``include_list_ids`` and in none of
    ``exclude_list_ids``; a contact in several lists appears once."""
    if not include_list_ids:
        return []
    query = select(contacts).where(
        contacts.c.account_id == account_id,
        exists().where(
            list_members.c.contact_id == contacts.c.id,
            list_members.c.list_id.in_(list(include_list_ids)),
        ),
    )
    if exclude_list_ids:
        query = query.where(
            ~exists().where(
                list_members.c.contact_id == contacts.c.id,
                list_members.c.list_id.in_(list(exclude_list_ids)),
            )
        )
    if only_active:
        query = query.where(contacts.c.active.is_(True))
    if after_id is not None:
        query = query.where(contacts.c.id > after_id)
    query = query.order_by(contacts.c.id).limit(limit)
    return [ContactRecord.from_row(row) for row in await connection.execute(query)]


async def record_contact_outcome(
    connection: AsyncConnection,
    account_id: str,
    phone: str,
    *,
    delivered: bool,
    hard: bool,
    error: str | None,
    at: datetime,
) -> bool:
    """Count one final message outcome on the contact with ``phone``.

    False when no contact changed: there is none with that phone, or a delivery found it
    healthy already.

    One UPDATE with column arithmetic, so concurrent receipts never lose a count.
    """
    c = contacts.c
    values: dict[str, Any]
    condition: ColumnElement[bool] = and_(c.account_id == account_id, c.phone == phone)
    if delivered:
        values = {
            "hard_errors_current": 0,
            "soft_errors_current": 0,
            "error_since": None,
            "updated_at": at,
        }
        # A healthy contact (the common case) is not rewritten at every delivery.
        condition = and_(
            condition,
            or_(c.hard_errors_current > 0, c.soft_errors_current > 0, c.error_since.is_not(None)),
        )
    else:
        values = {
            "failed_messages": c.failed_messages + 1,
            "last_error": error,
            "error_since": func.coalesce(
                c.error_since, bindparam("at", at, type_=c.error_since.type)
            ),
            "updated_at": at,
        }
        if hard:
            values["hard_errors_total"] = c.hard_errors_total + 1
            values["hard_errors_current"] = c.hard_errors_current + 1
        else:
            values["soft_errors_total"] = c.soft_errors_total + 1
            values["soft_errors_current"] = c.soft_errors_current + 1
    result = await connection.execute(update(contacts).where(condition).values(**values))
    return result.rowcount > 0


# Lists ---------------------------------------------------------------------------------------


def _member_count() -> Any:
    return (
        select(func.count())
        .where(list_members.c.list_id == contact_lists.c.id)
        .scalar_subquery()
        .label("member_count")
    )


async def insert_list(connection: AsyncConnection, **values: Any) -> ContactListRecord:
    await connection.execute(insert(contact_lists).values(**values))
    found = await find_list(connection, values["account_id"], values["id"])
    assert found is not None
    return found


async def find_list(
    connection: AsyncConnection, account_id: str, list_id: str
) -> ContactListRecord | None:
    row = (
        await connection.execute(
            select(contact_lists, _member_count()).where(
                contact_lists.c.account_id == account_id, contact_lists.c.id == list_id
            )
        )
    ).one_or_none()
    return None if row is None else ContactListRecord.from_row(row)


async def find_list_by_name(
    connection: AsyncConnection, account_id: str, name: str
) -> ContactListRecord | None:
    row = (
        await connection.execute(
            select(contact_lists, _member_count()).where(
                contact_lists.c.account_id == account_id, contact_lists.c.name == name
            )
        )
    ).one_or_none()
    return None if row is None else ContactListRecord.from_row(row)


async def search_lists(
    connection: AsyncConnection,
    account_id: str,
    *,
    limit: int,
    name: str | None = None,
    after_id: str | None = None,
) -> list[ContactListRecord]:
    """The account's lists in id order; ``name`` matches a part of the name, ignoring case."""
    query = select(contact_lists, _member_count()).where(contact_lists.c.account_id == account_id)
    if name is not None:
        pattern = f"%{_escape_like(name.lower())}%"
        query = query.where(func.lower(contact_lists.c.name).like(pattern, escape="\\"))
    if after_id is not None:
        query = query.where(contact_lists.c.id > after_id)
    query = query.order_by(contact_lists.c.id).limit(limit)
    return [ContactListRecord.from_row(row) for row in await connection.execute(query)]


async def rename_list(
    connection: AsyncConnection, account_id: str, list_id: str, *, name: str, at: datetime
) -> bool:
    result = await connection.execute(
        update(contact_lists)
        .where(contact_lists.c.account_id == account_id, contact_lists.c.id == list_id)
        .values(name=name, updated_at=at)
    )
    return result.rowcount > 0


async def delete_list(connection: AsyncConnection, account_id: str, list_id: str) -> bool:
    owned = select(contact_lists.c.id).where(
        contact_lists.c.account_id == account_id, contact_lists.c.id == list_id
    )
    await connection.execute(delete(list_members).where(list_members.c.list_id.in_(owned)))
    result = await connection.execute(
        delete(contact_lists).where(
            contact_lists.c.account_id == account_id, contact_lists.c.id == list_id
        )
    )
    return result.rowcount > 0


async def add_member(
    connection: AsyncConnection, list_id: str, contact_id: str, *, at: datetime
) -> bool:
    """Put the contact in the list; False if it was already there.

    The caller has checked that list and contact belong to the same account.
    """
    values = {"list_id": list_id, "contact_id": contact_id, "added_at": at}
    if connection.dialect.name == "postgresql":
        statement: Any = postgresql.insert(list_members).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(list_members).values(**values).on_conflict_do_nothing()
    result = await connection.execute(statement)
    return result.rowcount > 0


async def add_members(
    connection: AsyncConnection, list_id: str, contact_ids: Sequence[str], *, at: datetime
) -> int:
    """Put many contacts (of the list's account) in the list; returns how many were new."""
    wanted = list(dict.fromkeys(contact_ids))
    present: set[str] = set()
    for chunk in _chunks(wanted):
        result = await connection.execute(
            select(list_members.c.contact_id).where(
                list_members.c.list_id == list_id, list_members.c.contact_id.in_(list(chunk))
            )
        )
        present.update(row[0] for row in result)
    rows = [
        {"list_id": list_id, "contact_id": contact_id, "added_at": at}
        for contact_id in wanted
        if contact_id not in present
    ]
    await insert_many(connection, list_members, rows)
    return len(rows)


async def remove_member(connection: AsyncConnection, list_id: str, contact_id: str) -> bool:
    result = await connection.execute(
        delete(list_members).where(
            and_(list_members.c.list_id == list_id, list_members.c.contact_id == contact_id)
        )
    )
    return result.rowcount > 0


async def member_fields(
    connection: AsyncConnection, list_id: str, contact_ids: Sequence[str]
) -> dict[str, str | None]:
    """How the list shows each of these members (``None``: as the contact itself); members
    only."""
    found: dict[str, str | None] = {}
    for chunk in _chunks(list(dict.fromkeys(contact_ids))):
        rows = await connection.execute(
            select(list_members.c.contact_id, list_members.c.listed_fields).where(
                list_members.c.list_id == list_id, list_members.c.contact_id.in_(list(chunk))
            )
        )
        found.update({row.contact_id: row.listed_fields for row in rows})
    return found


async def set_member_fields(
    connection: AsyncConnection, list_id: str, contact_id: str, shown: str | None
) -> bool:
    """Set how the list shows a member; False if the contact is not in the list."""
    result = await connection.execute(
        update(list_members)
        .where(list_members.c.list_id == list_id, list_members.c.contact_id == contact_id)
        .values(listed_fields=shown)
    )
    return result.rowcount > 0


async def remove_all_members(connection: AsyncConnection, list_id: str) -> int:
    result = await connection.execute(delete(list_members).where(list_members.c.list_id == list_id))
    return result.rowcount


async def is_member(connection: AsyncConnection, list_id: str, contact_id: str) -> bool:
    found = await connection.scalar(
        select(
            exists().where(
                list_members.c.list_id == list_id, list_members.c.contact_id == contact_id
            )
        )
    )
    return bool(found)


# Numbered pages (provider APIs that page by number and report totals) ----------------------


async def numbered_lists(
    connection: AsyncConnection,
    account_id: str,
    *,
    offset: int,
    limit: int,
    name: str | None = None,
) -> tuple[list[ContactListRecord], int]:
    """One page of the account's lists in id order, and how many there are in all."""
    conditions: list[ColumnElement[bool]] = [contact_lists.c.account_id == account_id]
    if name is not None:
        pattern = f"%{_escape_like(name.lower())}%"
        conditions.append(func.lower(contact_lists.c.name).like(pattern, escape="\\"))
    total = (
        await connection.execute(select(func.count()).select_from(contact_lists).where(*conditions))
    ).scalar_one()
    query = (
        select(contact_lists, _member_count())
        .where(*conditions)
        .order_by(contact_lists.c.id)
        .offset(offset)
        .limit(limit)
    )
    rows = await connection.execute(query)
    return [ContactListRecord.from_row(row) for row in rows], int(total)


async def numbered_members(
    connection: AsyncConnection, account_id: str, list_id: str, *, offset: int, limit: int
) -> tuple[list[ContactRecord], int]:
    """One page of a list's contacts in id order, and how many it has in all."""
    conditions = [contacts.c.account_id == account_id, _in_list(list_id)]
    total = (
        await connection.execute(select(func.count()).select_from(contacts).where(*conditions))
    ).scalar_one()
    query = select(contacts).where(*conditions).order_by(contacts.c.id).offset(offset).limit(limit)
    return [ContactRecord.from_row(row) for row in await connection.execute(query)], int(total)
