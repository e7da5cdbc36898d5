"""A bulk insert (COPY on PostgreSQL) is part of its transaction: a rollback leaves nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tidings.core import accounts
from tidings.core.messaging import SendRequest, prepare_send
from tidings.store import messages as message_store
from tidings.store.engine import Database
from tidings.store.models import message_events, messages


async def _count(database: Database) -> tuple[int, int]:
    async with database.read() as connection:
        found = (await connection.execute(select(func.count()).select_from(messages))).scalar()
        events = (
            await connection.execute(select(func.count()).select_from(message_events))
        ).scalar()
    return int(found or 0), int(events or 0)


async def test_a_rolled_back_bulk_insert_as_first_statement_leaves_nothing(
    database: Database,
) -> None:
    account = await accounts.create_account(database, "Acme", region="FI")
    # Enough rows for the bulk path (COPY on PostgreSQL), and nothing else in the transaction
    # before it: that is where the driver had not begun the transaction yet.
    prepared = prepare_send(
        account,
        SendRequest(to=[f"+35840500{i:04d}" for i in range(100)], sender="Tidings", body="x"),
    )

    with pytest.raises(RuntimeError):
        async with database.write() as connection:
            await message_store.insert_messages(
                connection, prepared.message_rows, prepared.event_rows
            )
            raise RuntimeError("something later in the transaction failed")

    assert await _count(database) == (0, 0)
    async with database.write() as connection:
        await message_store.insert_messages(connection, prepared.message_rows, prepared.event_rows)
    assert await _count(database) == (100, 100)
