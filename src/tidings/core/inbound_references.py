"""Carriers' ids of inbound messages (``inbound_references``: a WhatsApp wamid per account),
kept so that a carrier sending a message again stores it once, and only for as long as a
carrier does that.

Meta sends a webhook again until it is answered 200, for up to 7 days. A reference is kept
``TIDINGS_INBOUND_REFERENCE_RETENTION_DAYS`` (14) after the message's own time (its
``received_at``, the carrier's timestamp), then pruned by every dispatching process
(:func:`prune_periodically`, through ``core.pruning``). Nothing else reads them: a user's
reply names the business message it answers, whose wamid stays with that message's part.

The trade-off: once a reference is gone, the message it named can no longer be told from a
new one. So the status writer does not store a message whose reference is older than the
retention (:func:`too_old`, asked in the transaction that would store it, so a pruning at
that moment cannot slip a duplicate in): it cannot be one of Meta's retries, which stop after
7 days; it is a signed body sent again later, by hand or by someone who kept it. A message
that is really new but stamped that long ago (a carrier clock more than a week off) is lost
with it, and a warning says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from tidings.core import pruning
from tidings.core.accounts import utcnow
from tidings.store import dispatch as store
from tidings.store.engine import Database


def oldest_kept(retention: timedelta, now: datetime | None = None) -> datetime:
    """The time before which references are pruned: ``retention`` before ``now``."""
    return (now or utcnow()) - retention


def too_old(at: datetime, retention: timedelta, now: datetime | None = None) -> bool:
    """Whether a message stamped ``at`` is older than the references kept: its own may have
    been pruned already, so it could not be told from one stored before."""
    return at < oldest_kept(retention, now)


async def prune(
    database: Database,
    *,
    retention: timedelta,
    now: datetime | None = None,
    batch: int = pruning.PRUNE_BATCH,
) -> int:
    """Forget the references of messages received more than ``retention`` ago; return how
    many."""
    before = oldest_kept(retention, now)
    return await pruning.in_batches(
        database,
        lambda connection, limit: store.delete_old_inbound_references(
            connection, received_before=before, limit=limit
        ),
        batch,
    )


async def prune_periodically(
    database: Database, *, retention: timedelta, interval_seconds: float
) -> None:
    """Prune now and every ``interval_seconds`` until cancelled."""
    await pruning.periodically(
        partial(prune, database, retention=retention),
        interval_seconds=interval_seconds,
        what="inbound references",
    )
