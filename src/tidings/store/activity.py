"""What happened lately, counted for the console's dashboard: an account's messages by
direction and status since a time, per minute over the last hour, its queue, its failed
webhook deliveries. Ranges over creation time go through the ids (sortable by creation, see
``store.ids``) so they use the ``(account_id, id)`` index."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.ids import id_floor
from tidings.store.models import message_events, messages, outbox
from tidings.store.outbox import DEAD


@dataclass(frozen=True, slots=True)
class StatusCount:
    direction: str
    channel: str
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class MinuteCount:
    minute: str  # "YYYY-MM-DD HH:MM", UTC
    direction: str
    count: int


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    id: str
    event_type: str
    url: str
    subscription_id: str | None
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _minute(column: ColumnElement[datetime], dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI")
    # SQLite keeps UTC datetimes as "YYYY-MM-DD HH:MM:SS.ffffff" text.
    return func.substr(cast(column, String), 1, 16)


async def counts_since(
    connection: AsyncConnection, account_id: str, since: datetime
) -> list[StatusCount]:
    statement = (
        select(messages.c.direction, messages.c.channel, messages.c.status, func.count())
        .where(messages.c.account_id == account_id, messages.c.id >= id_floor(_millis(since)))
        .group_by(messages.c.direction, messages.c.channel, messages.c.status)
    )
    result = await connection.execute(statement)
    return [StatusCount(*row) for row in result]


async def created_per_minute(
    connection: AsyncConnection, account_id: str, since: datetime
) -> list[MinuteCount]:
    minute = _minute(messages.c.created_at, connection.dialect.name).label("minute")
    statement = (
        select(minute, messages.c.direction, func.count())
        .where(messages.c.account_id == account_id, messages.c.id >= id_floor(_millis(since)))
        .group_by(minute, messages.c.direction)
    )
    result = await connection.execute(statement)
    return [MinuteCount(m, direction, count) for m, direction, count in result]


async def finished_per_minute(
    connection: AsyncConnection,
    account_id: str,
    since: datetime,
    statuses: Collection[str],
    *,
    created_since: datetime,
) -> list[MinuteCount]:
    """Messages that reached one of ``statuses`` since ``since``, per minute of that status;
    only among those created since ``created_since`` (an index range, not a table scan)."""
    minute = _minute(messages.c.status_at, connection.dialect.name).label("minute")
    statement = (
        select(minute, messages.c.status, func.count())
        .where(
            messages.c.account_id == account_id,
            messages.c.id >= id_floor(_millis(created_since)),
            messages.c.status.in_(list(statuses)),
            messages.c.status_at >= since,
        )
        .group_by(minute, messages.c.status)
    )
    result = await connection.execute(statement)
    return [MinuteCount(m, status, count) for m, status, count in result]


async def count_in_statuses(
    connection: AsyncConnection, account_id: str, statuses: Collection[str]
) -> int:
    """Through the (status, next_attempt_at) index: queues are short next to histories."""
    statement = select(func.count()).where(
        messages.c.status.in_(list(statuses)), messages.c.account_id == account_id
    )
    return int((await connection.execute(statement)).scalar_one())


async def failed_deliveries(
    connection: AsyncConnection, account_id: str, *, limit: int
) -> tuple[int, list[FailedDelivery]]:
    """Webhook and callback deliveries that gave up (``dead``): how many, and the latest."""
    where = (outbox.c.state == DEAD, outbox.c.account_id == account_id)
    total = int((await connection.execute(select(func.count()).where(*where))).scalar_one())
    result = await connection.execute(
        select(
            outbox.c.id,
            outbox.c.event_type,
            outbox.c.url,
            outbox.c.subscription_id,
            outbox.c.attempts,
            outbox.c.last_status,
            outbox.c.last_error,
            outbox.c.created_at,
        )
        .where(*where)
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return total, [FailedDelivery(*row) for row in result]


@dataclass(frozen=True, slots=True)
class StatusChange:
    event_id: int
    message_id: str
    account_id: str
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class NewMessage:
    id: str
    account_id: str
    direction: str
    status: str


async def latest_event_id(connection: AsyncConnection) -> int:
    return int((await connection.execute(select(func.max(message_events.c.id)))).scalar() or 0)


async def status_changes_after(
    connection: AsyncConnection, event_id: int, *, limit: int
) -> list[StatusChange]:
    """History entries (every status change, of every account) after ``event_id``, in order."""
    result = await connection.execute(
        select(
            message_events.c.id,
            message_events.c.message_id,
            messages.c.account_id,
            message_events.c.status,
            message_events.c.at,
        )
        .join(messages, messages.c.id == message_events.c.message_id)
        .where(message_events.c.id > event_id)
        .order_by(message_events.c.id)
        .limit(limit)
    )
    return [StatusChange(*row) for row in result]


async def messages_created_after(
    connection: AsyncConnection, message_id: str, *, limit: int
) -> list[NewMessage]:
    """Messages (of every account, both directions) with ids after ``message_id``."""
    result = await connection.execute(
        select(messages.c.id, messages.c.account_id, messages.c.direction, messages.c.status)
        .where(messages.c.id > message_id)
        .order_by(messages.c.id)
        .limit(limit)
    )
    return [NewMessage(*row) for row in result]


async def outbox_by_state(connection: AsyncConnection) -> dict[str, int]:
    """Every account's outbox rows by state (pending, delivered, dead)."""
    result = await connection.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
    return {state: int(count) for state, count in result}
