"""Threads for large sends, per account, in a few statements; contact health folded per batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select

from tidings.core import accounts, contacts
from tidings.core.delivery_health import record_delivery_health
from tidings.core.messaging import SendRequest, accept_messages
from tidings.dispatch.outcomes import StatusChange
from tidings.lifecycle import MessageStatus
from tidings.store.engine import Database
from tidings.store.models import threads

SENDER = "+358409999999"


def numbers(start: int, count: int) -> list[str]:
    return [f"+35840{n:07d}" for n in range(start, start + count)]


@contextmanager
def statements_on(database: Database, table: str) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2]
        if f" {table}" in statement or f'"{table}"' in statement:
            seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def thread_counts(database: Database, account_id: str) -> dict[str, int]:
    async with database.read() as connection:
        result = await connection.execute(
            select(threads.c.their_address, threads.c.message_count).where(
                threads.c.account_id == account_id
            )
        )
        return {address: count for address, count in result}


async def test_a_large_send_files_its_messages_into_threads_in_a_few_statements(
    database: Database,
) -> None:
    account = await accounts.create_account(database, "Acme", region="FI")
    other = await accounts.create_account(database, "Other", region="FI")
    first = numbers(0, 2_000)
    with statements_on(database, "threads") as seen:
        result = await accept_messages(
            database, account, SendRequest(to=first, sender=SENDER, body="Ale alkaa!")
        )
    assert result.accepted == 2_000
    # Not one statement per recipient: a lookup, an insert (in multi-row chunks), no updates.
    assert len(seen) <= 10, len(seen)
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in seen)

    # Half old recipients, half new: the old threads count a second message.
    second = numbers(1_000, 2_000)
    with statements_on(database, "threads") as seen:
        await accept_messages(
            database, account, SendRequest(to=second, sender=SENDER, body="Viimeinen päivä!")
        )
    assert len(seen) <= 10, len(seen)
    counts = await thread_counts(database, account.id)
    assert len(counts) == 3_000
    assert {counts[n] for n in numbers(0, 1_000)} == {1}
    assert {counts[n] for n in numbers(1_000, 1_000)} == {2}
    assert {counts[n] for n in numbers(2_000, 1_000)} == {1}

    # Another account's conversation with the same numbers is its own thread.
    await accept_messages(database, other, SendRequest(to=first[:10], sender=SENDER, body="Hei"))
    assert await thread_counts(database, other.id) == dict.fromkeys(first[:10], 1)
    async with database.read() as connection:
        total = (await connection.execute(select(func.count()).select_from(threads))).scalar()
    assert total == 3_010


def change(
    account_id: str, phone: str, status: MessageStatus, code: str | None, at: datetime
) -> StatusChange:
    return StatusChange(account_id, "M", phone, None, status, code, at)


async def test_contact_health_folds_a_batch_in_order(database: Database) -> None:
    account = await accounts.create_account(database, "Acme", region="FI")
    aino = await contacts.create_contact(database, account, {"phone": "+358401112223"})
    healthy = await contacts.create_contact(database, account, {"phone": "+358401112224"})
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    async with database.write() as connection:
        await record_delivery_health(
            connection,
            [
                change(account.id, aino.phone, MessageStatus.UNDELIVERED, "1", t0),
                change(account.id, aino.phone, MessageStatus.DELIVERED, None, t0 + timedelta(1)),
                change(account.id, aino.phone, MessageStatus.EXPIRED, None, t0 + timedelta(2)),
                change(account.id, aino.phone, MessageStatus.FAILED, "text", t0 + timedelta(3)),
                change(account.id, healthy.phone, MessageStatus.DELIVERED, None, t0),
                change(account.id, "+358401119999", MessageStatus.UNDELIVERED, "1", t0),
            ],
        )
    after = await contacts.get_contact(database, account, aino.id)
    assert after.failed_messages == 2  # "failed" says nothing about the number
    assert (after.hard_errors_total, after.hard_errors_current) == (1, 0)
    assert (after.soft_errors_total, after.soft_errors_current) == (1, 1)
    assert after.last_error == "expired"
    assert after.error_since == t0 + timedelta(2)
    untouched = await contacts.get_contact(database, account, healthy.id)
    assert untouched.updated_at == healthy.updated_at  # a healthy contact is not rewritten

    # A hard failure adds to the current run; a later delivery ends it, totals stay.
    async with database.write() as connection:
        await record_delivery_health(
            connection,
            [change(account.id, aino.phone, MessageStatus.UNDELIVERED, "13", t0 + timedelta(4))],
        )
    worse = await contacts.get_contact(database, account, aino.id)
    assert (worse.hard_errors_current, worse.soft_errors_current) == (1, 1)
    assert (worse.last_error, worse.error_since) == ("13", t0 + timedelta(2))
    async with database.write() as connection:
        await record_delivery_health(
            connection,
            [change(account.id, aino.phone, MessageStatus.DELIVERED, None, t0 + timedelta(5))],
        )
    recovered = await contacts.get_contact(database, account, aino.id)
    assert (recovered.hard_errors_current, recovered.soft_errors_current) == (0, 0)
    assert recovered.error_since is None
    assert (recovered.hard_errors_total, recovered.soft_errors_total) == (2, 1)
    assert recovered.failed_messages == 3
