"""Threads (conversations), and the messages in them.

A thread is keyed by (account, our address, their address): an outbound message from S to R and
an inbound message from R to S belong to the same one. ``file_into_threads`` runs wherever
messages are inserted, for a whole batch at once: one SELECT of the threads that exist, one
multi-row INSERT of those that do not, one executemany UPDATE of the counters of the others.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.ids import new_ids
from tidings.store.models import contacts, messages, threads
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


def thread_key(row: MutableMapping[str, Any]) -> ThreadKey:
    if row["direction"] == "in":
        return (row["account_id"], row["recipient"], row["sender"])
    return (row["account_id"], row["sender"], row["recipient"])


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


async def _existing_threads(
    connection: AsyncConnection, keys: Iterable[ThreadKey]
) -> dict[ThreadKey, str]:
    by_side: dict[tuple[str, str], list[str]] = {}
    for account_id, ours, theirs in keys:
        by_side.setdefault((account_id, ours), []).append(theirs)
    found: dict[ThreadKey, str] = {}
    t = threads.c
    for (account_id, ours), theirs_list in by_side.items():
        for chunk in _chunks(theirs_list):
            result = await connection.execute(
                select(t.id, t.their_address).where(
                    t.account_id == account_id,
                    t.our_address == ours,
                    t.their_address.in_(list(chunk)),
                )
            )
            for thread_id, theirs in result:
                found[(account_id, ours, theirs)] = thread_id
    return found


async def file_into_threads(
    connection: AsyncConnection, rows: Sequence[MutableMapping[str, Any]]
) -> None:
    """Set ``thread_id`` on every message row, creating threads and counting the messages.

    Rows need ``id``, ``account_id``, ``direction``, ``sender``, ``recipient``, ``body`` and
    ``created_at``; they are changed in place, before (outbound) or after (inbound) their insert.
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
    """Insert threads for ``keys`` (sorted, so concurrent inserts lock in one order); returns
    those this transaction created."""
    ids = new_ids(len(keys))
    values: list[dict[str, Any]] = []
    by_id: dict[str, ThreadKey] = {}
    for thread_id, key in zip(ids, keys, strict=True):
        entry = activity[key]
        by_id[thread_id] = key
        values.append(
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
        )
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(threads).on_conflict_do_nothing().returning(threads.c.id)
    result = await connection.execute(statement, values)
    return {by_id[thread_id]: thread_id for (thread_id,) in result}


async def _count_activity(
    connection: AsyncConnection, touched: Sequence[tuple[str, _Activity]]
) -> None:
    if not touched:
        return
    t = threads.c
    # Concurrent batches may commit out of order: the last message is the latest one.
    newer = bindparam("b_at", type_=t.last_message_at.type) >= t.last_message_at

    def latest(name: str, column: Any) -> Any:
        return case((newer, bindparam(name, type_=column.type)), else_=column)

    await connection.execute(
        update(threads)
        .where(t.id == bindparam("b_id"))
        .values(
            message_count=t.message_count + bindparam("b_count"),
            inbound_count=t.inbound_count + bindparam("b_inbound"),
            last_message_id=latest("b_last_id", t.last_message_id),
            last_direction=latest("b_direction", t.last_direction),
            last_preview=latest("b_preview", t.last_preview),
            last_message_at=latest("b_at2", t.last_message_at),
        ),
        [
            {
                "b_id": thread_id,
                "b_count": entry.count,
                "b_inbound": entry.inbound,
                "b_at": entry.last_at,
                "b_at2": entry.last_at,
                "b_last_id": entry.last_id,
                "b_direction": entry.last_direction,
                "b_preview": entry.last_preview,
            }
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
