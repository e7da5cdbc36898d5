"""The simulator's HTTP control API: read handset inboxes, inject inbound messages, see counters.

:func:`control_router` holds the routes so that the service can mount the same functions under
its own prefix (``/v1/simulator``); :class:`ControlServer` serves them on their own port with an
in-process uvicorn, for the standalone simulator and for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import APIRouter, FastAPI, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tidings.text import TextError

if TYPE_CHECKING:
    from tidings.simulator.smsc import Simulator

__all__ = ["ControlServer", "InboundRequest", "control_app", "control_router"]

_STARTUP_TIMEOUT_S = 10.0
_SHUTDOWN_TIMEOUT_S = 5.0


class InboundRequest(BaseModel):
    """A mobile-originated message to inject: from a handset to a number the ESME serves."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    sender: str = Field(alias="from", min_length=1, max_length=20)
    recipient: str = Field(alias="to", min_length=1, max_length=20)
    text: str = Field(max_length=40_000)
    system_id: str | None = Field(default=None, max_length=15)


def _error(code: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": title, "detail": detail}, status_code=code)


def control_router(simulator: Simulator) -> APIRouter:
    """The control API's routes for ``simulator``, to be served alone or mounted elsewhere."""
    # Imported here: smsc imports this module, and the errors live there.
    from tidings.simulator.smsc import InboundRejected, NoReceiverBound

    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "smpp_port": simulator.smpp_port if simulator.running else None}

    @router.get("/stats")
    async def stats() -> dict[str, object]:
        return simulator.status()

    @router.get("/handsets/{number}")
    async def read_handset(number: str) -> dict[str, Any]:
        return {
            "number": number,
            "messages": [message.as_json() for message in simulator.inbox(number)],
        }

    @router.delete("/handsets/{number}")
    async def clear_handset(number: str) -> dict[str, Any]:
        return {"number": number, "deleted": simulator.clear_inbox(number)}

    @router.post("/inbound", response_model=None)
    async def inbound(
        request: InboundRequest, response: Response, wait: bool = False
    ) -> dict[str, Any] | JSONResponse:
        """Send a message from a handset to the bound ESME.

        Answers 202 once the message is on its way, or with ``?wait=true`` 200 once the ESME has
        acknowledged every part.
        """
        try:
            if wait:
                parts = await simulator.inject_inbound(
                    request.sender, request.recipient, request.text, system_id=request.system_id
                )
            else:
                parts = simulator.queue_inbound(
                    request.sender, request.recipient, request.text, system_id=request.system_id
                )
        except NoReceiverBound as exc:
            return _error(status.HTTP_409_CONFLICT, "no receiver bound", exc.message)
        except InboundRejected as exc:
            return _error(status.HTTP_502_BAD_GATEWAY, "inbound rejected", exc.message)
        except TextError as exc:
            return _error(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid text", exc.message)
        response.status_code = status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        return {
            "status": "delivered" if wait else "accepted",
            "from": request.sender,
            "to": request.recipient,
            "parts": parts,
        }

    return router


def control_app(simulator: Simulator) -> FastAPI:
    """A FastAPI app serving only the control API."""
    app = FastAPI(title="tidings SMSC simulator", docs_url=None, redoc_url=None)
    app.include_router(control_router(simulator))
    return app


class _EmbeddedUvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Whoever owns the process (the CLI, the service, a test) handles SIGINT and SIGTERM.
        yield


class ControlServer:
    """The control API served by uvicorn inside the running event loop."""

    def __init__(
        self, server: uvicorn.Server, task: asyncio.Task[None], sock: socket.socket
    ) -> None:
        self._server = server
        self._task = task
        self._socket = sock
        self.port = int(sock.getsockname()[1])

    @classmethod
    async def start(cls, simulator: Simulator, host: str, port: int) -> ControlServer:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        bound_port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            control_app(simulator),
            log_level="warning",
            log_config=None,
            lifespan="off",
            access_log=False,
        )
        server = _EmbeddedUvicorn(config)
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        try:
            async with asyncio.timeout(_STARTUP_TIMEOUT_S):
                while not server.started:
                    if task.done():
                        task.result()
                        raise OSError(f"control API on {host}:{bound_port} did not start")
                    await asyncio.sleep(0.005)
        except BaseException:
            task.cancel()
            sock.close()
            raise
        return cls(server, task, sock)

    async def stop(self) -> None:
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), _SHUTDOWN_TIMEOUT_S)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._socket.close()
