"""SIP client transactions (RFC 3261 §17.1), sans-IO, timers as deadlines.

An INVITE transaction and a non-INVITE transaction are two columns of one table: which state a
response class moves each state to, whether the response goes up to the call, and whether the
transaction itself acknowledges it. Over UDP the transaction retransmits its request (Timer A
for INVITE, doubling from T1; Timer E for the others, doubling up to T2) and gives up after
64·T1 (Timers B and F); a completed transaction lingers to absorb retransmitted responses
(Timer D, 32 s, for INVITE; Timer K, T4, for the others). Over TCP nothing is retransmitted
and nothing lingers. The I/O layer asks :meth:`ClientTransaction.next_deadline` when to call
:meth:`ClientTransaction.poll` again; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from tidings.sip.message import Headers, Request, Response, Via


@dataclass(frozen=True, slots=True)
class Timers:
    """RFC 3261 §17.1.1.1 and Table 4."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    @property
    def timeout(self) -> float:  # Timers B and F
        return 64 * self.t1


class Kind(Enum):
    INVITE = "invite"
    NON_INVITE = "non-invite"


class TxState(Enum):
    CALLING = "calling"  # INVITE sent, nothing heard
    TRYING = "trying"  # non-INVITE sent, nothing heard
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class Class(Enum):
    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    FAILURE = "3xx-6xx"


def response_class(status: int) -> Class:
    if status < 200:
        return Class.PROVISIONAL
    return Class.SUCCESS if status < 300 else Class.FAILURE


@dataclass(frozen=True, slots=True)
class Step:
    next_state: TxState
    pass_up: bool
    acknowledge: bool  # the transaction sends the ACK itself (§17.1.1.3: non-2xx finals only)


_K, _S, _C = Kind, TxState, Class
# (kind, state, response class) → step. A combination missing here is a retransmission or a
# stray that the transaction absorbs (§17.1.1.2 Figure 5, §17.1.2.2 Figure 6).
TRANSITIONS: Mapping[tuple[Kind, TxState, Class], Step] = MappingProxyType(
    {
        (_K.INVITE, _S.CALLING, _C.PROVISIONAL): Step(_S.PROCEEDING, True, False),
        (_K.INVITE, _S.CALLING, _C.SUCCESS): Step(_S.TERMINATED, True, False),
        (_K.INVITE, _S.CALLING, _C.FAILURE): Step(_S.COMPLETED, True, True),
        (_K.INVITE, _S.PROCEEDING, _C.PROVISIONAL): Step(_S.PROCEEDING, True, False),
        (_K.INVITE, _S.PROCEEDING, _C.SUCCESS): Step(_S.TERMINATED, True, False),
        (_K.INVITE, _S.PROCEEDING, _C.FAILURE): Step(_S.COMPLETED, True, True),
        # A retransmitted final response: acknowledge again, tell nobody.
        (_K.INVITE, _S.COMPLETED, _C.FAILURE): Step(_S.COMPLETED, False, True),
        (_K.NON_INVITE, _S.TRYING, _C.PROVISIONAL): Step(_S.PROCEEDING, True, False),
        (_K.NON_INVITE, _S.TRYING, _C.SUCCESS): Step(_S.COMPLETED, True, False),
        (_K.NON_INVITE, _S.TRYING, _C.FAILURE): Step(_S.COMPLETED, True, False),
        (_K.NON_INVITE, _S.PROCEEDING, _C.PROVISIONAL): Step(_S.PROCEEDING, True, False),
        (_K.NON_INVITE, _S.PROCEEDING, _C.SUCCESS): Step(_S.COMPLETED, True, False),
        (_K.NON_INVITE, _S.PROCEEDING, _C.FAILURE): Step(_S.COMPLETED, True, False),
    }
)


@dataclass(frozen=True, slots=True)
class Transmit:
    """Bytes to send to the transaction's destination."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Received:
    """A response for the call (the transaction user)."""

    response: Response


@dataclass(frozen=True, slots=True)
class TimedOut:
    """No final response within 64·T1 (Timer B or F): as if 408 had come (§8.1.3.1)."""


TransactionEvent = Transmit | Received | TimedOut


class ClientTransaction:
    """One request and the responses to it."""

    def __init__(
        self, request: Request, *, reliable: bool, now: float, timers: Timers = Timers()
    ) -> None:
        self.request = request
        self.kind = Kind.INVITE if request.method == "INVITE" else Kind.NON_INVITE
        self.reliable = reliable
        self.timers = timers
        self.state = TxState.CALLING if self.kind is Kind.INVITE else TxState.TRYING
        self.branch = Via.parse(request.headers.get("Via") or "").branch or ""
        self._data = request.encode()
        self._interval = timers.t1
        # Timer A/E (retransmit), B/F (give up), D/K (linger) as absolute times or None.
        self._retransmit_at: float | None = None if reliable else now + timers.t1
        self._timeout_at: float | None = now + timers.timeout
        self._linger_until: float | None = None

    def start(self) -> list[TransactionEvent]:
        return [Transmit(self._data)]

    @property
    def terminated(self) -> bool:
        return self.state is TxState.TERMINATED

    def receive(self, response: Response, now: float) -> list[TransactionEvent]:
        step = TRANSITIONS.get((self.kind, self.state, response_class(response.status)))
        if step is None:
            return []
        events: list[TransactionEvent] = []
        if step.acknowledge:
            events.append(Transmit(self.ack_for(response).encode()))
        if step.pass_up:
            events.append(Received(response))
        self._enter(step.next_state, now)
        return events

    def _enter(self, state: TxState, now: float) -> None:
        previous, self.state = self.state, state
        if state is TxState.PROCEEDING:
            self._timeout_at = self._timeout_at if self.kind is Kind.NON_INVITE else None
            if self.kind is Kind.INVITE:
                # §17.1.1.2: a provisional response stops Timer A (and B: the call keeps its
                # own ring timeout).
                self._retransmit_at = None
            elif previous is TxState.TRYING and not self.reliable:
                # §17.1.2.2: in Proceeding, Timer E fires every T2.
                self._interval = self.timers.t2
                self._retransmit_at = now + self.timers.t2
        elif state is TxState.COMPLETED and previous is not TxState.COMPLETED:
            self._retransmit_at = self._timeout_at = None
            linger = 0.0
            if not self.reliable:
                linger = 32.0 if self.kind is Kind.INVITE else self.timers.t4
            self._linger_until = now + linger
        elif state is TxState.TERMINATED:
            self._retransmit_at = self._timeout_at = self._linger_until = None

    def next_deadline(self) -> float | None:
        deadlines = [
            t for t in (self._retransmit_at, self._timeout_at, self._linger_until) if t is not None
        ]
        return min(deadlines) if deadlines else None

    def poll(self, now: float) -> list[TransactionEvent]:
        events: list[TransactionEvent] = []
        if self._timeout_at is not None and now >= self._timeout_at:
            self._enter(TxState.TERMINATED, now)
            return [TimedOut()]
        if self._retransmit_at is not None and now >= self._retransmit_at:
            events.append(Transmit(self._data))
            if self.kind is Kind.INVITE:
                self._interval *= 2
            else:
                self._interval = min(self._interval * 2, self.timers.t2)
            self._retransmit_at = now + self._interval
        if self._linger_until is not None and now >= self._linger_until:
            self._enter(TxState.TERMINATED, now)
        return events

    def ack_for(self, response: Response) -> Request:
        """The ACK of a non-2xx final response (§17.1.1.3): same branch, the response's To."""
        original = self.request.headers
        headers: list[tuple[str, str]] = [("Via", original.get_all("Via")[0])]
        headers += [("Route", route) for route in original.get_all("Route")]
        headers += [
            ("Max-Forwards", "70"),
            ("From", original.get("From") or ""),
            ("To", response.headers.get("To") or ""),
            ("Call-ID", self.request.call_id),
            ("CSeq", f"{self.request.cseq.number} ACK"),
        ]
        return Request("ACK", self.request.uri, Headers.of(headers))
