"""The ESME client: N binds to one SMSC, windowed submits, throttling, reconnects.

Guarantees that dispatch builds on:
- a submit either returns the SMSC's response, or raises :class:`SubmitUnacknowledged` when the
  connection went away (or stopped answering) before the response arrived. The client never
  resends such a submit by itself: only the caller knows whether sending twice is acceptable;
- ESME_RTHROTTLED and ESME_RMSGQFUL are retried here with backoff, since the SMSC said plainly
  that it did not take the message;
- deliver_sm/data_sm from the SMSC are acknowledged with the status the ``on_deliver`` callback
  returns, so an application that cannot store a receipt can make the SMSC keep it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

import structlog

from tidings.errors import TidingsError
from tidings.net.connection import BindFailed, ConnectionLost, ResponseTimeout, SmppProtocol
from tidings.smpp.constants import CommandStatus, status_name
from tidings.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    Pdu,
    response_for,
)
from tidings.smpp.session import Role, Session

log = structlog.get_logger("tidings.esme")

# Read for every submit and deliver_sm: plain values, not enum members looked up each time.
_THROTTLING = frozenset({int(CommandStatus.ESME_RTHROTTLED), int(CommandStatus.ESME_RMSGQFUL)})
_ROK = int(CommandStatus.ESME_ROK)

# The application's answer to a deliver_sm or data_sm: the command_status to acknowledge with
# (None accepts, like ESME_ROK).
DeliverHandler = Callable[[DeliverSm | DataSm], Awaitable[int | None] | int | None]


class BindMode(StrEnum):
    TRANSCEIVER = "trx"
    TRANSMITTER_RECEIVER = "tx_rx"  # one bind_transmitter plus one bind_receiver per bind
    TRANSMITTER = "tx"  # submit only; receipts are not received on this route


class SubmitUnacknowledged(TidingsError):
    """The connection was lost before the SMSC acknowledged the submit; it may or may not have
    been accepted."""


class NotBound(TidingsError):
    """No bind to the SMSC is up."""


@dataclass(slots=True)
class EsmeConfig:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    bind_mode: BindMode = BindMode.TRANSCEIVER
    binds: int = 1
    window: int = 10
    max_tps: float | None = None  # per bind
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    connect_timeout: float = 5.0
    reconnect_initial: float = 0.5
    reconnect_max: float = 30.0
    throttle_initial: float = 0.1
    throttle_max: float = 5.0
    throttle_give_up_after: float = 120.0
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    name: str = field(default="")

    def __post_init__(self) -> None:
        self.bind_mode = BindMode(self.bind_mode)  # accept "trx" from config files as well
        if self.binds < 1:
            raise ValueError("binds must be at least 1")
        if self.window < 1:
            raise ValueError("window must be at least 1")
        if not self.name:
            self.name = f"{self.system_id}@{self.host}:{self.port}"


class _TokenBucket:
    """Submits per second for one bind; a small burst is allowed so the window stays full."""

    __slots__ = ("_capacity", "_loop", "_rate", "_tokens", "_updated")

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate / 10)
        self._tokens = self._capacity
        self._loop = asyncio.get_running_loop()
        self._updated = self._loop.time()

    async def acquire(self) -> None:
        while True:
            now = self._loop.time()
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self._tokens) / self._rate)


@dataclass(slots=True)
class _Bind:
    index: int
    can_submit: bool
    can_receive: bool
    protocol: SmppProtocol | None = None
    bucket: _TokenBucket | None = None
    last_error: str | None = None


class EsmeClient:
    def __init__(
        self,
        config: EsmeConfig,
        *,
        on_deliver: DeliverHandler | None = None,
        on_bind_change: Callable[[int], None] | None = None,
    ) -> None:
        self.config = config
        self._on_deliver = on_deliver
        self._on_bind_change = on_bind_change
        self._binds: list[_Bind] = []
        self._workers: list[asyncio.Task[None]] = []
        self._transmitters: list[_Bind] = []
        self._round_robin = 0
        self._bound_changed: asyncio.Event | None = None
        self._stopping = False
        self._rng = random.Random()
        # Set by start(). Read per submit: asking asyncio for the running loop costs a getpid()
        # system call each time.
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, wait: float | None = 10.0) -> None:
        """Start every bind; with ``wait``, return once one can submit (raise if none does)."""
        self._bound_changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        mode = self.config.bind_mode
        index = 0
        for _ in range(self.config.binds):
            if mode is BindMode.TRANSMITTER_RECEIVER:
                self._binds.append(_Bind(index, can_submit=True, can_receive=False))
                self._binds.append(_Bind(index + 1, can_submit=False, can_receive=True))
                index += 2
            else:
                can_receive = mode is BindMode.TRANSCEIVER
                self._binds.append(_Bind(index, can_submit=True, can_receive=can_receive))
                index += 1
        loop = asyncio.get_running_loop()
        self._workers = [loop.create_task(self._run_bind(bind)) for bind in self._binds]
        if wait is not None:
            try:
                async with asyncio.timeout(wait):
                    await self._wait_for_transmitter()
            except TimeoutError:
                errors = {b.last_error for b in self._binds if b.last_error}
                await self.stop()
                raise NotBound(
                    f"could not bind to {self.config.host}:{self.config.port} within {wait}s"
                    + (f": {'; '.join(sorted(errors))}" if errors else "")
                ) from None

    async def stop(self, timeout: float = 5.0) -> None:
        """Unbind every connection gracefully, then stop reconnecting."""
        self._stopping = True
        protocols = [b.protocol for b in self._binds if b.protocol is not None]
        if protocols:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout + 1):
                    await asyncio.gather(*(p.unbind(timeout) for p in protocols))
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()

    async def __aenter__(self) -> EsmeClient:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def bound_count(self) -> int:
        return sum(1 for b in self._binds if b.protocol is not None)

    @property
    def window_in_use(self) -> int:
        return sum(
            p.session.window - p.session.window_free
            for b in self._binds
            if (p := b.protocol) is not None
        )

    # --- submitting ---------------------------------------------------------------------------

    async def submit(self, pdu: Pdu, *, wait_for_bind: float | None = None) -> Pdu:
        """Submit one request PDU (submit_sm, data_sm, ...) and return the SMSC's response.

        The PDU's sequence number is assigned here. A response with an error status is returned,
        not raised, except that throttling statuses are retried first. Raises
        :class:`SubmitUnacknowledged` when the outcome is unknown, :class:`NotBound` when no bind
        came up within ``wait_for_bind`` (default: the response timeout).
        """
        delay = self.config.throttle_initial
        loop = self._loop or asyncio.get_running_loop()
        give_up_at = loop.time() + self.config.throttle_give_up_after
        while True:
            transmitters = self._transmitters
            if transmitters:
                # The common case, inline: no coroutine to wait for a bind.
                self._round_robin = (self._round_robin + 1) % len(transmitters)
                bind = transmitters[self._round_robin]
            else:
                bind = await self._next_transmitter(wait_for_bind)
            protocol = bind.protocol
            if protocol is None:
                continue
            if bind.bucket is not None:
                await bind.bucket.acquire()
            pdu.sequence_number = 0
            try:
                if not protocol.has_window:
                    await protocol.wait_for_window()
                response = await protocol.send_request(pdu)
            except (ConnectionLost, ResponseTimeout) as exc:
                if pdu.sequence_number == 0:
                    # Never written: safe to try again once the closing bind is gone.
                    await asyncio.sleep(0.01)
                    continue
                raise SubmitUnacknowledged(str(exc)) from exc
            if response.command_status in _THROTTLING:
                if loop.time() >= give_up_at:
                    return response
                await asyncio.sleep(delay * self._rng.uniform(0.5, 1.5))
                delay = min(delay * 2, self.config.throttle_max)
                continue
            return response

    async def _wait_for_transmitter(self) -> None:
        assert self._bound_changed is not None
        while not self._transmitters:
            self._bound_changed.clear()
            await self._bound_changed.wait()

    async def _next_transmitter(self, wait: float | None) -> _Bind:
        if not self._transmitters:
            if self._stopping:
                raise NotBound("the client is stopping")
            timeout = self.config.response_timeout if wait is None else wait
            try:
                async with asyncio.timeout(timeout):
                    await self._wait_for_transmitter()
            except TimeoutError:
                raise NotBound(f"no bind to {self.config.host}:{self.config.port} is up") from None
        transmitters = self._transmitters
        self._round_robin = (self._round_robin + 1) % len(transmitters)
        return transmitters[self._round_robin]

    # --- one bind -----------------------------------------------------------------------------

    def _handle_request(self, protocol: SmppProtocol, pdu: Pdu) -> Pdu | Awaitable[Pdu] | None:
        if type(pdu) is not DeliverSm and not isinstance(pdu, DeliverSm | DataSm):
            # alert_notification has no response; anything else we do not serve.
            return response_for(pdu, CommandStatus.ESME_RINVCMDID)
        if self._on_deliver is None:
            return response_for(pdu)
        result = self._on_deliver(pdu)
        if result is None or isinstance(result, int):
            return response_for(pdu, result or _ROK)
        if isinstance(result, asyncio.Future):
            # A receipt waiting for its commit (the common case, thousands a second): answered
            # from the future's callback, without a task and a coroutine for each.
            result.add_done_callback(functools.partial(_answer_when_done, protocol, pdu))
            return None
        return self._respond_when_stored(pdu, result)

    async def _respond_when_stored(self, pdu: Pdu, pending: Awaitable[int | None]) -> Pdu:
        return response_for(pdu, (await pending) or _ROK)

    async def _run_bind(self, bind: _Bind) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        backoff = config.reconnect_initial
        while not self._stopping:
            name = f"{config.name}#{bind.index}"
            session = Session(
                Role.ESME,
                window=config.window,
                enquire_link_interval=config.enquire_link_interval,
                response_timeout=config.response_timeout,
                now=loop.time(),
            )
            try:
                # asyncio.timeout rather than wait_for: on 3.11 wait_for can swallow a
                # cancellation that races with completion, and this loop would then never stop.
                async with asyncio.timeout(config.connect_timeout):
                    _, protocol = await loop.create_connection(
                        functools.partial(SmppProtocol, session, self._handle_request, name=name),
                        config.host,
                        config.port,
                    )
                await self._bind(protocol, bind)
            except (OSError, TimeoutError, ConnectionLost, ResponseTimeout, BindFailed) as exc:
                bind.last_error = str(exc) or type(exc).__name__
                log.warning("bind failed", connection=name, error=bind.last_error)
            else:
                backoff = config.reconnect_initial
                bind.last_error = None
                bind.protocol = protocol
                bind.bucket = _TokenBucket(config.max_tps) if config.max_tps else None
                self._bind_up(bind)
                log.info("bound", connection=name, mode=config.bind_mode.value)
                try:
                    await asyncio.shield(protocol.closed)
                finally:
                    bind.protocol = None
                    self._bind_down(bind)
                    if not protocol.closed.done():
                        protocol.abort()
                if self._stopping:
                    return
                log.warning("connection lost; reconnecting", connection=name)
            if self._stopping:
                return
            # Exponential backoff with jitter, so many binds do not reconnect in lock step.
            await asyncio.sleep(backoff * self._rng.uniform(0.5, 1.5))
            backoff = min(backoff * 2, config.reconnect_max)

    async def _bind(self, protocol: SmppProtocol, bind: _Bind) -> None:
        config = self.config
        cls: type[BindTransceiver | BindTransmitter | BindReceiver]
        if bind.can_submit and bind.can_receive:
            cls = BindTransceiver
        elif bind.can_submit:
            cls = BindTransmitter
        else:
            cls = BindReceiver
        request = cls(
            system_id=config.system_id,
            password=config.password,
            system_type=config.system_type,
            addr_ton=config.addr_ton,
            addr_npi=config.addr_npi,
            address_range=config.address_range,
        )
        try:
            response = await protocol.request(request, timeout=config.response_timeout)
        except BaseException:
            protocol.abort()
            raise
        if response.command_status != CommandStatus.ESME_ROK:
            protocol.abort()
            raise BindFailed(
                f"bind refused: {status_name(response.command_status)}",
                command_status=response.command_status,
            )

    def _bind_up(self, bind: _Bind) -> None:
        if bind.can_submit:
            self._transmitters = [*self._transmitters, bind]
        if self._bound_changed is not None:
            self._bound_changed.set()
        if self._on_bind_change is not None:
            self._on_bind_change(self.bound_count)

    def _bind_down(self, bind: _Bind) -> None:
        self._transmitters = [b for b in self._transmitters if b is not bind]
        if self._on_bind_change is not None:
            self._on_bind_change(self.bound_count)


def _answer_when_done(protocol: SmppProtocol, pdu: Pdu, stored: asyncio.Future[int | None]) -> None:
    """Answer a deliver_sm once the application's future is done, as ``_respond_when_stored``
    and the protocol's task would: its status (None accepts), or the protocol's answer to a
    failed handler. A cancelled one is not answered (the SMSC resends it)."""
    if stored.cancelled():
        return
    error = stored.exception()
    if error is not None:
        protocol.respond(protocol.failure_response(pdu, error))
    else:
        protocol.respond(response_for(pdu, stored.result() or _ROK))
