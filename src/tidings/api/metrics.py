"""Prometheus metrics in a registry owned by one app (never the process-global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from tidings.lifecycle import MessageStatus
from tidings.store import messages as message_store
from tidings.store import unrouted as unrouted_store
from tidings.store.engine import Database

# Waiting to be claimed by a dispatcher, or claimed and not yet answered by the SMSC.
_QUEUED_STATUSES = (MessageStatus.QUEUED, MessageStatus.SUBMITTING)


class ServiceMetrics:
    """Gauges read from the store at scrape time; dispatch registers its own in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.messages = Gauge(
            "tidings_messages", "Messages by status", ["status"], registry=registry
        )
        self.queue_depth = Gauge(
            "tidings_queue_depth", "Messages queued or being submitted", registry=registry
        )
        self.unrouted_inbound = Gauge(
            "tidings_unrouted_inbound",
            "Inbound messages to numbers no account owns, waiting for an operator to assign them",
            registry=registry,
        )

    async def refresh(self, database: Database) -> None:
        async with database.read() as connection:
            counts = await message_store.count_messages_by_status(connection)
            self.unrouted_inbound.set(await unrouted_store.count_unrouted(connection))
        for status in MessageStatus:
            self.messages.labels(status=status.value).set(counts.get(status.value, 0))
        self.queue_depth.set(sum(counts.get(s.value, 0) for s in _QUEUED_STATUSES))
