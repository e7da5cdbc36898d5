"""Expired idempotency records pruned: a ``request_id`` or ``Idempotency-Key`` replays its
first answer for ``TIDINGS_IDEMPOTENCY_DAYS`` (core.messaging); after that its record only
takes room, and a busy account would otherwise grow the table by every send it ever made.

Every dispatching process prunes, as unused media and inbound references are pruned; a
pruning is idempotent, so several processes on PostgreSQL agree. A record past its window is
already ignored by the send path (and replaced when its key comes again), so removing it
changes no answer.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import structlog

from tidings.core.accounts import utcnow
from tidings.store import messages as store
from tidings.store.engine import Database

log = structlog.get_logger("tidings.core")

# Records forgotten per transaction: a first pruning after an upgrade does not hold the
# database's write lock for one long statement.
PRUNE_BATCH = 5000


async def prune(
    database: Database,
    *,
    window: timedelta,
    now: datetime | None = None,
    batch: int = PRUNE_BATCH,
) -> int:
    """Forget the idempotency records older than ``window``; return how many."""
    before = (now or utcnow()) - window
    removed = 0
    while True:
        async with database.write() as connection:
            count = await store.delete_expired_idempotency(connection, before=before, limit=batch)
        removed += count
        if count < batch:
            return removed


async def prune_periodically(
    database: Database, *, window: timedelta, interval_seconds: float
) -> None:
    """Prune now and every ``interval_seconds`` until cancelled; a pruning that fails (the
    database away) is logged and tried again at the next turn."""
    while True:
        try:
            removed = await prune(database, window=window)
        except Exception:
            log.exception("pruning idempotency records failed")
        else:
            if removed:
                log.info("idempotency records pruned", removed=removed)
        await asyncio.sleep(interval_seconds)
