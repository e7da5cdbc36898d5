"""The route runner: one route's transport, its queue of claimed messages and the workers that
hand them to the transport, whatever the transport is.

The dispatcher claims messages and puts each on its route's queue; ``transport.concurrency``
workers take them off and call ``transport.submit``, and every outcome goes to the dispatcher's
``finish``. A runner that stops (its route changed or went away, the service stops) hands back
every claim it has not finished: what is still queued at once, what is being submitted once its
carrier answers (or, after a grace period, with the parts accepted so far), so each is claimed
and submitted again, and no part the carrier confirmed is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import structlog

from tidings.dispatch.outcomes import Inbound, Report, SubmitOutcome
from tidings.dispatch.transport import AnyTransport, Claim
from tidings.lifecycle import MessageStatus
from tidings.store import dispatch as dispatch_store
from tidings.store.dispatch import ClaimedMessage
from tidings.store.records import RouteRecord

if TYPE_CHECKING:
    from tidings.core.media import MediaLibrary
    from tidings.dispatch.dispatcher import Dispatcher

log = structlog.get_logger("tidings.dispatch")

# Workers beyond the transport's concurrency: a message waits in a worker for the transport's
# window rather than in the queue, so a freed slot is taken at once.
SPARE_WORKERS = 8


class RouteRunner:
    """One route and its transport; it is the transport's ``TransportContext``."""

    def __init__(
        self, dispatcher: Dispatcher, route: RouteRecord, transport: type[AnyTransport]
    ) -> None:
        self.dispatcher = dispatcher
        self.route = route
        # Runners are made inside the running loop. Asked for again per message, the loop
        # costs a getpid() system call each time (asyncio checks it is not a forked copy).
        self._loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[ClaimedMessage] = asyncio.Queue()
        settings = transport.settings_model.from_stored(route.settings, route.secrets)
        self.transport = transport(route, settings, self)
        self.workers: list[asyncio.Task[None]] = []
        self._ready = asyncio.Event()
        self._stopping = False
        # The claim each worker is submitting: handed back if the worker is cancelled.
        self._submitting: dict[asyncio.Task[None], Claim] = {}
        metrics = dispatcher.metrics
        # The series every accepted submit counts in, looked up once; counted here in a plain
        # integer and folded into it (see DispatchMetrics).
        self._accepted = metrics.submits.labels(route=route.name, outcome="ESME_ROK")
        self._latency = metrics.submit_latency.labels(route=route.name)
        self._accepted_count = 0
        metrics.folds.append(self._fold_counts)

    def _fold_counts(self) -> None:
        if self._accepted_count:
            accepted, self._accepted_count = self._accepted_count, 0
            self._accepted.inc(accepted)

    @property
    def in_flight(self) -> int:
        return self.transport.in_flight

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, *, after: Awaitable[object] | None = None) -> None:
        """Start the transport (once ``after`` is done: the route's previous runner stopping)
        and the workers, which wait for it."""
        loop = self._loop
        self.workers.append(loop.create_task(self._start(after)))
        count = self.transport.concurrency + SPARE_WORKERS
        self.workers += [loop.create_task(self._work()) for _ in range(count)]

    async def _start(self, after: Awaitable[object] | None) -> None:
        if after is not None:
            with contextlib.suppress(Exception):
                await after
        try:
            await self.transport.start()
        finally:
            self._ready.set()

    async def stop(self, grace: float = 15.0) -> None:
        """Stop, handing back every claim not finished (see the module docstring)."""
        self._stopping = True
        dispatcher = self.dispatcher
        for message in _drain(self.queue):
            dispatcher.finish(message, self._handed_back(Claim(message), "before submitting"))
        busy = [task for task in self._submitting if not task.done()]
        if busy:
            # Let the carrier answer what it has been given: an answer is an outcome, and only
            # a hand-over left unanswered may be repeated.
            await asyncio.wait(busy, timeout=grace)
        with contextlib.suppress(Exception):
            await self.transport.stop()
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        self._fold_counts()
        folds = dispatcher.metrics.folds
        if self._fold_counts in folds:
            folds.remove(self._fold_counts)

    async def _work(self) -> None:
        await self._ready.wait()
        dispatcher = self.dispatcher
        loop = self._loop
        task = asyncio.current_task()
        assert task is not None
        submitting = self._submitting
        transport = self.transport
        writer = dispatcher.writer
        while not self._stopping:
            message = await self.queue.get()
            claim = Claim(message, dispatcher.already_sent.pop(message.id, None))
            submitting[task] = claim
            started = loop.time()
            try:
                # While the database is behind, what the carrier accepts would wait unrecorded,
                # and a crash would send it twice: wait for room first.
                await writer.admit_submit()
                outcome = await transport.submit(claim)
            except asyncio.CancelledError:
                dispatcher.finish(message, self._handed_back(claim, "while submitting"))
                raise
            except Exception as exc:  # a bug must not lose the message: retry it later
                log.exception("submitting failed unexpectedly", message_id=message.id)
                outcome = self.retry(claim, "internal error", str(exc))
            finally:
                del submitting[task]
            if outcome.status is MessageStatus.SENT:
                self._accepted_count += len(outcome.sent)
                self._latency.observe(loop.time() - started)
            else:
                dispatcher.metrics.submits.labels(
                    route=self.route.name, outcome=outcome.error_code or outcome.status.value
                ).inc()
            dispatcher.finish(message, outcome)

    def _handed_back(self, claim: Claim, when: str) -> SubmitOutcome:
        """Queued again at once, with the parts accepted so far: the route stopped."""
        now = _now()
        return SubmitOutcome(
            claim.message,
            MessageStatus.QUEUED,
            now,
            claim.sent,
            "route_stopped",
            f"the route stopped {when}; resubmitting unconfirmed parts",
            retry_at=now,
        )

    # --- TransportContext ---------------------------------------------------------------------

    def sent(self, claim: Claim) -> SubmitOutcome:
        return SubmitOutcome(claim.message, MessageStatus.SENT, _now(), claim.sent)

    def retry(self, claim: Claim, error_code: str, detail: str) -> SubmitOutcome:
        outcome = self.dispatcher.retry_outcome(claim.message, error_code, detail)
        outcome.sent = claim.sent
        return outcome

    def rejected(self, claim: Claim, error_code: str, detail: str) -> SubmitOutcome:
        return SubmitOutcome(
            claim.message, MessageStatus.REJECTED, _now(), claim.sent, error_code, detail
        )

    def failed(self, claim: Claim, error_code: str, detail: str) -> SubmitOutcome:
        return SubmitOutcome(
            claim.message, MessageStatus.FAILED, _now(), claim.sent, error_code, detail
        )

    def report(self, report: Report) -> asyncio.Future[None]:
        return self.dispatcher.reception.report(report)

    def inbound(self, message: Inbound) -> asyncio.Future[None]:
        return self.dispatcher.reception.inbound(message)

    def connections_up(self, count: int) -> None:
        self.dispatcher.metrics.binds_up.labels(route=self.route.name).set(count)

    @property
    def media(self) -> MediaLibrary:
        media = self.dispatcher.media
        if media is None:
            raise RuntimeError("this dispatcher was started without a media store")
        return media

    async def awaiting_reports(self, prefix: str) -> list[str]:
        async with self.dispatcher.database.read() as connection:
            return await dispatch_store.references_awaiting_report(connection, prefix=prefix)

    def malformed(self, what: Literal["report", "inbound"]) -> None:
        metrics = self.dispatcher.reception.metrics
        if what == "report":
            metrics.unmatched_receipts.inc()
        else:
            metrics.inbound.labels(outcome="malformed").inc()


def _now() -> datetime:
    return datetime.now(UTC)


def _drain(queue: asyncio.Queue[ClaimedMessage]) -> list[ClaimedMessage]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
