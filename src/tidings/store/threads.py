"""Threads (conversations), and the messages in them.

A thread is keyed by (account, our address, their address): an outbound message from S to R and
an inbound message from R to S belong to the same one. ``file_into_threads`` runs wherever
messages are inserted, for a whole batch at once: one SELECT of the threads that exist, one
multi-row INSERT of those that do not, one executemany UPDATE of the counters of the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.driver import DriverQuery, asyncpg_connection, fetch_rows, insert_many
from tidings.store.models import contacts, messages, read_marks, threads
from tidings.store.records import MessageRecord, _Record

PREVIEW_LENGTH = 160
# Both backends take at least 32,766 bound parameters; one API send has at most 10,000 recipients.
_IN_CHUNK = 10_000

ThreadKey = tuple[str, str, str]  # (account_id, our_address, their_address)


@dataclass(frozen=True, slots=True)
class ThreadRecord(_Record):
    id: str
    account_id: str
    our_address: str
    their_address: str
    message_count: int
    inbound_count: int
    last_message_id: str | None
    last_message_at: datetime
    last_direction: str
    last_preview: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ThreadContact:
    """The account's contact with the thread's phone number, looked up when the thread is read."""

    id: str
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True, slots=True)
class ThreadView:
    thread: ThreadRecord
    contact: ThreadContact | None


class ThreadedRow(TypedDict):
    """What filing a message into its thread reads of its row, and ``thread_id``, which it
    sets (see :func:`file_into_threads`)."""

    id: str
    account_id: str
    direction: str
    sender: str
    recipient: str
    body: str
    created_at: datetime
    thread_id: NotRequired[str]


@dataclass(frozen=True, slots=True)
class ThreadedMessage:
    message: MessageRecord
    thread_id: str | None
    contact_id: str | None


@dataclass(slots=True)
class _Activity:
    """What one batch adds to one thread."""

    count: int = 0
    inbound: int = 0
    last_id: str = ""
    last_at: datetime | None = None
    last_direction: str = "out"
    last_preview: str = ""


def thread_key(row: ThreadedRow) -> ThreadKey:
    if row["direction"] == "in":
        return (row["account_id"], row["recipient"], row["sender"])
    return (row["account_id"], row["sender"], row["recipient"])


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


async def _existing_threads(
    connection: AsyncConnection, keys: Iterable[ThreadKey]
) -> dict[ThreadKey, str]:
    """The ids of the threads of ``keys`` that exist: one driver-level query per (account, our
    address), whatever the number of their addresses (every group commit runs it)."""
    by_side: dict[tuple[str, str], list[str]] = {}
    for account_id, ours, theirs in keys:
        by_side.setdefault((account_id, ours), []).append(theirs)
    found: dict[ThreadKey, str] = {}
    for (account_id, ours), theirs_list in by_side.items():
        for thread_id, theirs in await fetch_rows(
            connection, _EXISTING_THREADS, account_id, ours, theirs_list
        ):
            found[(account_id, ours, theirs)] = str(thread_id)
    return found


# Served by the unique index (account_id, our_address, their_address). On PostgreSQL one probe
# of it per address, written so that no statistics can plan otherwise: given
# `their_address = ANY($3)`, a planner that has not seen the table analyzed since it grew
# takes (account_id, our_address) as the whole index condition and filters every thread of
# the pair against the list (after 30,000 threads, 20 ms in each group commit of single
# sends, and seconds for a 10,000-recipient send). The LIMIT keeps the subquery a probe per
# address; without it the subquery becomes a join, planned the same way.
_EXISTING_THREADS = DriverQuery(
    sqlite="""
SELECT id, their_address FROM threads
WHERE account_id = ? AND our_address = ? AND their_address IN (SELECT value FROM json_each(?))
""",
    postgresql="""
SELECT t.id, v.their_address FROM unnest($3::varchar[]) AS v(their_address)
CROSS JOIN LATERAL (
    SELECT id FROM threads
    WHERE account_id = $1 AND our_address = $2 AND their_address = v.their_address
    LIMIT 1
) AS t
""",
)


async def file_into_threads(connection: AsyncConnection, rows: Sequence[ThreadedRow]) -> None:
    """Set ``thread_id`` on every message row, creating threads and counting the messages.

    The rows are changed in place, before (outbound) or after (inbound) their insert.
    """
    if not rows:
        return
    activity: dict[ThreadKey, _Activity] = {}
    for row in rows:
        entry = activity.setdefault(thread_key(row), _Activity())
        entry.count += 1
        if row["direction"] == "in":
            entry.inbound += 1
        if entry.last_at is None or (row["created_at"], row["id"]) >= (
            entry.last_at,
            entry.last_id,
        ):
            entry.last_id, entry.last_at = row["id"], row["created_at"]
            entry.last_direction = row["direction"]
            entry.last_preview = row["body"][:PREVIEW_LENGTH]
    found = await _existing_threads(connection, activity)
    missing = sorted(key for key in activity if key not in found)
    if missing:
        created = await _insert_threads(connection, missing, activity)
        found.update(created)
        # Another transaction created some of them first; those are counted like old ones.
        raced = [key for key in missing if key not in created]
        if raced:
            found.update(await _existing_threads(connection, raced))
        counted = set(created)
    else:
        counted = set()
    await _count_activity(
        connection,
        sorted(
            ((found[key], entry) for key, entry in activity.items() if key not in counted),
            key=lambda pair: pair[0],
        ),
    )
    for row in rows:
        row["thread_id"] = found[thread_key(row)]


async def _insert_threads(
    connection: AsyncConnection, keys: Sequence[ThreadKey], activity: dict[ThreadKey, _Activity]
) -> dict[ThreadKey, str]:
    """Insert threads for ``keys``; returns those this transaction created.

    ``keys`` are sorted, so concurrent transactions inserting the same threads wait on each
    other in one order instead of deadlocking.
    """
    entries = [activity[key] for key in keys]
    # A new thread takes the id of its latest message in this batch: message ids are unique
    # and each message is filed into one thread, so no two threads get the same id, and the id
    # still tells when the thread began. Making fresh ids cost more than the thread's INSERT.
    ids = [entry.last_id for entry in entries]
    by_id = dict(zip(ids, keys, strict=True))
    if connection.dialect.name == "postgresql":
        driver = await asyncpg_connection(connection)
        records = await driver.fetch(
            _PG_INSERT,
            ids,
            [key[0] for key in keys],
            [key[1] for key in keys],
            [key[2] for key in keys],
            [entry.count for entry in entries],
            [entry.inbound for entry in entries],
            [entry.last_id for entry in entries],
            [entry.last_at for entry in entries],
            [entry.last_direction for entry in entries],
            [entry.last_preview for entry in entries],
        )
        return {by_id[record[0]]: record[0] for record in records}
    # SQLite: the write transaction began with BEGIN IMMEDIATE, so no other writer can have
    # created one of these threads since they were looked up; the bulk path needs no conflict
    # handling.
    await insert_many(
        connection,
        threads,
        [
            {
                "id": thread_id,
                "account_id": key[0],
                "our_address": key[1],
                "their_address": key[2],
                "message_count": entry.count,
                "inbound_count": entry.inbound,
                "last_message_id": entry.last_id,
                "last_message_at": entry.last_at,
                "last_direction": entry.last_direction,
                "last_preview": entry.last_preview,
                "created_at": entry.last_at,
            }
            for thread_id, key, entry in zip(ids, keys, entries, strict=True)
        ],
    )
    return dict(zip(keys, ids, strict=True))


# One statement for a whole batch on PostgreSQL: columns as arrays, unnested into rows. A thread
# another transaction created meanwhile is skipped (and then counted as an existing one).
_PG_INSERT = """
INSERT INTO threads (id, account_id, our_address, their_address, message_count, inbound_count,
                     last_message_id, last_message_at, last_direction, last_preview, created_at)
SELECT id, account_id, our_address, their_address, message_count, inbound_count,
       last_message_id, last_message_at, last_direction, last_preview, last_message_at
FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::int[], $6::int[],
            $7::varchar[], $8::timestamptz[], $9::varchar[], $10::varchar[])
     AS v(id, account_id, our_address, their_address, message_count, inbound_count,
          last_message_id, last_message_at, last_direction, last_preview)
ON CONFLICT DO NOTHING
RETURNING id
"""

# Concurrent batches may commit out of order: the last message is the latest one.
_PG_COUNT = """
UPDATE threads AS t SET
    message_count = t.message_count + v.count,
    inbound_count = t.inbound_count + v.inbound,
    last_message_id = CASE WHEN v.at >= t.last_message_at THEN v.last_id
                           ELSE t.last_message_id END,
    last_direction = CASE WHEN v.at >= t.last_message_at THEN v.direction
                          ELSE t.last_direction END,
    last_preview = CASE WHEN v.at >= t.last_message_at THEN v.preview ELSE t.last_preview END,
    last_message_at = GREATEST(t.last_message_at, v.at)
FROM unnest($1::varchar[], $2::int[], $3::int[], $4::varchar[], $5::timestamptz[],
            $6::varchar[], $7::varchar[]) AS v(id, count, inbound, last_id, at, direction, preview)
WHERE t.id = v.id
"""

_SQLITE_COUNT = """
UPDATE threads SET
    message_count = message_count + ?2,
    inbound_count = inbound_count + ?3,
    last_message_id = CASE WHEN ?5 >= last_message_at THEN ?4 ELSE last_message_id END,
    last_direction = CASE WHEN ?5 >= last_message_at THEN ?6 ELSE last_direction END,
    last_preview = CASE WHEN ?5 >= last_message_at THEN ?7 ELSE last_preview END,
    last_message_at = max(last_message_at, ?5)
WHERE id = ?1
"""


async def _count_activity(
    connection: AsyncConnection, touched: Sequence[tuple[str, _Activity]]
) -> None:
    """Add a batch's messages to threads that existed before it (sorted by id: lock order)."""
    if not touched:
        return
    dialect = connection.dialect
    if dialect.name == "postgresql":
        driver = await asyncpg_connection(connection)
        await driver.execute(
            _PG_COUNT,
            [thread_id for thread_id, _ in touched],
            [entry.count for _, entry in touched],
            [entry.inbound for _, entry in touched],
            [entry.last_id for _, entry in touched],
            [entry.last_at for _, entry in touched],
            [entry.last_direction for _, entry in touched],
            [entry.last_preview for _, entry in touched],
        )
        return
    # Stored the way the column type stores it (SQLite compares datetimes as text); a batch's
    # messages mostly share their time, so each distinct one is converted once.
    to_db = threads.c.last_message_at.type.dialect_impl(dialect).bind_processor(dialect)
    converted: dict[datetime | None, Any] = {}

    def stored(at: datetime | None) -> Any:
        if at not in converted:
            converted[at] = at if to_db is None or at is None else to_db(at)
        return converted[at]

    await connection.exec_driver_sql(
        _SQLITE_COUNT,
        [
            (
                thread_id,
                entry.count,
                entry.inbound,
                entry.last_id,
                stored(entry.last_at),
                entry.last_direction,
                entry.last_preview,
            )
            for thread_id, entry in touched
        ],
    )


async def contact_ids_by_phone(
    connection: AsyncConnection, account_id: str, phones: Sequence[str]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(phones):
        result = await connection.execute(
            select(contacts.c.phone, contacts.c.id).where(
                contacts.c.account_id == account_id, contacts.c.phone.in_(list(chunk))
            )
        )
        found.update({phone: contact_id for phone, contact_id in result})
    return found


async def set_message_threads(
    connection: AsyncConnection, assignments: Sequence[tuple[str, str, str | None]]
) -> None:
    """Record (message id, thread id, contact id) on stored messages, in one executemany."""
    if not assignments:
        return
    await connection.execute(
        update(messages)
        .where(messages.c.id == bindparam("b_id"))
        .values(thread_id=bindparam("b_thread_id"), contact_id=bindparam("b_contact_id"))
        .execution_options(synchronize_session=False),
        [
            {"b_id": message_id, "b_thread_id": thread_id, "b_contact_id": contact_id}
            for message_id, thread_id, contact_id in assignments
        ],
    )


# Reading -------------------------------------------------------------------------------------


def _thread_query() -> Any:
    return select(
        threads,
        contacts.c.id.label("contact_id"),
        contacts.c.first_name.label("contact_first_name"),
        contacts.c.last_name.label("contact_last_name"),
    ).select_from(
        threads.outerjoin(
            contacts,
            and_(
                contacts.c.account_id == threads.c.account_id,
                contacts.c.phone == threads.c.their_address,
            ),
        )
    )


def _thread_view(row: Any) -> ThreadView:
    mapping = row._mapping
    contact = None
    if mapping["contact_id"] is not None:
        contact = ThreadContact(
            mapping["contact_id"], mapping["contact_first_name"], mapping["contact_last_name"]
        )
    return ThreadView(ThreadRecord.from_row(row), contact)


async def find_thread(
    connection: AsyncConnection, account_id: str, thread_id: str
) -> ThreadView | None:
    row = (
        await connection.execute(
            _thread_query().where(threads.c.account_id == account_id, threads.c.id == thread_id)
        )
    ).one_or_none()
    return None if row is None else _thread_view(row)


async def list_threads(
    connection: AsyncConnection,
    account_id: str,
    *,
    limit: int,
    our_address: str | None = None,
    their_address: str | None = None,
    before: tuple[datetime, str] | None = None,
) -> list[ThreadView]:
    """An account's threads, the most recently active first; ``before`` continues a listing
    after the (last_message_at, id) of the previous page's last thread."""
    t = threads.c
    query = _thread_query().where(t.account_id == account_id)
    if our_address is not None:
        query = query.where(t.our_address == our_address)
    if their_address is not None:
        query = query.where(t.their_address == their_address)
    if before is not None:
        at, thread_id = before
        earlier: ColumnElement[bool] = or_(
            t.last_message_at < at, and_(t.last_message_at == at, t.id < thread_id)
        )
        query = query.where(earlier)
    query = query.order_by(t.last_message_at.desc(), t.id.desc()).limit(limit)
    return [_thread_view(row) for row in await connection.execute(query)]


async def thread_messages(
    connection: AsyncConnection,
    account_id: str,
    thread_id: str,
    *,
    limit: int,
    after_id: str | None = None,
) -> list[MessageRecord]:
    """The thread's messages, both directions, oldest first."""
    query = select(messages).where(
        messages.c.account_id == account_id, messages.c.thread_id == thread_id
    )
    if after_id is not None:
        query = query.where(messages.c.id > after_id)
    query = query.order_by(messages.c.id).limit(limit)
    return [MessageRecord.from_row(row) for row in await connection.execute(query)]


async def last_inbound_route(
    connection: AsyncConnection, account_id: str, thread_id: str
) -> int | None:
    """The route the thread's latest inbound message arrived on (None if none is known)."""
    row = (
        await connection.execute(
            select(messages.c.route_id)
            .where(
                messages.c.account_id == account_id,
                messages.c.thread_id == thread_id,
                messages.c.direction == "in",
                messages.c.route_id.is_not(None),
            )
            .order_by(messages.c.id.desc())
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else row[0]


async def find_threaded_message(
    connection: AsyncConnection, account_id: str, message_id: str
) -> ThreadedMessage | None:
    row = (
        await connection.execute(
            select(messages).where(messages.c.account_id == account_id, messages.c.id == message_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return ThreadedMessage(
        MessageRecord.from_row(row), row._mapping["thread_id"], row._mapping["contact_id"]
    )


async def list_inbound(
    connection: AsyncConnection,
    account_id: str,
    *,
    limit: int,
    recipient: str | None = None,
    sender: str | None = None,
    received_from: datetime | None = None,
    received_until: datetime | None = None,
    before_id: str | None = None,
) -> list[ThreadedMessage]:
    """An account's inbound messages, newest first."""
    m = messages.c
    query = select(messages).where(m.account_id == account_id, m.direction == "in")
    if recipient is not None:
        query = query.where(m.recipient == recipient)
    if sender is not None:
        query = query.where(m.sender == sender)
    if received_from is not None:
        query = query.where(m.created_at >= received_from)
    if received_until is not None:
        query = query.where(m.created_at < received_until)
    if before_id is not None:
        query = query.where(m.id < before_id)
    query = query.order_by(m.id.desc()).limit(limit)
    return [
        ThreadedMessage(
            MessageRecord.from_row(row), row._mapping["thread_id"], row._mapping["contact_id"]
        )
        for row in await connection.execute(query)
    ]


def _unread_inbound(account_id: str) -> list[ColumnElement[bool]]:
    """An account's inbound messages that no reader has marked read (``read_marks``)."""
    marked = (
        select(read_marks.c.message_id)
        .where(read_marks.c.message_id == messages.c.id, read_marks.c.kind == "inbound")
        .exists()
    )
    return [messages.c.account_id == account_id, messages.c.direction == "in", ~marked]


async def unread_counts(
    connection: AsyncConnection, account_id: str, thread_ids: Sequence[str]
) -> dict[str, int]:
    """How many of each thread's inbound messages are unread."""
    if not thread_ids:
        return {}
    result = await connection.execute(
        select(messages.c.thread_id, func.count())
        .where(messages.c.thread_id.in_(list(thread_ids)), *_unread_inbound(account_id))
        .group_by(messages.c.thread_id)
    )
    return {thread_id: int(count) for thread_id, count in result}


async def mark_thread_read(
    connection: AsyncConnection, account_id: str, thread_id: str, at: datetime
) -> int:
    """Mark the thread's unread inbound messages read; how many there were."""
    source = select(
        messages.c.id, literal("inbound"), literal(at, type_=read_marks.c.read_at.type)
    ).where(messages.c.thread_id == thread_id, *_unread_inbound(account_id))
    result = await connection.execute(
        insert(read_marks).from_select(["message_id", "kind", "read_at"], source)
    )
    return int(result.rowcount or 0)
