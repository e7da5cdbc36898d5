"""Messages (the queue), their parts and status history, and idempotency records."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect, Table, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import (
    UTCDateTime,
    idempotency,
    message_events,
    message_parts,
    messages,
)
from tidings.store.records import MessageEventRecord, MessagePartRecord, MessageRecord
from tidings.store.threads import file_into_threads


@dataclass(frozen=True, slots=True)
class _InsertPlan:
    """A compiled INSERT of some columns of a table for one dialect, with its converters."""

    sql: str
    columns: tuple[str, ...]
    read_row: Callable[[Mapping[str, Any]], Any]
    # (position, bind processor) of the columns whose values the type converts.
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]


@functools.lru_cache(maxsize=256)
def _insert_plan(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _InsertPlan | None:
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    order = compiled.positiontup
    if order is None:  # pragma: no cover - both supported drivers take positional parameters
        return None
    converters = []
    for index, name in enumerate(order):
        column_type = table.c[name].type
        processor = (
            sqlite_utc_text
            if dialect.name == "sqlite" and isinstance(column_type, UTCDateTime)
            else column_type.dialect_impl(dialect).bind_processor(dialect)
        )
        if processor is not None:
            converters.append((index, processor))
    return _InsertPlan(str(compiled), tuple(order), itemgetter(*order), tuple(converters))


def sqlite_utc_text(value: datetime) -> str:
    """What ``UTCDateTime`` stores on SQLite, from the C ``isoformat`` rather than through
    SQLAlchemy's two Python-level processors: the same text, in a fraction of the time (a
    batch of messages has a few timestamps per row)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


async def _insert_many(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """One driver-level executemany of a Core INSERT.

    SQLAlchemy's own executemany converts every value of every row through the column types
    (≈100,000 calls for 10,000 messages). Here each column's bind processor runs once per
    distinct value instead: a request's rows share their timestamps, so that is a few calls.
    On SQLite the rows go straight to the driver, one round trip to its thread whatever their
    number (SQLAlchemy's path costs a few hundred microseconds a statement even for one row);
    on PostgreSQL a large batch is a COPY, a small one SQLAlchemy's executemany.
    """
    if not rows:
        return
    dialect = connection.dialect
    postgresql = dialect.name == "postgresql"
    if postgresql and len(rows) < _COPY_THRESHOLD:
        # Few rows: SQLAlchemy's cached compiled statement beats a COPY.
        await connection.execute(insert(table), list(rows))
        return
    plan = _insert_plan(table, tuple(rows[0]), dialect)
    if plan is None:  # pragma: no cover
        await connection.execute(insert(table), list(rows))
        return
    single = len(plan.columns) == 1
    parameters: list[tuple[Any, ...]] = []
    caches: list[dict[Any, Any]] = [{} for _ in plan.converters]
    for row in rows:
        values = plan.read_row(row)
        if single:
            values = (values,)
        if plan.converters:
            values = list(values)
            for (index, processor), cache in zip(plan.converters, caches, strict=True):
                value = values[index]
                if value is not None:
                    converted = cache.get(value, _MISSING)
                    if converted is _MISSING:
                        converted = cache[value] = processor(value)
                    values[index] = converted
        parameters.append(tuple(values))
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if postgresql:
        # COPY is PostgreSQL's bulk path, several times faster than an INSERT executemany;
        # it runs on the same connection, inside the caller's transaction.
        if not driver.is_in_transaction():  # type: ignore[union-attr]
            # The asyncpg adapter sends BEGIN with the first statement it runs; COPY goes
            # around it, so as the first statement it would commit on its own and survive a
            # rollback (a retried batch then fails on its own rows forever).
            await connection.execute(select(1))
        await driver.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=parameters, columns=list(plan.columns)
        )
        return
    # aiosqlite, on the connection SQLAlchemy began the (write) transaction on. Errors are
    # wrapped as SQLAlchemy would wrap them, so callers catch the same IntegrityError.
    try:
        # Nothing to read: the cursor is left to be collected, as aiosqlite's own helpers do.
        await driver.executemany(plan.sql, parameters)  # type: ignore[union-attr]
    except sqlite3.Error as error:
        raise DBAPIError.instance(
            plan.sql, parameters, error, sqlite3.Error, dialect=dialect
        ) from error


_MISSING = object()
# Below this many rows a PostgreSQL COPY costs more than SQLAlchemy's executemany.
_COPY_THRESHOLD = 64


async def insert_messages(
    connection: AsyncConnection,
    message_rows: Sequence[MutableMapping[str, Any]],
    event_rows: Sequence[Mapping[str, Any]],
) -> None:
    """Insert many messages and their first history entries as two executemany statements.

    Every row of one call must have the same keys. Each message is filed into its thread
    first (``thread_id`` is set on its row), so every send, reply or auto-reply lands there.
    """
    await file_into_threads(connection, message_rows)
    await _insert_many(connection, messages, message_rows)
    await _insert_many(connection, message_events, event_rows)


async def find_message(
    connection: AsyncConnection, account_id: str | None, message_id: str
) -> MessageRecord | None:
    """The message if it belongs to ``account_id`` (any account's when None: operator use)."""
    query = select(messages).where(messages.c.id == message_id)
    if account_id is not None:
        query = query.where(messages.c.account_id == account_id)
    row = (await connection.execute(query)).one_or_none()
    return None if row is None else MessageRecord.from_row(row)


async def list_messages(
    connection: AsyncConnection,
    account_id: str | None,
    *,
    limit: int,
    statuses: Iterable[str] = (),
    recipient: str | None = None,
    created_from: datetime | None = None,
    created_until: datetime | None = None,
    before_id: str | None = None,
) -> list[MessageRecord]:
    """An account's messages (every account's when None) newest first.

    ``before_id`` continues after the last message of a previous page.
    """
    query = select(messages)
    if account_id is not None:
        query = query.where(messages.c.account_id == account_id)
    status_list = list(statuses)
    if status_list:
        query = query.where(messages.c.status.in_(status_list))
    if recipient is not None:
        query = query.where(messages.c.recipient == recipient)
    if created_from is not None:
        query = query.where(messages.c.created_at >= created_from)
    if created_until is not None:
        query = query.where(messages.c.created_at < created_until)
    if before_id is not None:
        query = query.where(messages.c.id < before_id)
    query = query.order_by(messages.c.id.desc()).limit(limit)
    return [MessageRecord.from_row(row) for row in await connection.execute(query)]


async def message_history(connection: AsyncConnection, message_id: str) -> list[MessageEventRecord]:
    result = await connection.execute(
        select(message_events)
        .where(message_events.c.message_id == message_id)
        .order_by(message_events.c.id)
    )
    return [MessageEventRecord.from_row(row) for row in result]


async def message_parts_of(connection: AsyncConnection, message_id: str) -> list[MessagePartRecord]:
    result = await connection.execute(
        select(message_parts)
        .where(message_parts.c.message_id == message_id)
        .order_by(message_parts.c.seq)
    )
    return [MessagePartRecord.from_row(row) for row in result]


async def cancel_message(
    connection: AsyncConnection,
    account_id: str,
    message_id: str,
    *,
    from_statuses: Iterable[str],
    at: datetime,
) -> MessageRecord | None:
    """Cancel the message if it is still in one of ``from_statuses``; None if it was not.

    The status test is part of the UPDATE, so a dispatcher claiming the message at the same
    moment either wins (and the cancel fails) or loses (and never sees the message).
    """
    row = (
        await connection.execute(
            update(messages)
            .where(
                messages.c.account_id == account_id,
                messages.c.id == message_id,
                messages.c.status.in_(list(from_statuses)),
            )
            .values(status="cancelled", status_at=at, updated_at=at, next_attempt_at=None)
            .returning(messages)
        )
    ).one_or_none()
    if row is None:
        return None
    await connection.execute(
        insert(message_events).values(message_id=message_id, status="cancelled", at=at)
    )
    return MessageRecord.from_row(row)


async def count_messages_by_status(connection: AsyncConnection) -> dict[str, int]:
    result = await connection.execute(
        select(messages.c.status, func.count()).group_by(messages.c.status)
    )
    return {status: int(count) for status, count in result}


async def find_idempotent_response(
    connection: AsyncConnection, account_id: str, key: str, *, not_before: datetime
) -> str | None:
    """The stored answer to an earlier request with this key, if it is recent enough."""
    row = (
        await connection.execute(
            select(idempotency.c.response).where(
                idempotency.c.account_id == account_id,
                idempotency.c.key == key,
                idempotency.c.created_at >= not_before,
            )
        )
    ).one_or_none()
    return None if row is None else str(row[0])


async def save_idempotent_response(
    connection: AsyncConnection,
    account_id: str,
    key: str,
    response: str,
    *,
    at: datetime,
    expired_before: datetime,
) -> None:
    """Record the answer under ``key``.

    An expired record with the same key is replaced; a live one is never touched, so of two
    concurrent requests with one key the second fails on the primary key (IntegrityError).
    """
    await connection.execute(
        delete(idempotency).where(
            idempotency.c.account_id == account_id,
            idempotency.c.key == key,
            idempotency.c.created_at < expired_before,
        )
    )
    await connection.execute(
        insert(idempotency).values(account_id=account_id, key=key, response=response, created_at=at)
    )


async def delete_expired_idempotency(connection: AsyncConnection, *, before: datetime) -> int:
    result = await connection.execute(delete(idempotency).where(idempotency.c.created_at < before))
    return result.rowcount
