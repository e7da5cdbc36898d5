"""One side of MM7, sans-IO: what it may send (a table), its open transactions and their
deadlines (the clock is passed in), and the answers to requests and to errors.

The VASP (tidings) sends SubmitReq and answers DeliverReq and DeliveryReportReq; the relay
(the MMSC) does the opposite. Every request and its response share a TransactionID (§8.4.3).
HTTP is the caller's: this class turns bytes into messages and messages into bytes.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from enum import StrEnum

from tidings.mm7 import codec, mime
from tidings.mm7.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from tidings.mm7.messages import (
    DeliverReq,
    DeliverRsp,
    DeliveryReportReq,
    DeliveryReportRsp,
    Fault,
    Request,
    Response,
    Status,
    SubmitReq,
    SubmitRsp,
)
from tidings.mm7.status import StatusCode


class Role(StrEnum):
    VASP = "vasp"
    RELAY = "relay"


# Which requests each side sends (TS 23.140 §8.7); the other side receives them.
SENDS: dict[Role, frozenset[type[Request]]] = {
    Role.VASP: frozenset({SubmitReq}),
    Role.RELAY: frozenset({DeliverReq, DeliveryReportReq}),
}
# The response type that answers each request.
ANSWERS: dict[type[Request], type[Response]] = {
    SubmitReq: SubmitRsp,
    DeliverReq: DeliverRsp,
    DeliveryReportReq: DeliveryReportRsp,
}
_OTHER = {Role.VASP: Role.RELAY, Role.RELAY: Role.VASP}
_DEFAULT_LIMITS = mime.Limits()


@dataclass(frozen=True, slots=True)
class HttpMessage:
    """What goes on the wire: an HTTP status (for answers), Content-Type and body."""

    content_type: str
    body: bytes
    status: int = 200


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    transaction_id: str
    http: HttpMessage
    deadline: float


@dataclass(slots=True)
class _Pending:
    answer: type[Response]
    deadline: float


class Endpoint:
    """One MM7 side. ``receive_*`` raise :class:`RemoteProtocolError` (answer it with
    :meth:`error_answer`); ``send_*``/``answer`` raise :class:`LocalProtocolError`."""

    def __init__(
        self,
        role: Role,
        *,
        limits: mime.Limits = _DEFAULT_LIMITS,
        response_timeout: float = 30.0,
    ) -> None:
        self.role = role
        self.limits = limits
        self.response_timeout = response_timeout
        self._pending: dict[str, _Pending] = {}
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)

    def new_transaction_id(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"

    # --- as the side that sends a request ---

    def send_request(self, message: Request, now: float) -> OutgoingRequest:
        if type(message) not in SENDS[self.role]:
            raise LocalProtocolError(f"the {self.role} side does not send {type(message).__name__}")
        transaction_id = self.new_transaction_id()
        encoded = codec.encode(message, transaction_id)
        deadline = now + self.response_timeout
        self._pending[transaction_id] = _Pending(ANSWERS[type(message)], deadline)
        return OutgoingRequest(
            transaction_id, HttpMessage(encoded.content_type, encoded.body), deadline
        )

    def receive_response(
        self, transaction_id: str, http_status: int, content_type: str, body: bytes
    ) -> Response:
        """The answer to our request ``transaction_id``: its response, or a :class:`Fault`
        (also made up for an HTTP refusal without one, such as 401 for bad credentials)."""
        pending = self._pending.pop(transaction_id, None)
        if pending is None:
            raise LocalProtocolError(f"no request {transaction_id} is waiting for an answer")
        if http_status in (401, 403):
            return Fault(
                Status(StatusCode.IMPROPER_IDENTIFICATION, f"HTTP {http_status}"), from_relay=True
            )
        try:
            answered_id, message = codec.decode(content_type, body, self.limits)
        except RemoteProtocolError:
            if http_status >= 500 or http_status in (408, 429):
                return Fault(Status(StatusCode.SERVER_ERROR, f"HTTP {http_status}"), True, "Server")
            if http_status >= 400:
                return Fault(Status(StatusCode.CLIENT_ERROR, f"HTTP {http_status}"), True)
            raise
        if isinstance(message, Fault):
            return message
        if answered_id is not None and answered_id != transaction_id:
            raise RemoteProtocolError(
                f"the answer is for transaction {answered_id}, not {transaction_id}"
            )
        if not isinstance(message, pending.answer):
            raise RemoteProtocolError(
                f"a {type(message).__name__} answered a request that takes a "
                f"{pending.answer.__name__}"
            )
        return message

    def expired(self, now: float) -> list[str]:
        """Transactions whose answer is overdue; they are forgotten (the caller gives up)."""
        overdue = [tid for tid, pending in self._pending.items() if pending.deadline <= now]
        for transaction_id in overdue:
            del self._pending[transaction_id]
        return overdue

    def forget(self, transaction_id: str) -> None:
        """Stop waiting for ``transaction_id`` (its HTTP exchange failed)."""
        self._pending.pop(transaction_id, None)

    @property
    def open_transactions(self) -> int:
        return len(self._pending)

    # --- as the side that receives a request ---

    def receive_request(self, content_type: str, body: bytes) -> tuple[str, Request]:
        transaction_id, message = codec.decode(content_type, body, self.limits)
        if transaction_id is None:
            raise RemoteProtocolError("the request has no TransactionID header")
        if type(message) not in SENDS[_OTHER[self.role]]:
            raise RemoteProtocolError(
                f"the {self.role} side does not take {type(message).__name__}",
                status=StatusCode.UNSUPPORTED_OPERATION,
                transaction_id=transaction_id,
            )
        assert isinstance(message, SubmitReq | DeliverReq | DeliveryReportReq)
        return transaction_id, message

    def answer(self, transaction_id: str, request: Request, response: Response) -> HttpMessage:
        """The HTTP answer to ``request``: its response type, or a fault."""
        if isinstance(response, Fault):
            return self._fault(transaction_id, response)
        if not isinstance(response, ANSWERS[type(request)]):
            raise LocalProtocolError(
                f"{type(response).__name__} does not answer {type(request).__name__}"
            )
        encoded = codec.encode(response, transaction_id)
        return HttpMessage(encoded.content_type, encoded.body)

    def error_answer(self, error: ProtocolError) -> HttpMessage:
        """The fault that answers a request we could not take."""
        status = Status(error.status, error.message[:200])
        fault_code = "Server" if 3000 <= error.status < 4000 else "Client"
        fault = Fault(status, from_relay=self.role is Role.RELAY, fault_code=fault_code)
        return self._fault(error.transaction_id or "unknown", fault)

    def _fault(self, transaction_id: str, fault: Fault) -> HttpMessage:
        encoded = codec.encode(fault, transaction_id)
        # SOAP 1.1 §6.2: a fault goes back with HTTP 500.
        return HttpMessage(encoded.content_type, encoded.body, status=500)
