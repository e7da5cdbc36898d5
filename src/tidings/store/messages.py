"""Messages (the queue), their parts and status history, and idempotency records."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, TypedDict

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.lifecycle import CANCELLABLE_STATUSES, MessageStatus
from tidings.store.driver import insert_many
from tidings.store.models import (
    idempotency,
    message_events,
    message_parts,
    messages,
)
from tidings.store.records import MessageEventRecord, MessagePartRecord, MessageRecord
from tidings.store.threads import ThreadedRow, file_into_threads

# A cancel, of one message or of a campaign's, takes what the lifecycle table lets be cancelled.
CANCELLABLE = sorted(status.value for status in CANCELLABLE_STATUSES)
CANCELLED = MessageStatus.CANCELLED.value


class EventRow(TypedDict):
    """One entry of a message's history (``message_events``)."""

    message_id: str
    status: str
    at: datetime
    detail: str | None


class OutboundMessageRow(ThreadedRow):
    """A message accepted to be sent (``messages``, direction ``out``), as a send prepares it."""

    encoding: str
    parts_count: int
    status: str
    status_at: datetime
    send_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    claimed_by: None
    claim_expires_at: None
    route_id: int | None
    customer_data: str | None
    dlr_url: str | None
    request_id: str | None
    error_code: None
    error_detail: None
    max_parts: int
    ad: bool
    campaign_id: str | None
    updated_at: datetime
    channel: str
    subject: str | None
    content: str | None


async def insert_messages(
    connection: AsyncConnection,
    message_rows: Sequence[OutboundMessageRow],
    event_rows: Sequence[EventRow],
) -> None:
    """Insert many messages and their first history entries as two executemany statements.

    Each message is filed into its thread
    first (``thread_id`` is set on its row), so every send, reply or auto-reply lands there.
    """
    await file_into_threads(connection, message_rows)
    await insert_many(connection, messages, message_rows)
    await insert_many(connection, message_events, event_rows)


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
    sender: str | None = None,
    number: str | None = None,
    direction: str | None = None,
    campaign_id: str | None = None,
    customer_data: str | None = None,
    channel: str | None = None,
) -> list[MessageRecord]:
    """An account's messages (every account's when None) newest first.

    ``number`` is the handset's side of either direction: the recipient of an outbound
    message, the sender of an inbound one.

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
    if sender is not None:
        query = query.where(messages.c.sender == sender)
    if number is not None:
        query = query.where(
            ((messages.c.direction == "out") & (messages.c.recipient == number))
            | ((messages.c.direction == "in") & (messages.c.sender == number))
        )
    if direction is not None:
        query = query.where(messages.c.direction == direction)
    if campaign_id is not None:
        query = query.where(messages.c.campaign_id == campaign_id)
    if customer_data is not None:
        query = query.where(messages.c.customer_data == customer_data)
    if channel is not None:
        query = query.where(messages.c.channel == channel)
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
    at: datetime,
    channel: str | None = None,
) -> MessageRecord | None:
    """Cancel the message if the lifecycle lets it (it is still waiting to be sent), and if it
    is of ``channel`` when one is given; None if it is not cancelled.

    The status test is part of the UPDATE, so a dispatcher claiming the message at the same
    moment either wins (and the cancel fails) or loses (and never sees the message).
    """
    row = (
        await connection.execute(
            update(messages)
            .where(
                messages.c.account_id == account_id,
                messages.c.id == message_id,
                messages.c.status.in_(CANCELLABLE),
                *(() if channel is None else (messages.c.channel == channel,)),
            )
            .values(status=CANCELLED, status_at=at, updated_at=at, next_attempt_at=None)
            .returning(messages)
        )
    ).one_or_none()
    if row is None:
        return None
    await connection.execute(
        insert(message_events).values(message_id=message_id, status=CANCELLED, at=at)
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


async def delete_expired_idempotency(
    connection: AsyncConnection, *, before: datetime, limit: int
) -> int:
    """Forget up to ``limit`` idempotency records made before ``before``, oldest first; return
    how many."""
    oldest = (
        select(idempotency.c.account_id, idempotency.c.key)
        .where(idempotency.c.created_at < before)
        .order_by(idempotency.c.created_at)
        .limit(limit)
    )
    result = await connection.execute(
        delete(idempotency).where(tuple_(idempotency.c.account_id, idempotency.c.key).in_(oldest))
    )
    return result.rowcount


async def last_received(
    connection: AsyncConnection, account_id: str, *, sender: str, recipient: str, channel: str
) -> datetime | None:
    """When the account last received a ``channel`` message from ``sender`` at ``recipient``
    (the WhatsApp customer-service window opens with each one)."""
    last: datetime | None = (
        await connection.execute(
            select(func.max(messages.c.created_at)).where(
                messages.c.account_id == account_id,
                messages.c.recipient == recipient,
                messages.c.direction == "in",
                messages.c.sender == sender,
                messages.c.channel == channel,
            )
        )
    ).scalar_one_or_none()
    return last


class MessageChannel(NamedTuple):
    """What a message is besides its status: its channel, its direction and its content (the
    channel's JSON: an MMS's media, a received message's attachments)."""

    channel: str
    direction: str
    content: str | None


async def channels_of(
    connection: AsyncConnection, message_ids: Collection[str]
) -> dict[str, MessageChannel]:
    """The channel, direction and content of each of these messages (one read)."""
    if not message_ids:
        return {}
    rows = await connection.execute(
        select(messages.c.id, messages.c.channel, messages.c.direction, messages.c.content).where(
            messages.c.id.in_(list(message_ids))
        )
    )
    return {row.id: MessageChannel(row.channel, row.direction, row.content) for row in rows}
