"""Expired idempotency records pruned: a ``request_id`` or ``Idempotency-Key`` replays its
first answer for ``TIDINGS_IDEMPOTENCY_DAYS`` (core.messaging); after that its record only
takes room, and a busy account would otherwise grow the table by every send it ever made.

Every dispatching process prunes them, through ``core.pruning``. A record past its window is
already ignored by the send path (and replaced when its key comes again), so removing it
changes no answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from tidings.core import pruning
from tidings.core.accounts import utcnow
from tidings.store import messages as store
from tidings.store.engine import Database


async def prune(
    database: Database,
    *,
    window: timedelta,
    now: datetime | None = None,
    batch: int = pruning.PRUNE_BATCH,
) -> int:
    """Forget the idempotency records older than ``window``; return how many."""
    before = (now or utcnow()) - window
    return await pruning.in_batches(
        database,
        lambda connection, limit: store.delete_expired_idempotency(
            connection, before=before, limit=limit
        ),
        batch,
    )


async def prune_periodically(
    database: Database, *, window: timedelta, interval_seconds: float
) -> None:
    """Prune now and every ``interval_seconds`` until cancelled."""
    await pruning.periodically(
        partial(prune, database, window=window),
        interval_seconds=interval_seconds,
        what="idempotency records",
    )
