"""An ASGI app served by uvicorn inside the running event loop.

The service's API and the simulator's control API both run this way. Signals are left to
whoever owns the process (the CLI, the service, a test), which stops every part in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any, Literal

import uvicorn


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class EmbeddedHttpServer:
    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], sock: socket.socket):
        self._server = server
        self._task = task
        self._socket = sock
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
    ) -> EmbeddedHttpServer:
        """Listen on ``host:port`` (0 picks a free port) and return once requests are served."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        config = uvicorn.Config(
            app, log_level="warning", log_config=None, lifespan=lifespan, access_log=False
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
        return cls(server, task, sock)

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
