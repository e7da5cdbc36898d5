"""Numbered pages of an account's messages, and read marks on receipts and inbound messages.

Provider APIs page by page number and report totals, and their clients poll for receipts and
inbound messages they have not marked as read yet; the native API pages by cursor instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, insert, literal, not_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import messages, read_marks
from tidings.store.records import MessageRecord


def _filters(
    account_id: str,
    *,
    direction: str | None,
    statuses: Sequence[str],
    created_from: datetime | None,
    created_until: datetime | None,
    status_before: datetime | None,
    unread: str | None,
    message_id: str | None = None,
    sender: str | None = None,
    recipient: str | None = None,
    channel: str | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [messages.c.account_id == account_id]
    if channel is not None:
        conditions.append(messages.c.channel == channel)
    if direction is not None:
        conditions.append(messages.c.direction == direction)
    if statuses:
        conditions.append(messages.c.status.in_(list(statuses)))
    if created_from is not None:
        conditions.append(messages.c.created_at >= created_from)
    if created_until is not None:
        conditions.append(messages.c.created_at < created_until)
    if status_before is not None:
        conditions.append(messages.c.status_at < status_before)
    if message_id is not None:
        conditions.append(messages.c.id == message_id)
    if sender is not None:
        conditions.append(messages.c.sender == sender)
    if recipient is not None:
        conditions.append(messages.c.recipient == recipient)
    if unread is not None:
        conditions.append(
            not_(
                exists().where(
                    and_(read_marks.c.message_id == messages.c.id, read_marks.c.kind == unread)
                )
            )
        )
    return conditions


async def page_messages(
    connection: AsyncConnection,
    account_id: str,
    *,
    offset: int,
    limit: int,
    direction: str | None = None,
    statuses: Sequence[str] = (),
    created_from: datetime | None = None,
    created_until: datetime | None = None,
    unread: str | None = None,
    newest_first: bool = True,
    message_id: str | None = None,
    sender: str | None = None,
    recipient: str | None = None,
    channel: str | None = None,
) -> tuple[list[MessageRecord], int]:
    """One numbered page of the messages matching the filters, and how many match in all.

    ``unread`` leaves out messages with a read mark of that kind.
    """
    conditions = _filters(
        account_id,
        direction=direction,
        statuses=statuses,
        created_from=created_from,
        created_until=created_until,
        status_before=None,
        unread=unread,
        message_id=message_id,
        sender=sender,
        recipient=recipient,
        channel=channel,
    )
    total = (
        await connection.execute(select(func.count()).select_from(messages).where(*conditions))
    ).scalar_one()
    order = messages.c.id.desc() if newest_first else messages.c.id.asc()
    rows = await connection.execute(
        select(messages).where(*conditions).order_by(order).offset(offset).limit(limit)
    )
    return [MessageRecord.from_row(row) for row in rows], int(total)


async def mark_read(
    connection: AsyncConnection,
    account_id: str,
    kind: str,
    *,
    direction: str,
    statuses: Sequence[str],
    at: datetime,
    before: datetime | None = None,
    message_id: str | None = None,
    channel: str | None = None,
) -> int:
    """Mark the matching unread messages as read; returns how many were marked."""
    conditions = _filters(
        account_id,
        direction=direction,
        statuses=statuses,
        created_from=None,
        created_until=None,
        status_before=before,
        unread=kind,
        message_id=message_id,
        channel=channel,
    )
    source = select(messages.c.id, literal(kind), literal(at, type_=read_marks.c.read_at.type))
    result = await connection.execute(
        insert(read_marks).from_select(["message_id", "kind", "read_at"], source.where(*conditions))
    )
    return int(result.rowcount or 0)


async def last_sent_to(
    connection: AsyncConnection, account_id: str, number: str, *, before: datetime
) -> MessageRecord | None:
    """The account's last outbound message to ``number`` created before ``before``."""
    row = (
        await connection.execute(
            select(messages)
            .where(
                messages.c.account_id == account_id,
                messages.c.direction == "out",
                messages.c.recipient == number,
                messages.c.created_at <= before,
            )
            .order_by(messages.c.id.desc())
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else MessageRecord.from_row(row)


async def first_reply(
    connection: AsyncConnection, account_id: str, original: MessageRecord
) -> MessageRecord | None:
    """The first inbound message from the recipient of ``original`` to its sender after it."""
    row = (
        await connection.execute(
            select(messages)
            .where(
                messages.c.account_id == account_id,
                messages.c.direction == "in",
                messages.c.sender == original.recipient,
                messages.c.recipient == original.sender,
                messages.c.created_at >= original.created_at,
            )
            .order_by(messages.c.id.asc())
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else MessageRecord.from_row(row)


async def messages_by_ids(
    connection: AsyncConnection, message_ids: Collection[str]
) -> dict[str, MessageRecord]:
    """The messages with these ids (any account's: the caller got the ids from its events)."""
    if not message_ids:
        return {}
    result = await connection.execute(select(messages).where(messages.c.id.in_(list(message_ids))))
    return {row.id: MessageRecord.from_row(row) for row in result}
