"""asyncio around ``tidings.sip``: one SIP socket towards a trunk, carrying many calls.

:class:`SipTrunk` owns a UDP socket connected to the trunk (so only the trunk's datagrams
reach it) or a TCP connection, parses what arrives, hands each message to the call with its
Call-ID, answers requests for calls it does not know with 481, and sends each call's
outgoing messages. Each call's timers are one ``loop.call_at`` at the call's next deadline,
moved whenever the call changes. A malformed message is counted and dropped (a request whose
headers could still be read gets the error's status); it never reaches a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from tidings.sip.call import Call, CallEvent
from tidings.sip.errors import RemoteProtocolError
from tidings.sip.message import (
    DEFAULT_LIMITS,
    Limits,
    Request,
    Response,
    StreamParser,
    parse_message,
    response_to,
)

log = structlog.get_logger("tidings.net")

EventHandler = Callable[[Call, CallEvent], None]


@dataclass(slots=True)
class TrunkStats:
    received: int = 0
    malformed: int = 0
    stray: int = 0  # messages for calls this trunk does not have


@dataclass(slots=True)
class _Registered:
    call: Call
    on_event: EventHandler
    timer: asyncio.TimerHandle | None = None


class SipTrunk:
    """A SIP path to one trunk (its host and port), over UDP or TCP."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        transport: str = "UDP",
        local_host: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.host = host
        self.port = port
        self.transport = transport.upper()
        self._requested_local_host = local_host
        self.limits = limits
        self.local_host = ""
        self.local_port = 0
        self.stats = TrunkStats()
        self._calls: dict[str, _Registered] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = asyncio.Event()

    async def open(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        bind_host = self._requested_local_host or ""
        if self.transport == "UDP":
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self),
                local_addr=(bind_host or "0.0.0.0", 0),
                remote_addr=(self.host, self.port),
                family=socket.AF_INET,
            )
            self._udp = transport
            sockname = transport.get_extra_info("sockname")
        elif self.transport == "TCP":
            reader, writer = await asyncio.open_connection(
                self.host, self.port, local_addr=(bind_host, 0) if bind_host else None
            )
            self._tcp = writer
            sockname = writer.get_extra_info("sockname")
            self._reader_task = loop.create_task(self._read_stream(reader))
        else:
            raise ValueError(f"unknown SIP transport {self.transport!r}")
        self.local_host = self._requested_local_host or sockname[0]
        self.local_port = sockname[1]

    async def close(self) -> None:
        for registered in self._calls.values():
            if registered.timer is not None:
                registered.timer.cancel()
        self._calls.clear()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(OSError):
                await self._tcp.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        self.closed.set()

    # --- calls --------------------------------------------------------------------------------

    def place(self, call: Call, on_event: EventHandler) -> None:
        """Start ``call`` (built with this trunk's local host and port) and drive it."""
        registered = _Registered(call, on_event)
        self._calls[call.call_id] = registered
        call.start(self._now())
        self._after(registered, [])

    def hangup(self, call: Call) -> None:
        registered = self._calls.get(call.call_id)
        if registered is not None:
            self._after(registered, call.hangup(self._now()))

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _after(self, registered: _Registered, events: list[CallEvent]) -> None:
        call = registered.call
        for data in call.take_outgoing():
            self._send(data)
        for event in events:
            try:
                registered.on_event(call, event)
            except Exception:
                log.exception("sip.event_handler_failed", call_id=call.call_id)
        if registered.timer is not None:
            registered.timer.cancel()
            registered.timer = None
        deadline = call.next_deadline()
        if deadline is None:
            if call.ended is not None:
                self._calls.pop(call.call_id, None)
            return
        assert self._loop is not None
        registered.timer = self._loop.call_at(deadline, self._fire, registered)

    def _fire(self, registered: _Registered) -> None:
        registered.timer = None
        self._after(registered, registered.call.poll(self._now()))

    def _send(self, data: bytes) -> None:
        if self._udp is not None:
            self._udp.sendto(data)
        elif self._tcp is not None and not self._tcp.is_closing():
            self._tcp.write(data)

    # --- receiving ----------------------------------------------------------------------------

    def received(self, message: Request | Response) -> None:
        self.stats.received += 1
        registered = self._calls.get(message.call_id)
        if registered is None:
            self.stats.stray += 1
            if isinstance(message, Request) and message.method != "ACK":
                self._send(response_to(message, 481).encode())
            return
        self._after(registered, registered.call.receive(message, self._now()))

    def datagram(self, data: bytes) -> None:
        if not data.strip(b"\r\n"):
            return  # a keep-alive
        try:
            message = parse_message(data, self.limits)
        except RemoteProtocolError as error:
            self.stats.malformed += 1
            log.info("sip.malformed", error=error.message)
            return
        self.received(message)

    async def _read_stream(self, reader: asyncio.StreamReader) -> None:
        parser = StreamParser(self.limits)
        try:
            while data := await reader.read(65536):
                parser.feed(data)
                while True:
                    try:
                        message = parser.next_message()
                    except RemoteProtocolError as error:
                        self.stats.malformed += 1
                        log.info("sip.malformed", error=error.message)
                        if error.fatal:
                            return
                        continue
                    if message is None:
                        break
                    self.received(message)
        except RemoteProtocolError as error:
            log.info("sip.stream_lost", error=error.message)
        except OSError as error:
            log.info("sip.stream_lost", error=str(error))
        finally:
            if self._tcp is not None:
                self._tcp.close()
            self.closed.set()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, trunk: SipTrunk) -> None:
        self.trunk = trunk

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.trunk.datagram(data)

    def error_received(self, exc: Exception) -> None:
        # An ICMP "port unreachable" from the trunk: the calls' timers will give up on it.
        log.info("sip.udp_error", error=str(exc))
