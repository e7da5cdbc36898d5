"""One SMPP connection over asyncio: the sans-IO :class:`Session` plus a transport.

The protocol feeds received bytes to the session, answers enquire_link and unbind itself, passes
other requests to a handler, and resolves the futures of our own requests with their responses.
Writes are coalesced: every PDU produced during one pass of the event loop goes out in one
``transport.write``, which matters at tens of thousands of PDUs per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from typing import cast

import structlog

from tidings.errors import TidingsError
from tidings.smpp.constants import CommandId, CommandStatus, status_name
from tidings.smpp.errors import LocalProtocolError, RemoteProtocolError
from tidings.smpp.pdu import (
    EnquireLink,
    EnquireLinkResp,
    Pdu,
    Unbind,
    UnbindResp,
    response_for,
)
from tidings.smpp.session import (
    BindTimedOut,
    EnquireLinkDue,
    InactivityTimedOut,
    ResponseTimedOut,
    Session,
    State,
)

log = structlog.get_logger("tidings.net")

# Read for every PDU received: plain ints, since reading an enum member off its class costs
# more than the comparison.
_RESPONSE_BIT = 0x8000_0000  # SMPP 3.4 §3.2, command_id bit 31
# How many PDUs one transport.write carries at most (see SmppConnection._write).
_FLUSH_EVERY = 64
_ENQUIRE_LINK = int(CommandId.ENQUIRE_LINK)
_UNBIND = int(CommandId.UNBIND)

# A request handler returns the response PDU at once, an awaitable of it, or None when it
# answers later itself through SmppProtocol.respond.
RequestHandler = Callable[["SmppProtocol", Pdu], Pdu | Awaitable[Pdu] | None]
# Told the outcome of a request sent with send_request_callback: the response, or the error
# (ConnectionLost, ResponseTimeout) that a future would have raised.
ResponseCallback = Callable[[Pdu | TidingsError], None]


def _consume(future: asyncio.Future[Pdu]) -> None:
    if not future.cancelled():
        future.exception()


class ConnectionLost(TidingsError):
    """The SMPP connection was lost before the response arrived."""


class ResponseTimeout(TidingsError):
    """The peer did not answer the request in time."""


class BindFailed(TidingsError):
    """The SMSC refused the bind."""

    def __init__(self, message: str | None = None, *, command_status: int = 0) -> None:
        super().__init__(message)
        self.command_status = command_status


class SmppProtocol(asyncio.Protocol):
    """asyncio glue around one :class:`Session`."""

    def __init__(
        self,
        session: Session,
        handler: RequestHandler,
        *,
        name: str = "smpp",
    ) -> None:
        self.session = session
        self.name = name
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._callbacks: dict[int, ResponseCallback] = {}
        self._window_waiters: deque[asyncio.Future[None]] = deque()
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._writable = True  # _can_write.is_set(), as a plain attribute for the hot paths
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.closed: asyncio.Future[BaseException | None] = self._loop.create_future()
        self.peer: tuple[str, int] = ("", 0)

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but have its methods.
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # PDUs are small and latency-bound; Nagle would hold them back behind delayed ACKs.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peer = (str(peer[0]), int(peer[1]))
        self._schedule_timer()

    def data_received(self, data: bytes) -> None:
        session = self.session
        session.receive_data(data)
        now = self._loop.time()
        pending = self._pending
        callbacks = self._callbacks
        responses = 0
        while True:
            try:
                pdu = session.next_event(now)
            except RemoteProtocolError as exc:
                self._answer_error(exc, now)
                if exc.fatal:
                    self.abort()
                    return
                continue
            if pdu is None:
                break
            command_id = pdu.COMMAND_ID
            if command_id & _RESPONSE_BIT:
                responses += 1
                future = pending.pop(pdu.sequence_number, None)
                if future is not None:
                    if not future.done():
                        future.set_result(pdu)
                elif callbacks:
                    callback = callbacks.pop(pdu.sequence_number, None)
                    if callback is not None:
                        try:  # _call_back, inline
                            callback(pdu)
                        except Exception:
                            log.exception("response callback failed", connection=self.name)
            elif command_id == _ENQUIRE_LINK:
                self._send_now(EnquireLinkResp(sequence_number=pdu.sequence_number), now)
            elif command_id == _UNBIND:
                self._send_now(UnbindResp(sequence_number=pdu.sequence_number), now)
                self._close_after_flush()
            else:
                self._dispatch_request(pdu, now)
        if responses and self._window_waiters:
            # Once per batch rather than per response: the waiters run on a later loop pass
            # either way, and each takes one free slot.
            self._wake_window_waiter()
        self._schedule_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._timer is not None:
            self._timer.cancel()
        self.session.connection_lost()
        error = ConnectionLost(f"{self.name}: connection to {self.peer[0]}:{self.peer[1]} lost")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        callbacks, self._callbacks = self._callbacks, {}
        for callback in callbacks.values():
            self._call_back(callback, error)
        while self._window_waiters:
            waiter = self._window_waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)
        self._can_write.set()
        self._writable = True
        if not self.closed.done():
            self.closed.set_result(exc)

    def pause_writing(self) -> None:
        self._can_write.clear()
        self._writable = False

    def resume_writing(self) -> None:
        self._can_write.set()
        self._writable = True

    # --- requests we send ---------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return (
            self._transport is not None
            and not self._closing
            and self.session.state is not State.CLOSED
        )

    def send_request(self, pdu: Pdu) -> asyncio.Future[Pdu]:
        """Send a request now; the window must have room (see :meth:`wait_for_window`)."""
        if self._transport is None or self._closing:
            raise ConnectionLost(f"{self.name}: not connected")
        loop = self._loop
        data = self.session.send(pdu, loop.time())
        future: asyncio.Future[Pdu] = loop.create_future()
        pending = self._pending
        pending[pdu.sequence_number] = future
        self._write(data)
        # Every request waits the same response timeout, so a request sent while others are
        # outstanding has the latest deadline of all, and the timer already set is early enough.
        if self._timer is None or len(pending) + len(self._callbacks) == 1:
            self._schedule_timer()
        return future

    def send_request_callback(self, pdu: Pdu, callback: ResponseCallback) -> None:
        """Like :meth:`send_request`, but ``callback`` is told the outcome instead of a future.

        It is called with the response PDU from within ``data_received``, or with the
        :class:`ConnectionLost` or :class:`ResponseTimeout` a future would have raised. For
        senders of many requests nobody awaits (an SMSC's receipts), this saves a future and a
        loop callback per request.
        """
        if self._transport is None or self._closing:
            raise ConnectionLost(f"{self.name}: not connected")
        loop = self._loop
        data = self.session.send(pdu, loop.time())
        callbacks = self._callbacks
        callbacks[pdu.sequence_number] = callback
        self._write(data)
        if self._timer is None or len(self._pending) + len(callbacks) == 1:
            self._schedule_timer()  # see send_request

    def _call_back(self, callback: ResponseCallback, outcome: Pdu | TidingsError) -> None:
        try:
            callback(outcome)
        except Exception:
            log.exception("response callback failed", connection=self.name)

    @property
    def has_window(self) -> bool:
        """Whether a request may be sent now without waiting (see :meth:`wait_for_window`)."""
        return self._writable and self.session.window_free > 0

    async def wait_for_window(self) -> None:
        while self.session.window_free <= 0 or not self._can_write.is_set():
            if self._transport is None:
                raise ConnectionLost(f"{self.name}: not connected")
            if not self._can_write.is_set():
                await self._can_write.wait()
                continue
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._window_waiters.append(waiter)
            await waiter

    async def request(self, pdu: Pdu, timeout: float | None = None) -> Pdu:
        """Send a request and wait for its response (raises ConnectionLost/ResponseTimeout)."""
        await self.wait_for_window()
        future = self.send_request(pdu)
        if timeout is None:
            return await future
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise ResponseTimeout(f"{self.name}: no response within {timeout}s") from None

    async def unbind(self, timeout: float = 5.0) -> None:
        """Unbind gracefully (SMPP 3.4 §4.2) and close, whatever the peer answers."""
        try:
            if self.session.is_bound:
                await self.request(Unbind(), timeout=timeout)
        except (TidingsError, LocalProtocolError):
            pass
        finally:
            self._close_after_flush()

    def abort(self) -> None:
        """Drop the connection at once."""
        # connection_lost runs on a later loop pass; refuse new requests from now on.
        self._closing = True
        if self._transport is not None:
            self._transport.abort()

    # --- internals ----------------------------------------------------------------------------

    def _wake_window_waiter(self) -> None:
        # Wake only as many waiters as there are free slots: each will take one.
        free = self.session.window_free
        while free > 0 and self._window_waiters:
            waiter = self._window_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1

    def _dispatch_request(self, pdu: Pdu, now: float) -> None:
        try:
            result = self._handler(self, pdu)
        except Exception:
            log.exception("request handler failed", connection=self.name, pdu=type(pdu).__name__)
            result = response_for(pdu, CommandStatus.ESME_RSYSERR)
        if isinstance(result, Pdu):
            self._send_now(result, now)
            return
        if result is None:
            return  # the handler calls respond() when it has the answer
        task = self._loop.create_task(self._respond_later(pdu, result))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _respond_later(self, request: Pdu, pending: Awaitable[Pdu]) -> None:
        try:
            response = await pending
        except Exception as error:
            response = self.failure_response(request, error)
        self.respond(response)

    def respond(self, response: Pdu) -> None:
        """Send the response to a request answered later (its handler returned an awaitable,
        or None and calls this itself); dropped if the connection is gone (the peer then sends
        the request again)."""
        if self._transport is not None:
            self._send_now(response, self._loop.time())

    def failure_response(self, request: Pdu, error: BaseException) -> Pdu:
        """The answer to a request whose handler failed after it returned: logged, and a
        temporary application error, so the peer keeps the PDU and tries again later."""
        log.error("request handler failed", connection=self.name, exc_info=error)
        return response_for(request, CommandStatus.ESME_RX_T_APPN)

    def _send_now(self, pdu: Pdu, now: float) -> None:
        try:
            data = self.session.send(pdu, now)
        except LocalProtocolError as exc:
            log.warning("cannot send", connection=self.name, pdu=type(pdu).__name__, error=str(exc))
            return
        self._write(data)

    def _answer_error(self, exc: RemoteProtocolError, now: float) -> None:
        log.warning(
            "protocol error from peer",
            connection=self.name,
            error=str(exc),
            status=status_name(exc.command_status),
            fatal=exc.fatal,
        )
        answer = self.session.error_response(exc)
        if answer is not None:
            self._send_now(answer, now)

    def _write(self, data: bytes) -> None:
        # The PDUs produced during one pass of the loop go out together, a few dozen per
        # transport.write: few system calls, yet the peer starts on the first PDUs while this
        # side still works on the rest (one write per pass would make both sides take turns).
        out = self._out
        out.append(data)
        if len(out) >= _FLUSH_EVERY:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._transport is not None and self._out:
            self._transport.write(b"".join(self._out))
        self._out.clear()

    def _close_after_flush(self) -> None:
        self._closing = True

        def close() -> None:
            self._flush()
            if self._transport is not None:
                self._transport.close()

        self._loop.call_soon(close)

    def _schedule_timer(self) -> None:
        deadline = self.session.next_deadline()
        if deadline is None:
            return
        if self._timer is not None:
            # Deadlines mostly move later; an early wake-up just re-arms, so only re-arm when
            # the new deadline is sooner than the one already set.
            if deadline >= self._timer_at:
                return
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._transport is None:
            return
        now = self._loop.time()
        for event in self.session.poll_timers(now):
            if isinstance(event, EnquireLinkDue):
                with contextlib.suppress(LocalProtocolError, ConnectionLost):
                    # Its response (or timeout) is handled like any other; nobody awaits it.
                    self.send_request(EnquireLink()).add_done_callback(_consume)
            elif isinstance(event, ResponseTimedOut):
                timeout = ResponseTimeout(
                    f"{self.name}: no response to sequence {event.sequence_number}"
                )
                future = self._pending.pop(event.sequence_number, None)
                if future is not None and not future.done():
                    future.set_exception(timeout)
                callback = self._callbacks.pop(event.sequence_number, None)
                if callback is not None:
                    self._call_back(callback, timeout)
                self._wake_window_waiter()
                # A peer that stops answering is gone, whatever TCP says: drop and reconnect.
                log.warning("response timeout; dropping connection", connection=self.name)
                self.abort()
                return
            elif isinstance(event, InactivityTimedOut):
                log.info("inactivity timeout; closing", connection=self.name)
                self.abort()
                return
            elif isinstance(event, BindTimedOut):
                log.info("no bind in time; closing", connection=self.name, peer=self.peer[0])
                self.abort()
                return
        self._schedule_timer()
