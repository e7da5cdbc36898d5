"""Messages (the queue), their parts and status history, and idempotency records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import idempotency, message_events, message_parts, messages
from tidings.store.records import MessageEventRecord, MessagePartRecord, MessageRecord
from tidings.store.threads import file_into_threads


async def _insert_many(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """One driver-level executemany of a Core INSERT.

    SQLAlchemy's own executemany converts every value of every row through the column types
    (≈100,000 calls for 10,000 messages). Here each column's bind processor runs once per
    distinct value instead: a request's rows share their timestamps, so that is a few calls.
    """
    if not rows:
        return
    if len(rows) < _BULK_THRESHOLD:
        # Few rows: SQLAlchemy's cached compiled statement beats compiling one here.
        await connection.execute(insert(table), list(rows))
        return
    keys = list(rows[0])
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    order = compiled.positiontup
    if order is None:  # pragma: no cover - both supported drivers take positional parameters
        await connection.execute(insert(table), list(rows))
        return
    read_row = itemgetter(*order)
    converted: list[tuple[int, Any, dict[Any, Any]]] = []
    for index, name in enumerate(order):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            converted.append((index, processor, {}))
    parameters: list[tuple[Any, ...]] = []
    for row in rows:
        values = read_row(row)
        if len(order) == 1:
            values = (values,)
        if converted:
            values = list(values)
            for index, processor, cache in converted:
                value = values[index]
                if value is not None:
                    cached = cache.get(value, _MISSING)
                    if cached is _MISSING:
                        cached = cache[value] = processor(value)
                    values[index] = cached
        parameters.append(tuple(values))
    if dialect.name == "postgresql":
        # COPY is PostgreSQL's bulk path, several times faster than an INSERT executemany;
        # it runs on the same connection, inside the caller's transaction.
        raw = await connection.get_raw_connection()
        if not raw.driver_connection.is_in_transaction():  # type: ignore[union-attr]
            # The asyncpg adapter sends BEGIN with the first statement it runs; COPY goes
            # around it, so as the first statement it would commit on its own and survive a
            # rollback (a retried batch then fails on its own rows forever).
            await connection.execute(select(1))
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=parameters, columns=list(order)
        )
        return
    await connection.exec_driver_sql(str(compiled), parameters)


_MISSING = object()
# Below this many rows the per-value type conversion costs less than compiling a statement.
_BULK_THRESHOLD = 64


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
