"""What the simulator answers when it cannot do what was asked (the control API maps them)."""

from __future__ import annotations

from http import HTTPStatus

from fastapi.responses import JSONResponse

from tidings.errors import TidingsError

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """A control API error as RFC 9457 problem details, as the service's /v1 (where the control
    API is mounted, under /v1/simulator) answers its own: ``title`` says what went wrong in a
    few words ("no such part"), ``detail`` about what."""
    return JSONResponse(
        {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": f"{title}: {detail}" if detail else title,
        },
        status_code=status,
        media_type=PROBLEM_JSON,
    )


class SimulatorError(TidingsError):
    """The simulator could not do what was asked."""


class NoReceiverBound(SimulatorError):
    """No ESME that can receive messages (a receiver or transceiver) is bound."""


class InboundRejected(SimulatorError):
    """The ESME did not accept the inbound message."""
