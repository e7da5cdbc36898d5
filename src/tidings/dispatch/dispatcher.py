"""The dispatcher: claims due messages and hands each to its route's transport.

One dispatcher runs per process (``tidings serve --role dispatcher|all``). On SQLite there is
one; on PostgreSQL several may share the database, each claiming with SKIP LOCKED under a lease
it keeps renewing while it works. Every route has a runner (``dispatch.runner``) with the
transport of its kind (``dispatch.transport``); what the far end sends back goes through the
reception (``dispatch.reception``) to the status writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tidings.core.media import MediaLibrary
from tidings.dispatch.outcomes import Report, SubmitOutcome
from tidings.dispatch.reception import FoldFirst, Reception
from tidings.dispatch.runner import RouteRunner
from tidings.dispatch.transport import TransportRegistry
from tidings.dispatch.writer import InboundHook, StatusHook
from tidings.lifecycle import MessageStatus
from tidings.store import dispatch as store
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.records import RouteRecord

log = structlog.get_logger("tidings.dispatch")


def _default_dispatcher_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{random.randrange(16**6):06x}"


@dataclass(slots=True)
class DispatcherConfig:
    dispatcher_id: str = field(default_factory=_default_dispatcher_id)
    batch_size: int = 1000
    poll_interval: float = 0.05
    # While polls keep finding nothing due, each waits twice as long as the last, up to this:
    # an idle service should cost next to nothing, and new messages announce themselves
    # (notify). What does not announce itself waits at most this long: a retry or a schedule
    # coming due. Not on a shared database, see _idle_ceiling.
    idle_poll_interval: float = 1.0
    claim_gather: float = 0.02
    lease: timedelta = timedelta(minutes=2)
    retry_initial: float = 2.0
    retry_max: float = 300.0
    max_age: timedelta = timedelta(hours=24)
    # Several dispatchers share the database (PostgreSQL): only expired leases are released at
    # start. With one dispatcher every leftover claim is its own from before a restart.
    shared_database: bool = False
    route_reload_interval: float = 5.0
    max_in_flight: int = 5000
    # Submit outcomes per status-writer transaction when no receipt waits (long transactions
    # cost less per row), and at most per transaction while receipts wait (short ones keep
    # them from waiting, unacknowledged, behind a long one).
    max_write_batch: int = 1000
    receipt_write_batch: int = 300
    # A part still ``sent`` this long after its submit gets no receipt any more: it becomes
    # ``unknown`` (the carrier's validity period plus a grace; a late receipt still corrects).
    receipt_deadline: timedelta = timedelta(hours=49)
    receipt_sweep_interval: float = 60.0
    # A call is held in its dispatcher's memory, under a lease renewed with the claims. One
    # whose lease ran out, or still unfinished this long after its INVITE, was cut off by the
    # end of the process that placed it (no call lasts that long: at most 5 min of ringing,
    # 1,200 characters played four times, a minute for a key), so it becomes ``unknown``. With
    # one dispatcher, every unfinished call is cut at a restart.
    call_deadline: timedelta = timedelta(hours=1)
    # How long carriers' references of inbound messages are kept (Settings'
    # inbound_reference_retention_days; None: for ever).
    inbound_references_kept_for: timedelta | None = None


class DispatchMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        # The per-message counts (accepted submits, receipts by state) are kept in plain
        # integers and folded into their counters when the registry is collected, and when
        # their route runner stops: a counter's inc() takes a lock and a few checks, several
        # microseconds per message sent.
        self.folds: list[Callable[[], None]] = []
        if registry is not None:
            registry.register(FoldFirst(self.fold))
        self.submits = Counter(
            "tidings_submits",
            "Hand-overs answered, by outcome (ESME_ROK: accepted parts; else the error code)",
            ["route", "outcome"],
            registry=registry,
        )
        self.submit_latency = Histogram(
            "tidings_submit_latency_seconds",
            "From a worker taking a message to the carrier accepting it (submit_sm_resp)",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=registry,
        )
        self.binds_up = Gauge(
            "tidings_binds_up",
            "Connections to the carrier up (SMPP binds), per route",
            ["route"],
            registry=registry,
        )
        self.window_in_use = Gauge(
            "tidings_window_in_use",
            "Hand-overs awaiting the carrier's answer (SMPP: submits in the window), per route",
            ["route"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "tidings_dispatch_in_flight", "Messages claimed by this dispatcher", registry=registry
        )

    def fold(self) -> None:
        for fold in self.folds:
            fold()


def _now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(
        self,
        database: Database,
        config: DispatcherConfig | None = None,
        *,
        registry: CollectorRegistry | None = None,
        status_hooks: Sequence[StatusHook] = (),
        inbound_hooks: Sequence[InboundHook] = (),
        transports: TransportRegistry,
        media: MediaLibrary | None = None,
    ) -> None:
        self.database = database
        # The media store, for transports that send files (``TransportContext.media``).
        self.media = media
        self.config = config or DispatcherConfig()
        self.transports = transports
        self.metrics = DispatchMetrics(registry)
        # Reports and inbound messages from every route's transport; its status writer also
        # records the outcomes of submits.
        self.reception = Reception(
            database,
            registry=registry,
            status_hooks=status_hooks,
            inbound_hooks=inbound_hooks,
            reference_variants=transports.reference_variants(),
            after_inbound=self.notify,
            max_batch=self.config.max_write_batch,
            receipt_batch=self.config.receipt_write_batch,
            references_kept_for=self.config.inbound_references_kept_for,
        )
        self.writer = self.reception.writer
        self.already_sent: dict[str, set[int]] = {}
        self._routes: dict[int, RouteRecord] = {}
        self._runners: dict[int, RouteRunner] = {}
        # Routes whose kind this process has no transport for (or whose settings its
        # transport refuses), each logged once.
        self._unserved: dict[int, str] = {}
        self._in_flight: set[str] = set()
        # Read when scraped, rather than set at every claim and every submit response.
        self.metrics.in_flight.set_function(lambda: len(self._in_flight))
        self._wakeup = asyncio.Event()
        self._poll_wait = self.config.poll_interval
        self._capacity = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._rng = random.Random()
        self._running = False

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        now = _now()
        async with self.database.write() as connection:
            released = await store.release_interrupted_claims(
                connection, now=now, expired_only=self.config.shared_database
            )
        if released:
            log.warning("released interrupted claims", count=len(released))
        await self._load_routes()
        self.reception.start()
        # The only dispatcher holds no call at its start; with several, only calls that no
        # live one holds.
        await self.settle_interrupted_calls(
            now,
            started_before=now - self.config.call_deadline if self.config.shared_database else None,
        )
        self._running = True
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._claim_loop()),
            loop.create_task(self._housekeeping()),
        ]

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let in-flight submits finish, unbind, and write every outcome."""
        self._running = False
        self._wakeup.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._in_flight and loop.time() < deadline:
            self._capacity.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline - loop.time()):
                    await self._capacity.wait()
        await asyncio.gather(*(r.stop() for r in self._runners.values()), return_exceptions=True)
        self._runners.clear()
        await self.reception.stop()
        # Whatever is still claimed (its outcome unwritten) is released by the crash rule at
        # the next start.

    def notify(self) -> None:
        """New messages may be due: claim now rather than at the next poll."""
        self._wakeup.set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    # --- claiming -------------------------------------------------------------------------

    async def _anything_due(self, status: MessageStatus, now: datetime) -> bool:
        """Look before taking the write lock: while nothing is due, a poll is a read, and the
        single SQLite writer stays with the API and the status writer."""
        try:
            async with self.database.read() as connection:
                return await store.any_due(connection, status=status, now=now)
        except Exception:
            log.exception("looking for due messages failed")
            return True  # the claim itself reports what is wrong

    async def _claim_loop(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        promoted_at = 0.0
        # After a claim that came up short, the next one is made only if something is due (or
        # new messages were announced): an idle dispatcher polls with reads.
        look_first = False
        while self._running:
            if loop.time() - promoted_at >= 1.0:
                # Scheduled messages become due within a second of their send_at.
                promoted_at = loop.time()
                now = _now()
                if await self._anything_due(MessageStatus.SCHEDULED, now):
                    try:
                        async with self.database.write() as connection:
                            await store.promote_scheduled(connection, now=now)
                    except Exception:
                        log.exception("promoting scheduled messages failed")
                    look_first = False
            room = config.max_in_flight - len(self._in_flight)
            if room <= 0:
                self._capacity.clear()
                await self._capacity.wait()
                continue
            now = _now()
            if look_first and not await self._anything_due(MessageStatus.QUEUED, now):
                look_first = not await self._wait_for_work(idle=True)
                continue
            try:
                async with self.database.write() as connection:
                    claimed = await store.claim_due(
                        connection,
                        dispatcher_id=config.dispatcher_id,
                        limit=min(room, config.batch_size),
                        now=now,
                        lease_until=now + config.lease,
                    )
                    retried = [m.id for m in claimed if m.attempts > 1]
                    if retried:
                        self.already_sent.update(await store.sent_parts_of(connection, retried))
            except Exception:
                log.exception("claiming failed; retrying")
                await asyncio.sleep(1.0)
                continue
            routes = self._routes
            if any(m.route_id is not None and m.route_id not in routes for m in claimed):
                # A route created a moment ago: look again before deciding.
                with contextlib.suppress(Exception):
                    await self._load_routes()
            for message in claimed:
                self._in_flight.add(message.id)
                runner = self._runner_for(message)
                if isinstance(runner, RouteRunner):
                    runner.queue.put_nowait(message)
                else:
                    self.finish(message, runner)
            look_first = False
            if claimed:
                self._poll_wait = self.config.poll_interval
            if len(claimed) < min(room, config.batch_size):
                # Caught up. Let a few milliseconds' worth of new messages gather before the
                # next claim: one claim per accepted request would take the single SQLite
                # writer away from the API and the status writer hundreds of times a second.
                await asyncio.sleep(config.claim_gather)
                look_first = not await self._wait_for_work()

    async def _wait_for_work(self, *, idle: bool = False) -> bool:
        """Wait up to a poll interval for new messages; True if some were announced. After a
        poll that found nothing (``idle``) the next wait is longer, up to the idle interval."""
        self._wakeup.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._poll_wait):
                await self._wakeup.wait()
        announced = self._wakeup.is_set()
        if announced:
            self._poll_wait = self.config.poll_interval
        elif idle:
            self._poll_wait = min(self._poll_wait * 2, self._idle_ceiling)
        return announced

    @property
    def _idle_ceiling(self) -> float:
        """How long an idle poll may wait. Dispatchers sharing a database keep to the first
        interval: what the API processes store announces nothing to them, and the first one
        awake would claim a whole burst while the others slept, sending it on its binds only."""
        config = self.config
        return config.poll_interval if config.shared_database else config.idle_poll_interval

    def finish(self, message: store.ClaimedMessage, outcome: SubmitOutcome) -> None:
        self.writer.submit_outcome(outcome)
        self._in_flight.discard(message.id)
        self._capacity.set()

    def retry_outcome(
        self, message: store.ClaimedMessage, error_code: str, detail: str
    ) -> SubmitOutcome:
        """Back to the queue with exponential backoff and jitter, until the message is too old."""
        now = _now()
        if now - message.created_at >= self.config.max_age:
            return SubmitOutcome(
                message,
                MessageStatus.FAILED,
                now,
                error_code=error_code,
                detail=f"gave up after {message.attempts} attempts: {detail}",
            )
        delay = min(
            self.config.retry_max, self.config.retry_initial * 2 ** max(0, message.attempts - 1)
        )
        retry_at = now + timedelta(seconds=delay * self._rng.uniform(0.5, 1.0))
        return SubmitOutcome(
            message,
            MessageStatus.QUEUED,
            now,
            error_code=error_code,
            detail=f"attempt {message.attempts}: {detail}; retrying",
            retry_at=retry_at,
        )

    # --- routes ---------------------------------------------------------------------------

    def _runner_for(self, message: store.ClaimedMessage) -> RouteRunner | SubmitOutcome:
        """The runner of the message's route if that carries its channel, else of the
        channel's default route; or the outcome for a message with nowhere to go."""
        channel = message.channel
        route = None if message.route_id is None else self._routes.get(message.route_id)
        if route is None or channel not in route.channels:
            route = next((r for r in self._routes.values() if channel in r.default_for), None)
        if route is None:
            return SubmitOutcome(
                message,
                MessageStatus.FAILED,
                _now(),
                error_code="no_route",
                detail=f"no route carries {channel}",
            )
        runner = self._runner_of(route.id)
        if runner is None:
            # Another version of tidings may serve it: retried until the message is too old.
            return self.retry_outcome(message, "no_transport", self._unserved[route.id])
        return runner

    def _runner_of(
        self, route_id: int, *, after: Awaitable[object] | None = None
    ) -> RouteRunner | None:
        runner = self._runners.get(route_id)
        if runner is None and route_id not in self._unserved:
            route = self._routes[route_id]
            transport = self.transports.find(route.kind)
            try:
                if transport is None:
                    raise LookupError(f"no transport of kind {route.kind!r} in this process")
                runner = RouteRunner(self, route, transport)
            except Exception as error:
                reason = f"route {route.name!r}: {error}"
                log.error("route not served", route=route.name, error=str(error))
                self._unserved[route_id] = reason
                return None
            self._runners[route_id] = runner
            runner.start(after=after)
        return runner

    async def _load_routes(self) -> None:
        async with self.database.read() as connection:
            routes = {r.id: r for r in await route_store.list_routes(connection)}
        stopping: list[RouteRunner] = []
        for route_id, runner in list(self._runners.items()):
            if routes.get(route_id) != runner.route:
                # Changed or removed: its runner hands back its claims, and a new one starts
                # with the new settings once the old one has let go of the carrier.
                del self._runners[route_id]
                stopping.append(runner)
        for route_id in list(self._unserved):
            if routes.get(route_id) != self._routes.get(route_id):
                del self._unserved[route_id]
        self._routes = routes
        loop = asyncio.get_running_loop()
        stops = {runner.route.id: loop.create_task(runner.stop()) for runner in stopping}
        # Bind every route now rather than at its first outgoing message: receipts and inbound
        # messages arrive over these connections, and a number that only receives must be
        # reachable.
        for route_id in routes:
            self._runner_of(route_id, after=stops.get(route_id))
        if stops:
            await asyncio.gather(*stops.values(), return_exceptions=True)

    async def _housekeeping(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while self._running:
            await asyncio.sleep(min(config.route_reload_interval, config.lease.total_seconds() / 3))
            now = _now()
            try:
                async with self.database.write() as connection:
                    await store.renew_claims(
                        connection,
                        dispatcher_id=config.dispatcher_id,
                        lease_until=now + config.lease,
                        held=[m for r in self._runners.values() for m in r.transport.held],
                    )
                    if config.shared_database:
                        await store.release_interrupted_claims(
                            connection, now=now, expired_only=True
                        )
                await self.settle_interrupted_calls(now, started_before=now - config.call_deadline)
                await self._load_routes()
                for runner in self._runners.values():
                    self.metrics.window_in_use.labels(route=runner.route.name).set(runner.in_flight)
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + config.receipt_sweep_interval
                    await self.mark_receipts_overdue(now)
            except Exception:
                log.exception("dispatcher housekeeping failed")

    async def mark_receipts_overdue(self, now: datetime) -> int:
        """Make parts whose receipt is overdue ``unknown``, through the status writer like any
        report (history, callbacks, the message's status from its parts); returns how many."""
        deadline = self.config.receipt_deadline
        async with self.database.read() as connection:
            references = await store.parts_without_receipt(
                connection, submitted_before=now - deadline
            )
        hours = deadline.total_seconds() / 3600
        detail = f"no receipt arrived within {hours:g} h of the submit (validity period and grace)"
        await self._report_unknown(references, "none", None, now, detail)
        return len(references)

    async def settle_interrupted_calls(
        self, now: datetime, *, started_before: datetime | None
    ) -> int:
        """Make calls that the end of their process cut off ``unknown`` (through the status
        writer, like any report); returns how many.

        The far end heard part of the message, or none, or all of it with the end unrecorded:
        which is not known, and no report will ever come. Calls whose lease ran out, or
        placed before ``started_before``; None takes every unfinished call (the only
        dispatcher is starting: none of them is under way)."""
        async with self.database.read() as connection:
            call_ids = await store.unfinished_calls(
                connection, now=now, started_before=started_before
            )
        detail = "the service stopped during the call; how the call ended was not recorded"
        await self._report_unknown(call_ids, "interrupted", "call-interrupted", now, detail)
        if call_ids:
            log.warning("interrupted calls made unknown", count=len(call_ids))
        return len(call_ids)

    async def _report_unknown(
        self,
        references: Sequence[str],
        state: str,
        error_code: str | None,
        now: datetime,
        detail: str,
    ) -> None:
        pending = [
            self.reception.report(
                Report(reference, MessageStatus.UNKNOWN, state, error_code, now, detail=detail)
            )
            for reference in references
        ]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
