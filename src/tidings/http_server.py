"""An ASGI app served by uvicorn inside the running event loop.

The service's API and the simulator's control API both run this way. Signals are left to
whoever owns the process (the CLI, the service, a test), which stops every part in order.

Every connection is held to deadlines and admitted under limits (``net.admission``): uvicorn
closes an idle keep-alive connection, but a connection that never sends a whole request head,
or never finishes its body, it keeps for ever. :class:`HttpTimeouts` closes those, and
:func:`guarded_protocol` is uvicorn's httptools protocol with both added.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tidings.net.admission import Admission, ConnectionLimits, default_limits


@dataclass(frozen=True, slots=True)
class HttpTimeouts:
    """Seconds a connection may take, each configurable (``TIDINGS_HTTP_*_TIMEOUT_SECONDS``)."""

    # From the connection (or the end of the last response) to a whole request head.
    header: float = 10.0
    # From the request head to the end of its body.
    body: float = 30.0
    # An idle keep-alive connection between requests (uvicorn's own timer).
    keep_alive: float = 5.0


class _Phase(Enum):
    HEAD = "waiting for a request head"
    BODY = "reading a request body"
    APP = "answering"


def guarded_protocol(admission: Admission, timeouts: HttpTimeouts) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, admitted by ``admission`` and held to ``timeouts``."""

    class GuardedHttpProtocol(HttpToolsProtocol):
        _phase = _Phase.HEAD
        _deadline: asyncio.TimerHandle | None = None

        # --- as admission sees it -------------------------------------------------------------

        @property
        def address(self) -> str:
            return self.client[0] if self.client else ""

        @property
        def idle(self) -> bool:
            # Until a whole request has arrived, closing loses the peer nothing it was told of.
            return self._phase is not _Phase.APP

        def evict(self) -> None:
            self._cancel_deadline()
            self.transport.abort()

        # --- uvicorn's protocol, with deadlines -----------------------------------------------

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if not admission.admit(self):
                transport.abort()
                return
            self._arm(timeouts.header)

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_deadline()
            admission.release(self)
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._phase = _Phase.BODY
            self._arm(timeouts.body)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._phase = _Phase.APP
            self._cancel_deadline()

        def on_response_complete(self) -> None:
            pipelined = bool(self.pipeline)
            super().on_response_complete()
            if not pipelined and not self.transport.is_closing():
                self._phase = _Phase.HEAD
                self._arm(timeouts.header)

        def _arm(self, seconds: float) -> None:
            self._cancel_deadline()
            self._deadline = self.loop.call_later(seconds, self._expired)

        def _cancel_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self._phase is not _Phase.APP and not self.transport.is_closing():
                # Nothing of this request reached the app as complete: nobody to answer.
                self.transport.abort()

    return GuardedHttpProtocol


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class EmbeddedHttpServer:
    def __init__(
        self,
        server: uvicorn.Server,
        task: asyncio.Task[None],
        sock: socket.socket,
        admission: Admission,
    ):
        self._server = server
        self._task = task
        self._socket = sock
        self.admission = admission
        self.port = int(sock.getsockname()[1])

    @classmethod
    async def start(
        cls,
        app: Any,
        host: str,
        port: int,
        *,
        lifespan: Literal["on", "off"] = "on",
        startup_timeout: float = 30.0,
        timeouts: HttpTimeouts | None = None,
        limits: ConnectionLimits | None = None,
        trusted_proxies: list[str] | None = None,
    ) -> EmbeddedHttpServer:
        """Listen on ``host:port`` (0 picks a free port) and return once requests are served.

        ``limits`` default to half of what the file limit leaves (``net.admission``). Only
        ``trusted_proxies`` (addresses or networks) may set the client's address and scheme
        with X-Forwarded-For and X-Forwarded-Proto; uvicorn would otherwise believe 127.0.0.1."""
        timeouts = timeouts or HttpTimeouts()
        admission = Admission(limits or default_limits(0.5))
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        config = uvicorn.Config(
            app,
            log_level="warning",
            log_config=None,
            lifespan=lifespan,
            access_log=False,
            http=guarded_protocol(admission, timeouts),
            proxy_headers=bool(trusted_proxies),
            forwarded_allow_ips=list(trusted_proxies or []),
            timeout_keep_alive=max(1, round(timeouts.keep_alive)),
        )
        server = _Server(config)
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        try:
            async with asyncio.timeout(startup_timeout):
                while not server.started:
                    if task.done():
                        task.result()  # raises why it could not start
                        raise OSError(f"HTTP server on {host}:{port} stopped while starting")
                    await asyncio.sleep(0.005)
        except BaseException:
            task.cancel()
            sock.close()
            raise
        return cls(server, task, sock, admission)

    async def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._task)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._socket.close()
