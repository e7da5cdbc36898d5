"""An account's activity at a glance (the console's dashboard): today's messages by direction
and status, the delivery rate, throughput per minute over the last hour, the queue and the
webhook deliveries that gave up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tidings.core.accounts import utcnow
from tidings.lifecycle import DELIVERED_STATUSES, FINAL_STATUSES, MessageStatus
from tidings.store import activity as store
from tidings.store import messages as message_store
from tidings.store.activity import FailedDelivery
from tidings.store.engine import Database
from tidings.store.ids import id_floor
from tidings.store.records import AccountRecord

_QUEUED = (MessageStatus.QUEUED.value, MessageStatus.SUBMITTING.value)
# Outcomes a delivery rate is taken over: cancelled messages never tried.
_OUTCOMES = frozenset(s.value for s in FINAL_STATUSES) - {MessageStatus.CANCELLED.value}
_CHART_MINUTES = 60


@dataclass(frozen=True, slots=True)
class MinutePoint:
    minute: str  # "HH:MM" in the account's time zone
    sent: int  # outbound messages accepted that minute
    received: int  # inbound messages
    delivered: int  # outbound messages whose receipt said delivered that minute


@dataclass(frozen=True, slots=True)
class Activity:
    since: datetime
    by_status: dict[str, int]  # outbound, today
    by_channel: dict[str, dict[str, int]]  # outbound, today: channel → status → count
    received: int  # inbound, today
    delivery_rate: float | None  # delivered / final outcomes today; None before any outcome
    queue_depth: int
    per_minute: list[MinutePoint]
    failed_webhooks: int
    latest_failed_webhooks: list[FailedDelivery]

    @property
    def sent(self) -> int:
        return sum(self.by_status.values())


def start_of_day(account: AccountRecord, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(account.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def activity(database: Database, account: AccountRecord) -> Activity:
    now = utcnow()
    since = start_of_day(account, now)
    hour_ago = (now - timedelta(minutes=_CHART_MINUTES - 1)).replace(second=0, microsecond=0)
    async with database.read() as connection:
        counts = await store.counts_since(connection, account.id, since)
        created = await store.created_per_minute(connection, account.id, hour_ago)
        delivered = await store.finished_per_minute(
            connection,
            account.id,
            hour_ago,
            sorted(s.value for s in DELIVERED_STATUSES),
            created_since=hour_ago - timedelta(days=1),
        )
        queue = await store.count_in_statuses(connection, account.id, _QUEUED)
        failed_total, failed = await store.failed_deliveries(connection, account.id, limit=5)
    by_status: dict[str, int] = {}
    by_channel: dict[str, dict[str, int]] = {}
    for c in counts:
        if c.direction == "out":
            by_status[c.status] = by_status.get(c.status, 0) + c.count
            by_channel.setdefault(c.channel, {})[c.status] = c.count
    received = sum(c.count for c in counts if c.direction == "in")
    outcomes = sum(n for s, n in by_status.items() if s in _OUTCOMES)
    delivered_count = sum(by_status.get(s.value, 0) for s in DELIVERED_STATUSES)
    rate = None if outcomes == 0 else delivered_count / outcomes
    zone = ZoneInfo(account.timezone)
    points: dict[str, list[int]] = {}
    for offset in range(_CHART_MINUTES):
        minute = hour_ago + timedelta(minutes=offset)
        points[minute.strftime("%Y-%m-%d %H:%M")] = [0, 0, 0]
    for item in created:
        if item.minute in points:
            points[item.minute][0 if item.direction == "out" else 1] += item.count
    for item in delivered:
        if item.minute in points:
            points[item.minute][2] += item.count
    per_minute = [
        MinutePoint(
            datetime.strptime(key, "%Y-%m-%d %H:%M")
            .replace(tzinfo=now.tzinfo)
            .astimezone(zone)
            .strftime("%H:%M"),
            *values,
        )
        for key, values in points.items()
    ]
    return Activity(
        since=since,
        by_status=by_status,
        by_channel=by_channel,
        received=received,
        delivery_rate=rate,
        queue_depth=queue,
        per_minute=per_minute,
        failed_webhooks=failed_total,
        latest_failed_webhooks=failed,
    )


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed after a point, in every account: status changes and new messages."""

    status_changes: list[store.StatusChange]
    new_messages: list[store.NewMessage]


async def latest_change(database: Database) -> tuple[int, str]:
    """Where "after now" begins: the last history entry and the first id of this moment."""
    async with database.read() as connection:
        event_id = await store.latest_event_id(connection)
    return event_id, id_floor(int(utcnow().timestamp() * 1000))


async def changes_after(
    database: Database, event_id: int, message_id: str, *, limit: int
) -> Changes:
    async with database.read() as connection:
        return Changes(
            await store.status_changes_after(connection, event_id, limit=limit),
            await store.messages_created_after(connection, message_id, limit=limit),
        )


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """The whole service as its operator sees it (every account)."""

    database_ok: bool
    database_error: str | None
    messages_by_status: dict[str, int]
    outbox_by_state: dict[str, int]

    @property
    def queue_depth(self) -> int:
        return sum(self.messages_by_status.get(s, 0) for s in _QUEUED)


async def service_health(database: Database) -> ServiceHealth:
    try:
        await database.ping()
        async with database.read() as connection:
            by_status = await message_store.count_messages_by_status(connection)
            by_state = await store.outbox_by_state(connection)
    except Exception as error:  # any failure is the answer: the database is not usable
        return ServiceHealth(False, f"{type(error).__name__}: {error}", {}, {})
    return ServiceHealth(True, None, by_status, by_state)
