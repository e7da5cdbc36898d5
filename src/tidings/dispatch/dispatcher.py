"""The dispatcher: claims due messages and submits them over each route's SMPP binds.

One dispatcher runs per process (``tidings serve --role dispatcher|all``). On SQLite there is
one; on PostgreSQL several may share the database, each claiming with SKIP LOCKED under a lease
it keeps renewing while it works. Receipts and inbound messages come back over the same binds
and go to the status writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tidings.core import routing
from tidings.core.lifecycle import MessageStatus
from tidings.dispatch.outcomes import InboundOutcome, ReceiptOutcome, SubmitOutcome
from tidings.dispatch.pdus import parts_to_submit
from tidings.dispatch.writer import InboundHook, StatusHook, StatusWriter
from tidings.errors import TidingsError
from tidings.net.esme import BindMode, EsmeClient, EsmeConfig, NotBound, SubmitUnacknowledged
from tidings.smpp.concat import IncomingFragment, Reassembler, UdhParseError
from tidings.smpp.constants import TRANSIENT_STATUSES, EsmClass, Tag, status_name
from tidings.smpp.errors import LocalProtocolError
from tidings.smpp.pdu import DataSm, DeliverSm
from tidings.smpp.receipts import (
    ReceiptParseError,
    ReceiptState,
    looks_like_receipt,
    parse_receipt,
)
from tidings.store import dispatch as store
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.records import RouteRecord
from tidings.text import decode, is_binary_data_coding

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
    reassembly_timeout: float = 60.0
    route_reload_interval: float = 5.0
    max_in_flight: int = 5000
    # Submit outcomes per status-writer transaction when no receipt waits (long transactions
    # cost less per row), and at most per transaction while receipts wait (short ones keep
    # them from waiting, unacknowledged, behind a long one).
    max_write_batch: int = 1000
    receipt_write_batch: int = 300


class _FoldFirst(Collector):
    """Registered ahead of the dispatcher's metrics: folds the counts kept in plain integers
    into them just before the registry collects them."""

    def __init__(self, fold: Callable[[], None]) -> None:
        self._fold = fold

    def describe(self) -> list[Metric]:
        return []  # names nothing, so registering it does not collect

    def collect(self) -> list[Metric]:
        self._fold()
        return []


class DispatchMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        # The per-message counts (accepted submits, receipts by state) are kept in plain
        # integers and folded into their counters when the registry is collected, and when
        # their route runner stops: a counter's inc() takes a lock and a few checks, several
        # microseconds per message sent.
        self.folds: list[Callable[[], None]] = []
        if registry is not None:
            registry.register(_FoldFirst(self.fold))
        self.submits = Counter(
            "tidings_submits",
            "submit_sm answered, by outcome",
            ["route", "outcome"],
            registry=registry,
        )
        self.submit_latency = Histogram(
            "tidings_submit_latency_seconds",
            "From claim to the SMSC's submit_sm_resp",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=registry,
        )
        self.receipts = Counter(
            "tidings_receipts", "Delivery receipts received, by state", ["state"], registry=registry
        )
        self.unmatched_receipts = Counter(
            "tidings_unmatched_receipts", "Receipts that matched no message", registry=registry
        )
        self.inbound = Counter(
            "tidings_inbound_messages",
            "Mobile-originated messages, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.binds_up = Gauge(
            "tidings_binds_up",
            "SMPP binds currently bound, per route",
            ["route"],
            registry=registry,
        )
        self.window_in_use = Gauge(
            "tidings_window_in_use",
            "Submits awaiting a response, per route",
            ["route"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "tidings_dispatch_in_flight", "Messages claimed by this dispatcher", registry=registry
        )

    def fold(self) -> None:
        for fold in self.folds:
            fold()


class _RouteRunner:
    """One route: its ESME client, its queue of claimed messages and the workers draining it."""

    def __init__(self, dispatcher: Dispatcher, route: RouteRecord) -> None:
        self.dispatcher = dispatcher
        self.route = route
        # Runners are made inside the running loop. Asked for again per message, the loop
        # costs a getpid() system call each time (asyncio checks it is not a forked copy).
        self._loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[store.ClaimedMessage] = asyncio.Queue()
        self.reassembler = Reassembler(dispatcher.config.reassembly_timeout)
        metrics = dispatcher.metrics
        self.client = EsmeClient(
            EsmeConfig(
                host=route.host,
                port=route.port,
                system_id=route.system_id,
                password=route.password,
                system_type=route.system_type,
                bind_mode=BindMode(route.bind_mode),
                binds=route.binds,
                window=route.window,
                max_tps=float(route.max_tps) if route.max_tps else None,
                name=route.name,
            ),
            on_deliver=self._on_deliver,
            on_bind_change=lambda n: metrics.binds_up.labels(route=route.name).set(n),
        )
        self.workers: list[asyncio.Task[None]] = []
        # The series every accepted submit and every receipt counts in, looked up once.
        self._accepted = metrics.submits.labels(route=route.name, outcome="ESME_ROK")
        self._latency = metrics.submit_latency.labels(route=route.name)
        self._receipts = {
            state: metrics.receipts.labels(state=state.value) for state in ReceiptState
        }
        # Counted here, folded into the two series above (see DispatchMetrics).
        self._accepted_count = 0
        self._receipt_counts = dict.fromkeys(ReceiptState, 0)
        metrics.folds.append(self._fold_counts)

    def _fold_counts(self) -> None:
        if self._accepted_count:
            accepted, self._accepted_count = self._accepted_count, 0
            self._accepted.inc(accepted)
        counts = self._receipt_counts
        for state, count in counts.items():
            if count:
                counts[state] = 0
                self._receipts[state].inc(count)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        # The client binds in the background; submits wait for it (or come back for a retry).
        self.workers.append(loop.create_task(self.client.start(wait=None)))
        count = self.route.window * self.route.binds + 8
        self.workers += [loop.create_task(self._work()) for _ in range(count)]
        self.workers.append(loop.create_task(self._expire_fragments()))

    async def stop(self) -> None:
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        await self.client.stop()
        self._fold_counts()
        folds = self.dispatcher.metrics.folds
        if self._fold_counts in folds:
            folds.remove(self._fold_counts)

    async def _work(self) -> None:
        dispatcher = self.dispatcher
        while True:
            message = await self.queue.get()
            try:
                outcome = await self._submit(message)
            except Exception as exc:  # a bug must not lose the message: retry it later
                log.exception("submitting failed unexpectedly", message_id=message.id)
                outcome = dispatcher.retry_outcome(message, "internal error", str(exc))
            dispatcher.finish(message, outcome)

    async def _submit(self, message: store.ClaimedMessage) -> SubmitOutcome:
        dispatcher = self.dispatcher
        loop = self._loop
        started = loop.time()
        already = dispatcher.already_sent.pop(message.id, None)
        try:
            parts = parts_to_submit(message, self.route, already_sent=already)
        except TidingsError as exc:
            return SubmitOutcome(
                message, MessageStatus.FAILED, _now(), error_code="invalid", detail=exc.message
            )
        sent: list[tuple[int, str]] = []
        metrics = dispatcher.metrics
        name = self.route.name
        for part in parts:
            try:
                response = await self.client.submit(part.pdu)
            except (SubmitUnacknowledged, NotBound) as exc:
                metrics.submits.labels(route=name, outcome="unacknowledged").inc()
                outcome = dispatcher.retry_outcome(message, "no answer from SMSC", exc.message)
                outcome.sent = sent
                return outcome
            except LocalProtocolError as exc:
                return SubmitOutcome(
                    message, MessageStatus.FAILED, _now(), sent, "invalid", exc.message
                )
            status = response.command_status
            if status == 0:
                sent.append((part.seq, response.message_id))  # type: ignore[attr-defined]
                continue
            name_of_status = status_name(status)
            metrics.submits.labels(route=name, outcome=name_of_status).inc()
            if status in TRANSIENT_STATUSES:
                outcome = dispatcher.retry_outcome(
                    message, name_of_status, f"SMSC answered {name_of_status}"
                )
                outcome.sent = sent
                return outcome
            return SubmitOutcome(
                message,
                MessageStatus.REJECTED,
                _now(),
                sent,
                name_of_status,
                f"SMSC refused part {part.seq}: {name_of_status}",
            )
        self._accepted_count += len(parts)
        self._latency.observe(loop.time() - started)
        return SubmitOutcome(message, MessageStatus.SENT, _now(), sent)

    # --- what the SMSC sends us ------------------------------------------------------------

    def _on_deliver(self, pdu: DeliverSm | DataSm) -> asyncio.Future[None] | int:
        dispatcher = self.dispatcher
        short_message = pdu.short_message if isinstance(pdu, DeliverSm) else b""
        is_receipt = (pdu.esm_class & EsmClass.MESSAGE_TYPE_MASK) in (
            EsmClass.DELIVERY_RECEIPT,
            0x08,  # SME delivery acknowledgement
        ) or (
            pdu.get_str_tlv(Tag.RECEIPTED_MESSAGE_ID) is not None
            and looks_like_receipt(short_message)
        )
        if is_receipt:
            try:
                receipt = parse_receipt(
                    short_message,
                    receipted_message_id=pdu.get_str_tlv(Tag.RECEIPTED_MESSAGE_ID),
                    message_state=pdu.get_int_tlv(Tag.MESSAGE_STATE),
                    network_error_code=pdu.tlvs.get(Tag.NETWORK_ERROR_CODE),
                )
            except ReceiptParseError as exc:
                # Acknowledge anyway: refusing would make the SMSC resend it forever.
                log.warning("unreadable receipt", route=self.route.name, error=exc.message)
                dispatcher.metrics.unmatched_receipts.inc()
                return 0
            self._receipt_counts[receipt.state] += 1
            return dispatcher.writer.receipt(
                ReceiptOutcome(receipt.message_id, receipt.state, receipt.error_code, _now())
            )
        return self._inbound(pdu)

    def _inbound(self, pdu: DeliverSm | DataSm) -> asyncio.Future[None] | int:
        sar = None
        ref = pdu.get_int_tlv(Tag.SAR_MSG_REF_NUM)
        total = pdu.get_int_tlv(Tag.SAR_TOTAL_SEGMENTS)
        seq = pdu.get_int_tlv(Tag.SAR_SEGMENT_SEQNUM)
        if ref is not None and total is not None and seq is not None:
            sar = (ref, total, seq)
        fragment = IncomingFragment(
            source=pdu.source_addr,
            destination=pdu.destination_addr,
            data_coding=pdu.data_coding,
            short_message=pdu.short_message if isinstance(pdu, DeliverSm) else b"",
            udhi=bool(pdu.esm_class & EsmClass.UDHI),
            sar=sar,
            message_payload=pdu.tlvs.get(Tag.MESSAGE_PAYLOAD),
        )
        loop = asyncio.get_running_loop()
        try:
            complete = self.reassembler.add(fragment, loop.time())
        except UdhParseError as exc:
            log.warning("malformed inbound UDH", route=self.route.name, error=exc.message)
            self.dispatcher.metrics.inbound.labels(outcome="malformed").inc()
            return 0
        if complete is None:
            return 0  # a part of a longer message; the rest is on its way
        sender = _e164(pdu.source_addr, pdu.source_addr_ton)
        recipient = _e164(pdu.destination_addr, pdu.dest_addr_ton)
        return self.dispatcher.inbound(
            self.route.id,
            sender,
            recipient,
            complete.payload,
            complete.data_coding,
            len(complete.parts),
        )

    async def _expire_fragments(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.reassembler.next_deadline()
            await asyncio.sleep(1.0 if deadline is None else max(0.05, deadline - loop.time()))
            for incomplete in self.reassembler.expire(loop.time()):
                # A message whose other parts never came is still a message: store what we have.
                self.dispatcher.inbound(
                    self.route.id,
                    _e164(incomplete.source, 1 if incomplete.source.isdigit() else 5),
                    _e164(incomplete.destination, 1 if incomplete.destination.isdigit() else 0),
                    incomplete.payload,
                    incomplete.data_coding,
                    len(incomplete.parts),
                    detail=f"incomplete: parts {sorted(incomplete.missing)} never arrived",
                )


def _now() -> datetime:
    return datetime.now(UTC)


def _e164(address: str, ton: int) -> str:
    if ton == 1 and address.isdigit():
        return "+" + address
    return address


class Dispatcher:
    def __init__(
        self,
        database: Database,
        config: DispatcherConfig | None = None,
        *,
        registry: CollectorRegistry | None = None,
        status_hooks: Sequence[StatusHook] = (),
        inbound_hooks: Sequence[InboundHook] = (),
    ) -> None:
        self.database = database
        self.config = config or DispatcherConfig()
        self.metrics = DispatchMetrics(registry)
        self.writer = StatusWriter(
            database,
            max_batch=self.config.max_write_batch,
            receipt_batch=self.config.receipt_write_batch,
            status_hooks=status_hooks,
            inbound_hooks=inbound_hooks,
            on_unmatched=lambda _: self.metrics.unmatched_receipts.inc(),
            after_inbound=self.notify,
        )
        self.already_sent: dict[str, set[int]] = {}
        self._routes: dict[int, RouteRecord] = {}
        self._runners: dict[int, _RouteRunner] = {}
        self._in_flight: set[str] = set()
        # Read when scraped, rather than set at every claim and every submit response.
        self.metrics.in_flight.set_function(lambda: len(self._in_flight))
        self._wakeup = asyncio.Event()
        self._poll_wait = self.config.poll_interval
        self._capacity = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._owners: dict[str, tuple[str | None, float]] = {}
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
        self.writer.start()
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
        await self.writer.stop()
        # Whatever is still claimed is released by the crash rule at the next start.

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
            for message in claimed:
                self._in_flight.add(message.id)
                runner = self._runner_for(message)
                if runner is None:
                    self.finish(
                        message,
                        SubmitOutcome(
                            message,
                            MessageStatus.FAILED,
                            _now(),
                            error_code="no_route",
                            detail="no route to send it on",
                        ),
                    )
                else:
                    runner.queue.put_nowait(message)
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

    def _runner_for(self, message: store.ClaimedMessage) -> _RouteRunner | None:
        route_id = message.route_id
        if route_id is None or route_id not in self._routes:
            route_id = next((r.id for r in self._routes.values() if r.is_default), None)
            if route_id is None:
                return None
        return self._runner_of(route_id)

    def _runner_of(self, route_id: int) -> _RouteRunner:
        runner = self._runners.get(route_id)
        if runner is None:
            runner = self._runners[route_id] = _RouteRunner(self, self._routes[route_id])
            runner.start()
        return runner

    async def _load_routes(self) -> None:
        async with self.database.read() as connection:
            routes = {r.id: r for r in await route_store.list_routes(connection)}
        for route_id, runner in list(self._runners.items()):
            if routes.get(route_id) != runner.route:
                # Changed or removed: rebind with the new settings; queued work is re-claimed.
                del self._runners[route_id]
                for message in _drain(runner.queue):
                    self.finish(
                        message, self.retry_outcome(message, "route_changed", "route changed")
                    )
                await runner.stop()
        self._routes = routes
        # Bind every route now rather than at its first outgoing message: receipts and inbound
        # messages arrive over these binds, and a number that only receives must be reachable.
        for route_id in routes:
            self._runner_of(route_id)

    async def _housekeeping(self) -> None:
        config = self.config
        while self._running:
            await asyncio.sleep(min(config.route_reload_interval, config.lease.total_seconds() / 3))
            now = _now()
            try:
                async with self.database.write() as connection:
                    await store.renew_claims(
                        connection,
                        dispatcher_id=config.dispatcher_id,
                        lease_until=now + config.lease,
                    )
                    if config.shared_database:
                        await store.release_interrupted_claims(
                            connection, now=now, expired_only=True
                        )
                await self._load_routes()
                for runner in self._runners.values():
                    self.metrics.window_in_use.labels(route=runner.route.name).set(
                        runner.client.window_in_use
                    )
            except Exception:
                log.exception("dispatcher housekeeping failed")

    # --- inbound --------------------------------------------------------------------------

    def inbound(
        self,
        route_id: int,
        sender: str,
        recipient: str,
        payload: bytes,
        data_coding: int,
        parts: int,
        detail: str | None = None,
    ) -> asyncio.Future[None]:
        """Route a mobile-originated message to the account owning its destination, and store it."""
        if is_binary_data_coding(data_coding):
            body, encoding = payload.hex(), "binary"
        else:
            body, encoding = decode(payload, data_coding), ("ucs2" if data_coding == 8 else "gsm7")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def route_and_store() -> None:
            owner = await self._owner_of(recipient)
            if owner is None:
                log.warning("inbound message for an unregistered number", to=recipient)
                self.metrics.inbound.labels(outcome="unroutable").inc()
                future.set_result(None)
                return
            self.metrics.inbound.labels(outcome="stored").inc()
            await self.writer.inbound(
                InboundOutcome(
                    owner, sender, recipient, body, encoding, parts, _now(), detail, route_id
                )
            )
            future.set_result(None)

        task = asyncio.get_running_loop().create_task(route_and_store())
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
        return future

    async def _owner_of(self, address: str) -> str | None:
        loop = asyncio.get_running_loop()
        cached = self._owners.get(address)
        if cached is not None and cached[1] > loop.time():
            return cached[0]
        sender = await routing.owner_of_number(self.database, address)
        owner = None if sender is None else sender.account_id
        self._owners[address] = (owner, loop.time() + 10.0)
        return owner


def _drain(queue: asyncio.Queue[store.ClaimedMessage]) -> list[store.ClaimedMessage]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
