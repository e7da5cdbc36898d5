"""The events outbox, its delivery attempts and webhook subscriptions, by intent.

Rows are claimed with a lease: claiming moves ``next_attempt_at`` past the time a delivery can
take, so a worker that dies mid-delivery leaves rows that simply fall due again (at-least-once).
PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` so several workers share the table; SQLite
serialises writers (``BEGIN IMMEDIATE``), which makes a plain ``UPDATE … RETURNING`` safe.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.driver import DriverQuery, fetch_rows, insert_many
from tidings.store.models import delivery_attempts, outbox, webhook_subscriptions

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    id: str
    account_id: str
    kind: str
    method: str
    url: str
    target_host: str
    body: str | None
    headers: str | None
    event_type: str
    subscription_id: str | None
    attempts: int
    pending_since: datetime


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: str
    account_id: str
    kind: str
    state: str
    method: str
    url: str
    body: str | None
    event_type: str
    event_id: str
    subscription_id: str | None
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    outbox_id: str
    at: datetime
    status_code: int | None
    latency_ms: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery attempt did to its row."""

    outbox_id: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    at: datetime
    status_code: int | None
    latency_ms: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: str
    account_id: str
    url: str
    event_types: str
    secret: str
    created_at: datetime
    payload_format: str = "native"


class OutboxRow(TypedDict):
    """One request to deliver (``outbox``): a dlr_url GET, a webhook or rule POST, as queued."""

    id: str
    account_id: str
    kind: str
    state: str
    method: str
    url: str
    target_host: str
    body: str | None
    headers: str | None
    event_type: str
    event_id: str
    subscription_id: str | None
    attempts: int
    next_attempt_at: datetime | None
    pending_since: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None


class SubscriptionRow(TypedDict):
    """A webhook subscription (``webhook_subscriptions``) as it is created."""

    id: str
    account_id: str
    url: str
    event_types: str
    secret: str
    created_at: datetime
    payload_format: str


async def insert_items(connection: AsyncConnection, rows: Sequence[OutboxRow]) -> None:
    await insert_many(connection, outbox, rows)


async def claim_due(
    connection: AsyncConnection,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    skip_hosts: Collection[str] = (),
) -> list[ClaimedItem]:
    """Lease up to ``limit`` due rows, oldest due first, skipping hosts the caller saturates."""
    due = (
        select(outbox.c.id)
        .where(outbox.c.state == PENDING, outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.next_attempt_at)
        .limit(limit)
    )
    if skip_hosts:
        due = due.where(outbox.c.target_host.not_in(list(skip_hosts)))
    if connection.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=lease_until)
        .returning(
            outbox.c.id,
            outbox.c.account_id,
            outbox.c.kind,
            outbox.c.method,
            outbox.c.url,
            outbox.c.target_host,
            outbox.c.body,
            outbox.c.headers,
            outbox.c.event_type,
            outbox.c.subscription_id,
            outbox.c.attempts,
            outbox.c.pending_since,
        )
    )
    result = await connection.execute(statement)
    return [ClaimedItem(*row) for row in result.all()]


async def subscription_secrets(
    connection: AsyncConnection, subscription_ids: Collection[str]
) -> dict[str, str]:
    if not subscription_ids:
        return {}
    result = await connection.execute(
        select(webhook_subscriptions.c.id, webhook_subscriptions.c.secret).where(
            webhook_subscriptions.c.id.in_(list(subscription_ids))
        )
    )
    return {row.id: row.secret for row in result}


_RECORD_OUTCOME = (
    update(outbox)
    .where(outbox.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next_attempt_at"),
        delivered_at=bindparam("b_delivered_at"),
        last_status=bindparam("b_status"),
        last_error=bindparam("b_error"),
    )
)


async def record_outcomes(connection: AsyncConnection, outcomes: Sequence[Outcome]) -> None:
    """Apply delivery outcomes to their rows and log every attempt, in one transaction."""
    if not outcomes:
        return
    await connection.execute(
        _RECORD_OUTCOME,
        [
            {
                "b_id": outcome.outbox_id,
                "b_state": outcome.state,
                "b_attempts": outcome.attempts,
                "b_next_attempt_at": outcome.next_attempt_at,
                "b_delivered_at": outcome.at if outcome.state == DELIVERED else None,
                "b_status": outcome.status_code,
                "b_error": outcome.error,
            }
            for outcome in outcomes
        ],
    )
    await connection.execute(
        insert(delivery_attempts),
        [
            {
                "outbox_id": outcome.outbox_id,
                "at": outcome.at,
                "status_code": outcome.status_code,
                "latency_ms": outcome.latency_ms,
                "error": outcome.error,
            }
            for outcome in outcomes
        ],
    )


async def make_due_again(
    connection: AsyncConnection, outbox_id: str, *, now: datetime, account_id: str | None = None
) -> bool:
    """Queue a row for delivery now, whatever its state; False if there is no such row."""
    statement = (
        update(outbox)
        .where(outbox.c.id == outbox_id)
        .values(state=PENDING, next_attempt_at=now, pending_since=now, delivered_at=None)
    )
    if account_id is not None:
        statement = statement.where(outbox.c.account_id == account_id)
    result = await connection.execute(statement)
    return bool(result.rowcount)


_RECORD_COLUMNS = (
    outbox.c.id,
    outbox.c.account_id,
    outbox.c.kind,
    outbox.c.state,
    outbox.c.method,
    outbox.c.url,
    outbox.c.body,
    outbox.c.event_type,
    outbox.c.event_id,
    outbox.c.subscription_id,
    outbox.c.attempts,
    outbox.c.next_attempt_at,
    outbox.c.created_at,
    outbox.c.delivered_at,
    outbox.c.last_status,
    outbox.c.last_error,
)


async def get_item(connection: AsyncConnection, outbox_id: str) -> OutboxRecord | None:
    result = await connection.execute(select(*_RECORD_COLUMNS).where(outbox.c.id == outbox_id))
    row = result.first()
    return None if row is None else OutboxRecord(**row._mapping)


async def list_items(
    connection: AsyncConnection,
    *,
    account_id: str | None = None,
    subscription_id: str | None = None,
    limit: int = 100,
) -> list[OutboxRecord]:
    """Rows newest first, for an account and/or a subscription."""
    statement = select(*_RECORD_COLUMNS).order_by(outbox.c.id.desc()).limit(limit)
    if account_id is not None:
        statement = statement.where(outbox.c.account_id == account_id)
    if subscription_id is not None:
        statement = statement.where(outbox.c.subscription_id == subscription_id)
    result = await connection.execute(statement)
    return [OutboxRecord(**row._mapping) for row in result.all()]


async def items_mentioning(
    connection: AsyncConnection,
    account_id: str,
    text: str,
    *,
    from_id: str,
    until_id: str,
    limit: int,
) -> list[OutboxRecord]:
    """An account's rows, newest first, whose URL or body contains ``text`` (a message id),
    among the rows with ids in [from_id, until_id): a bounded stretch of the outbox."""
    pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
    statement = (
        select(*_RECORD_COLUMNS)
        .where(
            outbox.c.account_id == account_id,
            outbox.c.id >= from_id,
            outbox.c.id < until_id,
            outbox.c.url.like(pattern, escape="\\") | outbox.c.body.like(pattern, escape="\\"),
        )
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    result = await connection.execute(statement)
    return [OutboxRecord(**row._mapping) for row in result.all()]


async def list_attempts(
    connection: AsyncConnection, outbox_ids: Collection[str]
) -> list[AttemptRecord]:
    """The attempts of the given rows, in the order they were made."""
    if not outbox_ids:
        return []
    result = await connection.execute(
        select(
            delivery_attempts.c.outbox_id,
            delivery_attempts.c.at,
            delivery_attempts.c.status_code,
            delivery_attempts.c.latency_ms,
            delivery_attempts.c.error,
        )
        .where(delivery_attempts.c.outbox_id.in_(list(outbox_ids)))
        .order_by(delivery_attempts.c.id)
    )
    return [AttemptRecord(*row) for row in result.all()]


# --- webhook subscriptions ------------------------------------------------------------------

_SUBSCRIPTION_COLUMNS = (
    webhook_subscriptions.c.id,
    webhook_subscriptions.c.account_id,
    webhook_subscriptions.c.url,
    webhook_subscriptions.c.event_types,
    webhook_subscriptions.c.secret,
    webhook_subscriptions.c.created_at,
    webhook_subscriptions.c.payload_format,
)


async def insert_subscription(connection: AsyncConnection, row: SubscriptionRow) -> None:
    await connection.execute(insert(webhook_subscriptions), [dict(row)])


async def get_subscription(
    connection: AsyncConnection, subscription_id: str
) -> SubscriptionRecord | None:
    result = await connection.execute(
        select(*_SUBSCRIPTION_COLUMNS).where(webhook_subscriptions.c.id == subscription_id)
    )
    row = result.first()
    return None if row is None else SubscriptionRecord(*row)


async def list_subscriptions(
    connection: AsyncConnection, account_ids: Collection[str]
) -> list[SubscriptionRecord]:
    if not account_ids:
        return []
    result = await connection.execute(
        select(*_SUBSCRIPTION_COLUMNS)
        .where(webhook_subscriptions.c.account_id.in_(list(account_ids)))
        .order_by(webhook_subscriptions.c.id)
    )
    return [SubscriptionRecord(*row) for row in result.all()]


# The status writer's query, once per batch: at driver level (one round trip to the driver,
# the account ids one list parameter), in the caller's transaction.
_SUBSCRIPTIONS_OF_ACCOUNTS = DriverQuery(
    sqlite="""
SELECT id, account_id, url, event_types, secret, created_at, payload_format
FROM webhook_subscriptions WHERE account_id IN (SELECT value FROM json_each(?)) ORDER BY id
""",
    postgresql="""
SELECT id, account_id, url, event_types, secret, created_at, payload_format
FROM webhook_subscriptions WHERE account_id = ANY($1::varchar[]) ORDER BY id
""",
)


async def subscriptions_of_accounts(
    connection: AsyncConnection, account_ids: Collection[str]
) -> list[SubscriptionRecord]:
    """What :func:`list_subscriptions` returns, read at driver level (the status hooks' path)."""
    if not account_ids:
        return []
    rows = await fetch_rows(connection, _SUBSCRIPTIONS_OF_ACCOUNTS, sorted(account_ids))
    if not rows:
        return []
    dialect = connection.dialect
    to_datetime: Callable[[Any], Any] = webhook_subscriptions.c.created_at.type.dialect_impl(
        dialect
    ).result_processor(dialect, None) or (lambda value: value)
    return [
        SubscriptionRecord(
            subscription_id, account_id, url, event_types, secret, to_datetime(at), payload_format
        )
        for subscription_id, account_id, url, event_types, secret, at, payload_format in rows
    ]


async def delete_subscription(connection: AsyncConnection, subscription_id: str) -> bool:
    result = await connection.execute(
        delete(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
    )
    return bool(result.rowcount)


async def release(
    connection: AsyncConnection, outbox_ids: Collection[str], *, now: datetime
) -> None:
    """Give back leased rows a stopping worker never finished, so they are due at once."""
    if not outbox_ids:
        return
    await connection.execute(
        update(outbox)
        .where(outbox.c.id.in_(list(outbox_ids)), outbox.c.state == PENDING)
        .values(next_attempt_at=now)
    )
