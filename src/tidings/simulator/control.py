"""The simulator's HTTP control API: read handset inboxes, inject inbound messages, see counters.

:func:`control_router` holds the routes so that the service can mount the same functions under
its own prefix (``/v1/simulator``); :class:`ControlServer` serves them on their own port with an
in-process uvicorn, for the standalone simulator and for tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tidings.http_server import EmbeddedHttpServer
from tidings.simulator.config import ChaosConfig, OutcomeRule
from tidings.simulator.documents_control import fax_router, post_router
from tidings.simulator.errors import InboundRejected, NoReceiverBound, problem
from tidings.simulator.fax_gateway import FaxGateway
from tidings.simulator.inbox import HandsetMessage
from tidings.simulator.mmsc import Mmsc
from tidings.simulator.mmsc_control import mmsc_router
from tidings.simulator.phones import PhoneNetwork
from tidings.simulator.printer import PrinterSimulator
from tidings.smpp.constants import CommandStatus
from tidings.smpp.receipts import ReceiptState
from tidings.text import TextError

__all__ = [
    "ControlServer",
    "ControlledSimulator",
    "InboundRequest",
    "control_app",
    "control_router",
]


class ControlledSimulator(Protocol):
    """What the control API reads and changes of a simulator (``smsc.Simulator``, which starts
    this API on itself: the API knows it by this, not by importing it)."""

    mmsc: Mmsc | None
    phones: PhoneNetwork | None
    fax: FaxGateway | None
    printer: PrinterSimulator | None

    @property
    def smpp_port(self) -> int: ...

    @property
    def running(self) -> bool: ...

    @property
    def rules(self) -> tuple[OutcomeRule, ...]: ...

    @property
    def chaos(self) -> ChaosConfig: ...

    def status(self) -> dict[str, object]: ...

    def inbox(self, number: str) -> list[HandsetMessage]: ...

    def clear_inbox(self, number: str) -> int: ...

    def set_rules(self, rules: Sequence[OutcomeRule]) -> None: ...

    def set_chaos(self, chaos: ChaosConfig) -> None: ...

    async def inject_inbound(
        self,
        sender: str,
        recipient: str,
        text: str,
        *,
        system_id: str | None = None,
        timeout: float = 10.0,
    ) -> int: ...

    def queue_inbound(
        self,
        sender: str,
        recipient: str,
        text: str,
        *,
        system_id: str | None = None,
        timeout: float = 10.0,
    ) -> int: ...


_ADDRESS = r"^[!-~]+$"  # printable ASCII, no spaces


class InboundRequest(BaseModel):
    """A mobile-originated message to inject: from a handset to a number the ESME serves."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    # SMPP addresses and system ids are ASCII C-Octet strings (SMPP 3.4 §5.2.8, §4.1.1): other
    # characters are refused here (422), not sent to fail in the encoder (they answered 502).
    sender: str = Field(alias="from", min_length=1, max_length=20, pattern=_ADDRESS)
    recipient: str = Field(alias="to", min_length=1, max_length=20, pattern=_ADDRESS)
    text: str = Field(max_length=40_000)
    system_id: str | None = Field(default=None, max_length=15, pattern=_ADDRESS)


class RuleBody(BaseModel):
    """One outcome rule: what the receipt says for the numbers it matches."""

    model_config = ConfigDict(extra="forbid")

    state: ReceiptState
    err: int = Field(default=0, ge=0, le=999)
    prefix: str | None = Field(default=None, max_length=20)
    suffix: str | None = Field(default=None, max_length=20)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)


class RulesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleBody] = Field(max_length=100)


class ChaosBody(BaseModel):
    """Failures to inject (see :class:`~tidings.simulator.config.ChaosConfig`)."""

    model_config = ConfigDict(extra="forbid")

    reject_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    reject_status: int = Field(default=int(CommandStatus.ESME_RTHROTTLED), ge=1)
    response_delay_s: float = Field(default=0.0, ge=0.0, le=60.0)
    drop_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    duplicate_receipt_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    duplicate_receipt_delay_s: float = Field(default=0.3, ge=0.0, le=60.0)


def rules_json(rules: Sequence[OutcomeRule]) -> list[dict[str, Any]]:
    return [
        {
            "state": rule.state.value,
            "err": rule.err,
            "prefix": rule.prefix,
            "suffix": rule.suffix,
            "probability": rule.probability,
        }
        for rule in rules
    ]


def control_router(simulator: ControlledSimulator) -> APIRouter:
    """The control API's routes for ``simulator``, to be served alone or mounted elsewhere."""
    router = APIRouter()
    if simulator.mmsc is not None:
        router.include_router(mmsc_router(simulator.mmsc))
    if simulator.fax is not None:
        router.include_router(fax_router(simulator.fax))
    if simulator.printer is not None:
        router.include_router(post_router(simulator.printer))

    @router.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "smpp_port": simulator.smpp_port if simulator.running else None}

    @router.get("/stats")
    async def stats() -> dict[str, object]:
        return simulator.status()

    @router.get("/handsets/{number}")
    async def read_handset(number: str, request: Request) -> dict[str, Any]:
        """The handset's messages and, with the phone network, its calls (newest first)."""
        answer: dict[str, Any] = {
            "number": number,
            "messages": [message.as_json() for message in simulator.inbox(number)],
        }
        if simulator.phones is not None:
            here = request.url.path.rstrip("/")
            answer["calls"] = [call.as_json(here) for call in simulator.phones.calls(number)]
        if simulator.mmsc is not None:
            # Part URLs under the prefix this router is mounted at (/v1/simulator in the service).
            base = request.url.path.rstrip("/").removesuffix(f"/handsets/{number}")
            answer["mms"] = [m.as_json(number, base) for m in simulator.mmsc.inbox(number)]
        return answer

    @router.get(
        "/handsets/{number}/calls/{call_id}.wav",
        response_class=Response,
        responses={200: {"content": {"audio/wav": {}}}},
    )
    async def call_recording(number: str, call_id: str) -> Response:
        """What the handset heard during one call, as a WAV file (8 kHz, 16-bit mono)."""
        recording = simulator.phones.recording(number, call_id) if simulator.phones else None
        if recording is None:
            return problem(status.HTTP_404_NOT_FOUND, "no such recording", f"{number}/{call_id}")
        return Response(recording, media_type="audio/wav")

    @router.delete("/handsets/{number}")
    async def clear_handset(number: str) -> dict[str, Any]:
        if simulator.phones is not None:
            simulator.phones.clear(number)
        return {"number": number, "deleted": simulator.clear_inbox(number)}

    @router.get("/rules")
    async def read_rules() -> dict[str, Any]:
        """The outcome rules, first match wins; a message no rule matches is delivered."""
        return {"rules": rules_json(simulator.rules)}

    @router.put("/rules", response_model=None)
    async def replace_rules(body: RulesBody) -> dict[str, Any] | JSONResponse:
        try:
            rules = [OutcomeRule(**rule.model_dump()) for rule in body.rules]
        except ValueError as exc:
            return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid rule", str(exc))
        simulator.set_rules(rules)
        return {"rules": rules_json(simulator.rules)}

    @router.get("/chaos")
    async def read_chaos() -> dict[str, Any]:
        return asdict(simulator.chaos)

    @router.put("/chaos", response_model=None)
    async def replace_chaos(body: ChaosBody) -> dict[str, Any] | JSONResponse:
        try:
            chaos = ChaosConfig(**body.model_dump())
        except ValueError as exc:
            return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid chaos", str(exc))
        simulator.set_chaos(chaos)
        return asdict(simulator.chaos)

    @router.post(
        "/inbound",
        response_model=None,
        status_code=202,
        responses={
            200: {"description": "With ?wait=true: every part acknowledged."},
            502: {"description": "The ESME refused the message."},
        },
    )
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
            return problem(status.HTTP_409_CONFLICT, "no receiver bound", exc.message)
        except InboundRejected as exc:
            return problem(status.HTTP_502_BAD_GATEWAY, "inbound rejected", exc.message)
        except TextError as exc:
            return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid text", exc.message)
        response.status_code = status.HTTP_200_OK if wait else status.HTTP_202_ACCEPTED
        return {
            "status": "delivered" if wait else "accepted",
            "from": request.sender,
            "to": request.recipient,
            "parts": parts,
        }

    return router


def control_app(simulator: ControlledSimulator) -> FastAPI:
    """A FastAPI app serving only the control API."""
    app = FastAPI(title="tidings SMSC simulator", docs_url=None, redoc_url=None)
    app.include_router(control_router(simulator))
    return app


class ControlServer:
    """The control API on its own port, served inside the running event loop."""

    def __init__(self, server: EmbeddedHttpServer, app: FastAPI) -> None:
        self._server = server
        self._app = app
        self.port = server.port

    @classmethod
    async def start(cls, simulator: ControlledSimulator, host: str, port: int) -> ControlServer:
        app = control_app(simulator)
        server = await EmbeddedHttpServer.start(
            app, host, port, lifespan="off", startup_timeout=10.0
        )
        return cls(server, app)

    def mount(self, router: APIRouter) -> None:
        """Serve ``router``'s routes too: a simulator started after this server (the service's
        WhatsApp Cloud API) is driven from the same port, as ``tidings simulator`` expects."""
        self._app.include_router(router)

    async def stop(self) -> None:
        await self._server.stop(timeout=5.0)
