"""Rows kept only for a time, pruned by every dispatching process: carriers' references of
inbound messages (core.inbound_references) and expired idempotency records
(core.idempotency_pruning). Each names what it deletes; this module deletes it in batches, so a
first pruning after a long time does not hold the database's write lock for one long
statement, and repeats it on an interval. A pruning is idempotent, so several processes on
PostgreSQL agree."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.engine import Database

log = structlog.get_logger("tidings.core")

# Rows deleted per transaction.
PRUNE_BATCH = 5000

DeleteBatch = Callable[[AsyncConnection, int], Awaitable[int]]


async def in_batches(database: Database, delete_batch: DeleteBatch, batch: int) -> int:
    """Run ``delete_batch(connection, batch)`` (which deletes up to ``batch`` rows and says
    how many) in transactions of its own until it deletes fewer; return how many in all."""
    removed = 0
    while True:
        async with database.write() as connection:
            count = await delete_batch(connection, batch)
        removed += count
        if count < batch:
            return removed


async def periodically(
    prune: Callable[[], Awaitable[int]], *, interval_seconds: float, what: str
) -> None:
    """``prune()`` now and every ``interval_seconds`` until cancelled; a pruning that fails
    (the database away) is logged and tried again at the next turn."""
    while True:
        try:
            removed = await prune()
        except Exception:
            log.exception("pruning failed", what=what)
        else:
            if removed:
                log.info("pruned", what=what, removed=removed)
        await asyncio.sleep(interval_seconds)
