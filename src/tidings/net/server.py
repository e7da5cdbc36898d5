"""The SMSC server base: accepts ESME binds through an authenticator and hands requests to a
handler. The embedded simulator is built on it; so could a real SMSC front.

Connections are admitted under limits (``net.admission``: an unbound connection is idle and
makes room for a new one), must bind within ``bind_timeout`` and are closed after
``inactivity_timeout`` without a PDU (a bound ESME answers the server's enquire_link).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import structlog

from tidings.net.admission import Admission, ConnectionLimits, default_limits
from tidings.net.connection import RequestHandler, ResponseCallback, SmppProtocol
from tidings.smpp.constants import CommandId, CommandStatus
from tidings.smpp.pdu import (
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    Pdu,
)
from tidings.smpp.session import Role, Session

log = structlog.get_logger("tidings.smsc")


class BindMode(StrEnum):
    TRANSMITTER = "tx"
    RECEIVER = "rx"
    TRANSCEIVER = "trx"


_BIND_KINDS: dict[int, tuple[BindMode, type[Pdu]]] = {
    CommandId.BIND_TRANSMITTER: (BindMode.TRANSMITTER, BindTransmitterResp),
    CommandId.BIND_RECEIVER: (BindMode.RECEIVER, BindReceiverResp),
    CommandId.BIND_TRANSCEIVER: (BindMode.TRANSCEIVER, BindTransceiverResp),
}


@dataclass(frozen=True, slots=True)
class BindRequest:
    system_id: str
    password: str
    system_type: str
    mode: BindMode
    peer: tuple[str, int]


# Decides a bind: the command_status to answer with (0 accepts).
Authenticator = Callable[[BindRequest], Awaitable[int] | int]


class SmscHandler(Protocol):
    def handle_request(self, conn: SmscConnection, pdu: Pdu) -> Pdu | Awaitable[Pdu]:
        """Answer a request from a bound ESME (enquire_link and unbind are answered already)."""

    def bound(self, conn: SmscConnection) -> None:
        """A bind succeeded."""

    def unbound(self, conn: SmscConnection) -> None:
        """A bound connection closed or unbound."""


class SmscConnection:
    """One accepted ESME connection."""

    def __init__(self, server: SmscServer, protocol: SmppProtocol) -> None:
        self.server = server
        self.protocol = protocol
        self.bind: BindRequest | None = None

    @property
    def is_bound(self) -> bool:
        return self.bind is not None and self.protocol.session.is_bound

    @property
    def can_deliver(self) -> bool:
        # Only a bound session may deliver (SMPP 3.4 §2.3), so can_deliver implies is_bound.
        return self.bind is not None and self.protocol.session.can_deliver

    @property
    def peer(self) -> tuple[str, int]:
        return self.protocol.peer

    async def request(self, pdu: Pdu, timeout: float | None = None) -> Pdu:
        return await self.protocol.request(pdu, timeout)

    def send_nowait(self, pdu: Pdu) -> asyncio.Future[Pdu]:
        """Send now if the window has room (check ``window_free``); returns the response future."""
        return self.protocol.send_request(pdu)

    def send_with_callback(self, pdu: Pdu, callback: ResponseCallback) -> None:
        """Like :meth:`send_nowait`, with ``callback`` told the response or the error."""
        self.protocol.send_request_callback(pdu, callback)

    @property
    def window_free(self) -> int:
        return self.protocol.session.window_free

    async def wait_for_window(self) -> None:
        await self.protocol.wait_for_window()

    def close(self) -> None:
        """Drop the TCP connection abruptly."""
        self.protocol.abort()

    async def unbind(self) -> None:
        await self.protocol.unbind()


class _AdmittedProtocol(SmppProtocol):
    """An accepted connection, admitted under the server's limits when it is made."""

    def __init__(
        self, admission: Admission, session: Session, handler: RequestHandler, *, name: str
    ) -> None:
        super().__init__(session, handler, name=name)
        self._admission = admission

    @property
    def address(self) -> str:
        return self.peer[0]

    @property
    def idle(self) -> bool:
        return not self.session.is_bound

    def evict(self) -> None:
        self.abort()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self._admission.admit(self):
            self.abort()


class SmscServer:
    def __init__(
        self,
        handler: SmscHandler,
        *,
        authenticator: Authenticator,
        host: str = "127.0.0.1",
        port: int = 0,
        window: int = 100,
        enquire_link_interval: float | None = 30.0,
        response_timeout: float = 10.0,
        inactivity_timeout: float | None = 120.0,
        bind_timeout: float | None = 30.0,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.handler = handler
        self.authenticator = authenticator
        self.host = host
        self.port = port
        self.window = window
        self.enquire_link_interval = enquire_link_interval
        self.response_timeout = response_timeout
        self.inactivity_timeout = inactivity_timeout
        self.bind_timeout = bind_timeout
        # A quarter of what the file limit leaves, unless configured.
        self.admission = Admission(limits or default_limits(0.25))
        self.connections: set[SmscConnection] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._make_protocol, self.host, self.port)
        sockname = self._server.sockets[0].getsockname()
        self.port = int(sockname[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        bound = [c for c in self.connections if c.is_bound]
        if bound:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await asyncio.gather(*(c.unbind() for c in bound))
        for conn in list(self.connections):
            conn.close()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SmscServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _make_protocol(self) -> SmppProtocol:
        loop = asyncio.get_running_loop()
        session = Session(
            Role.SMSC,
            window=self.window,
            enquire_link_interval=self.enquire_link_interval,
            response_timeout=self.response_timeout,
            inactivity_timeout=self.inactivity_timeout,
            bind_timeout=self.bind_timeout,
            now=loop.time(),
        )
        holder: list[SmscConnection] = []

        def handle(protocol: SmppProtocol, pdu: Pdu) -> Pdu | Awaitable[Pdu]:
            return self._handle(holder[0], pdu)

        protocol = _AdmittedProtocol(self.admission, session, handle, name="smsc")
        conn = SmscConnection(self, protocol)
        holder.append(conn)
        self.connections.add(conn)
        task = loop.create_task(self._watch(conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return protocol

    async def _watch(self, conn: SmscConnection) -> None:
        await conn.protocol.closed
        if isinstance(conn.protocol, _AdmittedProtocol):
            self.admission.release(conn.protocol)
        self.connections.discard(conn)
        if conn.bind is not None:
            try:
                self.handler.unbound(conn)
            except Exception:
                log.exception("unbound handler failed")

    def _handle(self, conn: SmscConnection, pdu: Pdu) -> Pdu | Awaitable[Pdu]:
        kind = _BIND_KINDS.get(pdu.COMMAND_ID)
        if kind is None:
            return self.handler.handle_request(conn, pdu)
        assert isinstance(pdu, BindTransmitter | BindReceiver | BindTransceiver)
        request = BindRequest(pdu.system_id, pdu.password, pdu.system_type, kind[0], conn.peer)
        decision = self.authenticator(request)
        if isinstance(decision, int):
            return self._bind_answer(conn, pdu, request, decision)
        return self._bind_later(conn, pdu, request, decision)

    async def _bind_later(
        self, conn: SmscConnection, pdu: Pdu, request: BindRequest, decision: Awaitable[int]
    ) -> Pdu:
        return self._bind_answer(conn, pdu, request, await decision)

    def _bind_answer(
        self, conn: SmscConnection, pdu: Pdu, request: BindRequest, status: int
    ) -> Pdu:
        response_cls = _BIND_KINDS[pdu.COMMAND_ID][1]
        response = response_cls(sequence_number=pdu.sequence_number, command_status=status)
        if status == CommandStatus.ESME_ROK:
            response.system_id = "tidings"  # type: ignore[attr-defined]
            conn.bind = request
            # The session moves to bound when this response is sent, which happens right after
            # we return; tell the handler on the next loop pass, once that is done.
            asyncio.get_running_loop().call_soon(self._notify_bound, conn)
        else:
            log.info("bind refused", system_id=request.system_id, peer=request.peer, status=status)
            asyncio.get_running_loop().call_later(0.1, conn.close)
        return response

    def _notify_bound(self, conn: SmscConnection) -> None:
        if conn.protocol.is_open:
            try:
                self.handler.bound(conn)
            except Exception:
                log.exception("bound handler failed")
