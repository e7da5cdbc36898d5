"""Driver-level bulk inserts store what SQLAlchemy would store, and fail as it would fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from tidings.core import accounts
from tidings.core.contacts import new_contact_row
from tidings.store.driver import BulkStatement, insert_many
from tidings.store.engine import Database
from tidings.store.ids import new_ids
from tidings.store.models import contacts

AT = datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=UTC)


def contact_rows(account_id: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    helsinki = timezone(timedelta(hours=2))
    rows = []
    for n, contact_id in enumerate(new_ids(count)):
        fields = {"phone": f"+35840{start + n:07d}", "first_name": f"Contact {n}"}
        # The same instant in another zone every other row: stored as UTC like the rest.
        rows.append(
            new_contact_row(
                contact_id, account_id, fields, AT if n % 2 else AT.astimezone(helsinki)
            ).as_row()
        )
    return rows


# Both sides of the size at which PostgreSQL switches from an executemany to a COPY.
@pytest.mark.parametrize("count", [3, 200])
async def test_rows_are_stored_with_their_types_and_a_duplicate_is_an_integrity_error(
    database: Database, count: int
) -> None:
    account = await accounts.create_account(database, "Acme", region="FI")
    rows = contact_rows(account.id, count)
    async with database.write() as connection:
        await insert_many(connection, contacts, rows)
    async with database.read() as connection:
        stored = (
            await connection.execute(
                select(contacts.c.phone, contacts.c.created_at, contacts.c.first_name)
                .where(contacts.c.account_id == account.id)
                .order_by(contacts.c.phone)
            )
        ).all()
    assert [tuple(row) for row in stored] == [(row["phone"], AT, row["first_name"]) for row in rows]

    # One phone again, among new ones: the whole insert fails, as SQLAlchemy's would, and
    # its transaction leaves nothing behind.
    again = contact_rows(account.id, count, start=count)
    again[-1] = {**contact_rows(account.id, 1)[0]}
    with pytest.raises(IntegrityError):
        async with database.write() as connection:
            await insert_many(connection, contacts, again)
    async with database.read() as connection:
        total = len(
            (
                await connection.execute(
                    select(contacts.c.id).where(contacts.c.account_id == account.id)
                )
            ).all()
        )
    assert total == count


async def test_empty_values_are_stored_as_empty_whether_every_row_or_only_some_leave_them_out(
    database: Database,
) -> None:
    # SQLite writes a column that every row of a batch leaves empty as a NULL literal, and
    # binds it otherwise: both must store the same rows.
    account = await accounts.create_account(database, "Acme", region="FI")
    rows = contact_rows(account.id, 4)
    for n, row in enumerate(rows):
        row["last_name"] = None
        row["email"] = None if n % 2 else f"c{n}@example.com"
        row["error_since"] = None if n % 2 else AT
    async with database.write() as connection:
        await insert_many(connection, contacts, rows)
    assert await _stored(database, account.id) == [
        (row["phone"], None, row["email"], row["error_since"]) for row in rows
    ]

    change = BulkStatement(
        update(contacts)
        .where(contacts.c.id == bindparam("b_id"))
        .values(
            last_name=bindparam("b_last_name"),
            email=bindparam("b_email"),
            error_since=bindparam("b_since"),
        )
    )
    # Every row empties email and error_since; some set a last name.
    async with database.write() as connection:
        await change.run(
            connection,
            [
                {
                    "b_id": row["id"],
                    "b_last_name": None if n % 2 else "Virtanen",
                    "b_email": None,
                    "b_since": None,
                }
                for n, row in enumerate(rows)
            ],
        )
    assert await _stored(database, account.id) == [
        (row["phone"], None if n % 2 else "Virtanen", None, None) for n, row in enumerate(rows)
    ]


async def _stored(database: Database, account_id: str) -> list[tuple[Any, ...]]:
    async with database.read() as connection:
        result = await connection.execute(
            select(contacts.c.phone, contacts.c.last_name, contacts.c.email, contacts.c.error_since)
            .where(contacts.c.account_id == account_id)
            .order_by(contacts.c.phone)
        )
        return [tuple(row) for row in result]
