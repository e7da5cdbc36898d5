"""The way in for what far ends send: reports on what we handed over, and inbound messages.

Every transport's reports and inbound messages come through a :class:`Reception`, whichever
process received them: the dispatcher's (SMPP receipts and deliver_sm, SIP call ends, fax
DSNs over SMTP) or an API process's (MM7 and WhatsApp call us over HTTP). Each has its own
status writer, with the same hooks, so what a report or a message causes (callbacks, threads,
opt-outs, keywords) is written in the transaction that records it, in any process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tidings.core import routing
from tidings.core.channels import Channel
from tidings.core.content import Attachments, dump_content, load_content
from tidings.dispatch.outcomes import Inbound, InboundOutcome, Report
from tidings.dispatch.writer import InboundHook, StatusHook, StatusWriter
from tidings.errors import NotFound
from tidings.store import unrouted as unrouted_store
from tidings.store.engine import Database
from tidings.store.ids import new_id

log = structlog.get_logger("tidings.dispatch")

# How long the owner of an address is remembered (numbers are registered rarely; a message to
# a number just registered waits at most this long to find its account).
OWNER_TTL = 10.0


class FoldFirst(Collector):
    """Registered ahead of metrics kept partly in plain integers: folds those into them just
    before the registry collects them (a counter's inc() takes a lock and a few checks, several
    microseconds per message)."""

    def __init__(self, fold: Callable[[], None]) -> None:
        self._fold = fold

    def describe(self) -> list[Metric]:
        return []  # names nothing, so registering it does not collect

    def collect(self) -> list[Metric]:
        self._fold()
        return []


class ReceptionMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.report_counts: dict[str, int] = {}
        if registry is not None:
            registry.register(FoldFirst(self.fold))
        self.receipts = Counter(
            "tidings_receipts",
            "Reports from the far end (delivery receipts), by the far end's state",
            ["state"],
            registry=registry,
        )
        self.unmatched_receipts = Counter(
            "tidings_unmatched_receipts", "Reports that matched no message", registry=registry
        )
        self.inbound = Counter(
            "tidings_inbound_messages",
            "Inbound (mobile-originated) messages, by outcome",
            ["outcome"],
            registry=registry,
        )

    def fold(self) -> None:
        counts = self.report_counts
        for state, count in counts.items():
            if count:
                counts[state] = 0
                self.receipts.labels(state=state).inc(count)


class Reception:
    """Reports and inbound messages on their way to this process's status writer."""

    def __init__(
        self,
        database: Database,
        *,
        registry: CollectorRegistry | None = None,
        status_hooks: Sequence[StatusHook] = (),
        inbound_hooks: Sequence[InboundHook] = (),
        reference_variants: Callable[[str], Sequence[str]] | None = None,
        after_inbound: Callable[[], None] | None = None,
        max_batch: int = 1000,
        receipt_batch: int = 300,
        references_kept_for: timedelta | None = None,
    ) -> None:
        self.database = database
        self.metrics = ReceptionMetrics(registry)
        self.writer = StatusWriter(
            database,
            max_batch=max_batch,
            receipt_batch=receipt_batch,
            status_hooks=status_hooks,
            inbound_hooks=inbound_hooks,
            on_unmatched=lambda _: self.metrics.unmatched_receipts.inc(),
            after_inbound=after_inbound,
            reference_variants=reference_variants,
            references_kept_for=references_kept_for,
        )
        self._owners: dict[str, tuple[str | None, float]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start the status writer. An API process's reception starts at its first report or
        inbound message: most never get one (only MM7 and WhatsApp call us over HTTP)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self.writer.start()

    async def stop(self) -> None:
        """Write what is pending (see ``StatusWriter.stop``)."""
        if self._loop is not None:
            await self.writer.stop()
        self.metrics.fold()

    def report(self, report: Report) -> asyncio.Future[None]:
        """Record a report; the future completes once it is committed (or parked to retry)."""
        if self._loop is None:
            self.start()
        counts = self.metrics.report_counts
        counts[report.state] = counts.get(report.state, 0) + 1
        return self.writer.report(report)

    def inbound(self, message: Inbound) -> asyncio.Future[None]:
        """Store an inbound message for the account owning the address it was sent to.

        The future completes once it is committed: for an address no account owns, once it is
        kept as unrouted for an operator to assign (:meth:`assign`). It fails with the error if
        the owner could not be looked up or it could not be kept, so the carrier is answered
        with a temporary error and sends it again.
        """
        if self._loop is None:
            self.start()
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        task = loop.create_task(self._route_and_store(message, future))
        task.add_done_callback(lambda t: _settle(t, future))
        return future

    async def _route_and_store(self, message: Inbound, future: asyncio.Future[None]) -> None:
        owner = await self._owner_of(message.recipient)
        if owner is None:
            kept = new_id()
            async with self.database.write() as connection:
                await unrouted_store.keep_unrouted(
                    connection,
                    id=kept,
                    sender=message.sender,
                    recipient=message.recipient,
                    body=message.body,
                    encoding=message.encoding,
                    parts_count=message.parts_count,
                    received_at=message.at,
                    route_id=message.route_id,
                    detail=message.detail,
                    channel=message.channel.value,
                    subject=message.subject,
                    content=dump_content(message.content),
                )
            log.warning(
                "inbound message for a number no account owns, kept as unrouted",
                to=message.recipient,
                id=kept,
            )
            self.metrics.inbound.labels(outcome="unroutable").inc()
            return
        self.metrics.inbound.labels(outcome="stored").inc()
        await self.deliver(
            InboundOutcome(
                owner,
                message.sender,
                message.recipient,
                message.body,
                message.encoding,
                message.parts_count,
                message.at,
                message.detail,
                message.route_id,
                message.channel,
                message.subject,
                message.content,
                message.reference,
            )
        )

    def deliver(self, message: InboundOutcome) -> asyncio.Future[None]:
        """Store an inbound message as its account's, with everything it triggers (threads,
        STOP/START/HELP, keywords, webhooks); the future completes once it is committed."""
        if self._loop is None:
            self.start()
        return self.writer.inbound(message)

    async def assign(self, message_id: str, account_id: str) -> None:
        """Hand a message kept as unrouted to an account, which receives it as if it had just
        arrived; it leaves the unrouted ones once the account has it (a crash in between keeps
        it in both rather than in neither)."""
        async with self.database.read() as connection:
            kept = await unrouted_store.find_unrouted(connection, message_id)
        if kept is None:
            raise NotFound(f"no unrouted inbound message {message_id}")
        await self.deliver(
            InboundOutcome(
                account_id,
                kept.sender,
                kept.recipient,
                kept.body,
                kept.encoding,
                kept.parts_count,
                kept.received_at,
                kept.detail,
                kept.route_id,
                Channel(kept.channel),
                kept.subject,
                load_content(Attachments, kept.content),
            )
        )
        async with self.database.write() as connection:
            await unrouted_store.forget_unrouted(connection, message_id)
        self._owners.pop(kept.recipient, None)

    async def _owner_of(self, address: str) -> str | None:
        loop = self._loop or asyncio.get_running_loop()
        cached = self._owners.get(address)
        if cached is not None and cached[1] > loop.time():
            return cached[0]
        sender = await routing.owner_of_number(self.database, address)
        owner = None if sender is None else sender.account_id
        self._owners[address] = (owner, loop.time() + OWNER_TTL)
        return owner


def _settle(task: asyncio.Task[None], future: asyncio.Future[None]) -> None:
    """The inbound message's future completes as its task did: stored, failed (the carrier
    gets a temporary error), or cancelled (stopping; the carrier sends it again)."""
    if future.done():
        return
    if task.cancelled():
        future.cancel()
        return
    error = task.exception()
    if error is None:
        future.set_result(None)
        return
    log.error("storing an inbound message failed", error=f"{type(error).__name__}: {error}")
    future.set_exception(error)


def now() -> datetime:
    return datetime.now(UTC)
