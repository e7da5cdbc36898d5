"""Campaigns: the rows, their expansion lease and cursor, and counts over their messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.messages import CANCELLABLE, CANCELLED
from tidings.store.models import campaigns, message_events, messages
from tidings.store.records import _Record


@dataclass(frozen=True, slots=True)
class CampaignRecord(_Record):
    id: str
    account_id: str
    name: str
    body: str
    sender: str
    targets: str
    list_ids: str
    exclude_list_ids: str
    send_at: datetime | None
    status: str
    targets_done: bool
    expand_cursor: str | None
    expanded_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    targets_total: int
    invalid_counts: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    channel: str
    subject: str | None
    content: str | None


async def insert_campaign(connection: AsyncConnection, **values: Any) -> CampaignRecord:
    row = (await connection.execute(insert(campaigns).values(**values).returning(campaigns))).one()
    return CampaignRecord.from_row(row)


async def find_campaign(
    connection: AsyncConnection, account_id: str | None, campaign_id: str
) -> CampaignRecord | None:
    """The campaign if it belongs to ``account_id`` (any account's when None: the runner)."""
    query = select(campaigns).where(campaigns.c.id == campaign_id)
    if account_id is not None:
        query = query.where(campaigns.c.account_id == account_id)
    row = (await connection.execute(query)).one_or_none()
    return None if row is None else CampaignRecord.from_row(row)


async def list_campaigns(
    connection: AsyncConnection,
    account_id: str,
    *,
    limit: int,
    statuses: Iterable[str] = (),
    before_id: str | None = None,
) -> list[CampaignRecord]:
    """An account's campaigns, newest first; ``before_id`` continues a previous page."""
    query = select(campaigns).where(campaigns.c.account_id == account_id)
    status_list = list(statuses)
    if status_list:
        query = query.where(campaigns.c.status.in_(status_list))
    if before_id is not None:
        query = query.where(campaigns.c.id < before_id)
    query = query.order_by(campaigns.c.id.desc()).limit(limit)
    return [CampaignRecord.from_row(row) for row in await connection.execute(query)]


class CampaignChanges(TypedDict, total=False):
    """What a status change of a campaign (``campaigns``) may write with it: the new status and
    its times, the lease it drops, and the edits of a campaign not started yet."""

    status: str
    started_at: datetime | None
    completed_at: datetime
    cancelled_at: datetime
    updated_at: datetime
    lease_owner: None
    lease_expires_at: None
    name: str
    body: str
    sender: str
    channel: str
    subject: str | None
    content: str | None
    targets: str
    list_ids: str
    exclude_list_ids: str
    send_at: datetime | None


async def change_status(
    connection: AsyncConnection,
    account_id: str,
    campaign_id: str,
    *,
    from_statuses: Iterable[str],
    values: CampaignChanges,
) -> CampaignRecord | None:
    """Apply ``values`` if the campaign is in one of ``from_statuses``; None if it was not.

    The status test is part of the UPDATE, so of two concurrent changes exactly one wins.
    """
    row = (
        await connection.execute(
            update(campaigns)
            .where(
                campaigns.c.account_id == account_id,
                campaigns.c.id == campaign_id,
                campaigns.c.status.in_(list(from_statuses)),
            )
            .values(**values)
            .returning(campaigns)
        )
    ).one_or_none()
    return None if row is None else CampaignRecord.from_row(row)


async def delete_draft(connection: AsyncConnection, account_id: str, campaign_id: str) -> bool:
    result = await connection.execute(
        delete(campaigns).where(
            campaigns.c.account_id == account_id,
            campaigns.c.id == campaign_id,
            campaigns.c.status == "draft",
        )
    )
    return bool(result.rowcount)


async def has_due_scheduled(connection: AsyncConnection, *, now: datetime) -> bool:
    query = select(exists().where(campaigns.c.status == "scheduled", campaigns.c.send_at <= now))
    return bool((await connection.execute(query)).scalar())


async def start_due_scheduled(connection: AsyncConnection, *, now: datetime) -> int:
    """Scheduled campaigns whose time has come become running; returns how many."""
    result = await connection.execute(
        update(campaigns)
        .where(campaigns.c.status == "scheduled", campaigns.c.send_at <= now)
        .values(status="running", started_at=now, updated_at=now)
    )
    return int(result.rowcount or 0)


async def expandable_ids(
    connection: AsyncConnection, *, owner: str, now: datetime, limit: int
) -> list[str]:
    """Running campaigns not yet fully expanded whose lease is free, expired or ``owner``'s."""
    result = await connection.execute(
        select(campaigns.c.id)
        .where(
            campaigns.c.status == "running",
            campaigns.c.expanded_at.is_(None),
            or_(
                campaigns.c.lease_expires_at.is_(None),
                campaigns.c.lease_expires_at < now,
                campaigns.c.lease_owner == owner,
            ),
        )
        .order_by(campaigns.c.id)
        .limit(limit)
    )
    return [str(row[0]) for row in result]


async def claim_expansion(
    connection: AsyncConnection, campaign_id: str, *, owner: str, now: datetime, until: datetime
) -> CampaignRecord | None:
    """Take (or renew) the expansion lease: it must be free, expired, or already ``owner``'s.

    A compare-and-set UPDATE, so two runners never both hold it (on PostgreSQL and SQLite).
    """
    row = (
        await connection.execute(
            update(campaigns)
            .where(
                campaigns.c.id == campaign_id,
                campaigns.c.status == "running",
                campaigns.c.expanded_at.is_(None),
                or_(
                    campaigns.c.lease_owner.is_(None),
                    campaigns.c.lease_owner == owner,
                    campaigns.c.lease_expires_at < now,
                ),
            )
            .values(lease_owner=owner, lease_expires_at=until)
            .returning(campaigns)
        )
    ).one_or_none()
    return None if row is None else CampaignRecord.from_row(row)


async def advance_expansion(
    connection: AsyncConnection,
    campaign: CampaignRecord,
    *,
    owner: str,
    targets_done: bool,
    expand_cursor: str | None,
    targets_total: int,
    invalid_counts: str,
    finished: bool,
    now: datetime,
    until: datetime,
) -> bool:
    """Record one written page; False (write nothing more, roll back) if the campaign moved on.

    Guarded by the lease owner, the status and the cursor the page was read from, so a page is
    recorded once even if a lease expired and another runner took over meanwhile.
    """
    cursor_test = (
        campaigns.c.expand_cursor.is_(None)
        if campaign.expand_cursor is None
        else campaigns.c.expand_cursor == campaign.expand_cursor
    )
    result = await connection.execute(
        update(campaigns)
        .where(
            campaigns.c.id == campaign.id,
            campaigns.c.status == "running",
            campaigns.c.lease_owner == owner,
            campaigns.c.targets_done == campaign.targets_done,
            cursor_test,
        )
        .values(
            targets_done=targets_done,
            expand_cursor=expand_cursor,
            targets_total=targets_total,
            invalid_counts=invalid_counts,
            expanded_at=now if finished else None,
            lease_owner=None if finished else owner,
            lease_expires_at=None if finished else until,
            updated_at=now,
        )
    )
    return bool(result.rowcount)


async def release_leases(connection: AsyncConnection, *, owner: str | None = None) -> int:
    """Free expansion leases: one runner's (when it stops), or all (single-process start)."""
    query = update(campaigns).where(campaigns.c.lease_owner.is_not(None))
    if owner is not None:
        query = query.where(campaigns.c.lease_owner == owner)
    result = await connection.execute(query.values(lease_owner=None, lease_expires_at=None))
    return int(result.rowcount or 0)


async def expanded_running(connection: AsyncConnection, *, limit: int) -> list[CampaignRecord]:
    """Running campaigns whose every message is written: candidates for completion."""
    result = await connection.execute(
        select(campaigns)
        .where(campaigns.c.status == "running", campaigns.c.expanded_at.is_not(None))
        .order_by(campaigns.c.id)
        .limit(limit)
    )
    return [CampaignRecord.from_row(row) for row in result]


async def has_unfinished_messages(
    connection: AsyncConnection,
    campaign_id: str,
    *,
    unfinished: Sequence[str],
    sent: str,
    sent_since: datetime,
) -> bool:
    """Whether a message is in an ``unfinished`` status, or ``sent`` at or after ``sent_since``
    (still waiting for its receipt); probes on the index (campaign_id, status)."""
    m = messages.c
    waiting = [s for s in unfinished if s != sent]
    query = select(
        or_(
            exists().where(m.campaign_id == campaign_id, m.status.in_(waiting)),
            exists().where(
                m.campaign_id == campaign_id, m.status == sent, m.status_at >= sent_since
            ),
        )
    )
    return bool((await connection.execute(query)).scalar())


async def count_messages_by_status(connection: AsyncConnection, campaign_id: str) -> dict[str, int]:
    result = await connection.execute(
        select(messages.c.status, func.count())
        .where(messages.c.campaign_id == campaign_id)
        .group_by(messages.c.status)
    )
    return {str(status): int(count) for status, count in result}


async def cancel_messages(connection: AsyncConnection, campaign_id: str, *, at: datetime) -> int:
    """Cancel the campaign's messages still waiting to be sent, each with a history entry.

    As for one message, the status test is in the UPDATE: a message a dispatcher claimed first
    goes out; one it did not claim yet never will.
    """
    rows = (
        await connection.execute(
            update(messages)
            .where(
                and_(
                    messages.c.campaign_id == campaign_id,
                    messages.c.status.in_(CANCELLABLE),
                )
            )
            .values(status=CANCELLED, status_at=at, updated_at=at, next_attempt_at=None)
            .returning(messages.c.id)
        )
    ).all()
    if rows:
        await connection.execute(
            insert(message_events),
            [
                {"message_id": row[0], "status": CANCELLED, "at": at, "detail": "campaign"}
                for row in rows
            ],
        )
    return len(rows)
