"""One incoming call, sans-IO: the user agent server's side of an INVITE (RFC 3261 §13.3, §17.2).

The embedded phone network answers our calls with it. The application decides when to ring,
answer, refuse or hang up; the call sends the responses and retransmits them over UDP as
§17.2.1 and §13.3.1.4 require (a final response every T1, doubling up to T2, until the ACK
comes; given up after 64·T1), answers CANCEL with 200 and the INVITE with 487, BYE with 200,
and sends its own BYE through a client transaction. Which action is possible in which state
is the table ``TRANSITIONS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from tidings.sip.call import ALLOW, DEFAULT_TIMERS, new_token
from tidings.sip.errors import LocalProtocolError, RemoteProtocolError
from tidings.sip.message import (
    BRANCH_COOKIE,
    Headers,
    NameAddr,
    Request,
    Response,
    response_to,
)
from tidings.sip.transaction import (
    ClientTransaction,
    Received,
    TimedOut,
    Timers,
    Transmit,
)


class UasState(Enum):
    RECEIVED = "received"  # INVITE in, 100 sent
    RINGING = "ringing"  # 180 sent
    ANSWERED = "answered"  # 200 sent, waiting for the ACK
    CONFIRMED = "confirmed"  # ACK in: the call is up
    REFUSED = "refused"  # a 3xx-6xx sent, waiting for the ACK
    ENDING = "ending"  # our BYE sent
    ENDED = "ended"


class Action(Enum):
    RING = "ring"
    ANSWER = "answer"
    REFUSE = "refuse"
    ACK = "ack"
    CANCELLED = "cancelled"
    HANG_UP = "hang_up"
    REMOTE_BYE = "remote_bye"
    BYE_DONE = "bye_done"
    GIVE_UP = "give_up"  # no ACK within 64·T1


_U, _A = UasState, Action
TRANSITIONS: Mapping[tuple[UasState, Action], UasState] = MappingProxyType(
    {
        (_U.RECEIVED, _A.RING): _U.RINGING,
        (_U.RECEIVED, _A.ANSWER): _U.ANSWERED,
        (_U.RINGING, _A.ANSWER): _U.ANSWERED,
        (_U.RECEIVED, _A.REFUSE): _U.REFUSED,
        (_U.RINGING, _A.REFUSE): _U.REFUSED,
        (_U.RECEIVED, _A.CANCELLED): _U.REFUSED,
        (_U.RINGING, _A.CANCELLED): _U.REFUSED,
        (_U.ANSWERED, _A.ACK): _U.CONFIRMED,
        (_U.REFUSED, _A.ACK): _U.ENDED,
        (_U.ANSWERED, _A.REMOTE_BYE): _U.ENDED,
        (_U.CONFIRMED, _A.REMOTE_BYE): _U.ENDED,
        (_U.CONFIRMED, _A.HANG_UP): _U.ENDING,
        (_U.ANSWERED, _A.HANG_UP): _U.ENDING,
        (_U.ENDING, _A.BYE_DONE): _U.ENDED,
        (_U.ENDING, _A.REMOTE_BYE): _U.ENDED,
        (_U.ANSWERED, _A.GIVE_UP): _U.ENDING,
        (_U.REFUSED, _A.GIVE_UP): _U.ENDED,
    }
)


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The caller acknowledged our answer: media flows."""


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The caller gave up before we answered."""


@dataclass(frozen=True, slots=True)
class HungUp:
    by_remote: bool


@dataclass(frozen=True, slots=True)
class Terminated:
    """Our refusal was acknowledged (or never will be): nothing more will come."""


UasEvent = Confirmed | Cancelled | HungUp | Terminated


class IncomingCall:
    def __init__(
        self,
        invite: Request,
        *,
        contact: str,
        reliable: bool,
        now: float,
        timers: Timers = DEFAULT_TIMERS,
        new_id: Callable[[], str] = new_token,
    ) -> None:
        if invite.method != "INVITE":
            raise LocalProtocolError("an incoming call starts with an INVITE")
        self.invite = invite
        self.contact = contact
        self.reliable = reliable
        self.timers = timers
        self._new_id = new_id
        self.local_tag = new_id()
        self.call_id = invite.call_id
        self.state = UasState.RECEIVED
        self.started_at = now
        self.caller = NameAddr.parse(invite.headers.get("From") or "")
        contact_header = invite.headers.get("Contact")
        self.remote_target = NameAddr.parse(contact_header).uri if contact_header else ""
        self.route_set = tuple(invite.headers.get_all("Record-Route"))
        self._outgoing: list[bytes] = []
        self._events: list[UasEvent] = []
        self._final: bytes | None = None
        self._retransmit_at: float | None = None
        self._interval = timers.t1
        self._give_up_at: float | None = None
        self._bye: ClientTransaction | None = None
        self._served: dict[tuple[str, str], bytes] = {}
        self._send(response_to(invite, 100).encode())

    def take_outgoing(self) -> list[bytes]:
        out, self._outgoing = self._outgoing, []
        return out

    def _take_events(self) -> list[UasEvent]:
        events, self._events = self._events, []
        return events

    def _send(self, data: bytes) -> None:
        self._outgoing.append(data)

    def _move(self, action: Action) -> None:
        next_state = TRANSITIONS.get((self.state, action))
        if next_state is None:
            raise LocalProtocolError(f"cannot {action.value} in {self.state.value}")
        self.state = next_state

    def can(self, action: Action) -> bool:
        return (self.state, action) in TRANSITIONS

    # --- the application's decisions ----------------------------------------------------------

    def ring(self) -> None:
        self._move(Action.RING)
        self._send(response_to(self.invite, 180, to_tag=self.local_tag).encode())

    def answer(self, sdp: bytes, now: float) -> None:
        self._move(Action.ANSWER)
        headers = [
            ("Contact", self.contact),
            ("Allow", ALLOW),
            ("Content-Type", "application/sdp"),
        ]
        headers += [("Record-Route", route) for route in self.route_set]
        response = response_to(self.invite, 200, to_tag=self.local_tag, headers=headers, body=sdp)
        self._final_response(response.encode(), now)

    def refuse(self, status: int, now: float) -> None:
        self._move(Action.REFUSE)
        self._final_response(response_to(self.invite, status, to_tag=self.local_tag).encode(), now)

    def hangup(self, now: float) -> list[UasEvent]:
        if self.state in (UasState.RECEIVED, UasState.RINGING):
            self.refuse(480, now)
            return self._take_events()
        self._move(Action.HANG_UP)
        self._retransmit_at = self._give_up_at = None
        self._send_bye(now)
        return self._take_events()

    def _final_response(self, data: bytes, now: float) -> None:
        self._final = data
        self._send(data)
        # §17.2.1 (3xx-6xx) and §13.3.1.4 (2xx): over an unreliable transport the final
        # response goes again until the ACK comes; either way we give up after 64·T1.
        if not self.reliable:
            self._interval = self.timers.t1
            self._retransmit_at = now + self._interval
        self._give_up_at = now + self.timers.timeout

    def _send_bye(self, now: float) -> None:
        dialog_to = NameAddr(self.caller.uri, self.caller.display, dict(self.caller.params))
        local = NameAddr.parse(self.invite.headers.get("To") or "").with_tag(self.local_tag)
        headers = [
            ("Via", self._via()),
            *(("Route", route) for route in reversed(self.route_set)),
            ("Max-Forwards", "70"),
            ("From", str(local)),
            ("To", str(dialog_to)),
            ("Call-ID", self.call_id),
            ("CSeq", "1 BYE"),
        ]
        request = Request("BYE", self.remote_target or self.caller.uri, Headers.of(headers))
        self._bye = ClientTransaction(request, reliable=self.reliable, now=now, timers=self.timers)
        for event in self._bye.start():
            if isinstance(event, Transmit):
                self._send(event.data)

    def _via(self) -> str:
        # The Contact we answered with names where we listen.
        host_port = (
            NameAddr.parse(self.contact).uri.partition("@")[2]
            or NameAddr.parse(self.contact).uri.partition(":")[2]
        )
        host_port = host_port.partition(";")[0]
        transport = "UDP" if not self.reliable else "TCP"
        return f"SIP/2.0/{transport} {host_port};branch={BRANCH_COOKIE}{self._new_id()}"

    # --- the caller's messages ----------------------------------------------------------------

    def receive(self, message: Request | Response, now: float) -> list[UasEvent]:
        if isinstance(message, Response):
            self._receive_response(message, now)
        else:
            self._receive_request(message, now)
        return self._take_events()

    def _receive_response(self, response: Response, now: float) -> None:
        if self._bye is None:
            return
        try:
            if response.branch != self._bye.branch:
                return
        except RemoteProtocolError:
            return
        for event in self._bye.receive(response, now):
            if isinstance(event, Received) and event.response.status >= 200:
                self._end_after_bye()

    def _end_after_bye(self) -> None:
        if self.state is UasState.ENDING:
            self._move(Action.BYE_DONE)
            self._events.append(HungUp(by_remote=False))

    def _receive_request(self, request: Request, now: float) -> None:
        method = request.method
        if method == "INVITE":
            # A retransmitted INVITE gets the last response again (§17.2.1).
            if request.headers.get("Via") == self.invite.headers.get("Via"):
                self._send(self._final or response_to(self.invite, 100).encode())
            else:
                self._send(response_to(request, 491).encode())
            return
        if method == "ACK":
            if self.state in (UasState.ANSWERED, UasState.REFUSED):
                confirmed = self.state is UasState.ANSWERED
                self._move(Action.ACK)
                self._retransmit_at = self._give_up_at = None
                self._events.append(Confirmed() if confirmed else Terminated())
            return
        key = (request.headers.get("Via") or "", method)
        if key in self._served:
            self._send(self._served[key])
            return
        if method == "CANCEL":
            if self.can(Action.CANCELLED):
                # §9.2: 200 for the CANCEL, then 487 for the INVITE.
                data = response_to(request, 200, to_tag=self.local_tag).encode()
                self._served[key] = data
                self._send(data)
                self._move(Action.CANCELLED)
                terminated = response_to(self.invite, 487, to_tag=self.local_tag)
                self._final_response(terminated.encode(), now)
                self._events.append(Cancelled())
                return
            else:
                answer = response_to(request, 481)
        elif method == "BYE":
            if self.can(Action.REMOTE_BYE):
                answer = response_to(request, 200)
                self._move(Action.REMOTE_BYE)
                self._retransmit_at = self._give_up_at = None
                self._events.append(HungUp(by_remote=True))
            else:
                answer = response_to(request, 481)
        elif method == "OPTIONS":
            answer = response_to(request, 200, headers=[("Allow", ALLOW)])
        else:
            answer = response_to(request, 501, headers=[("Allow", ALLOW)])
        data = answer.encode()
        self._served[key] = data
        self._send(data)

    # --- timers -------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        deadlines = [self._retransmit_at, self._give_up_at]
        if self._bye is not None:
            deadlines.append(self._bye.next_deadline())
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def poll(self, now: float) -> list[UasEvent]:
        if self._give_up_at is not None and now >= self._give_up_at:
            self._retransmit_at = self._give_up_at = None
            if self.state is UasState.ANSWERED:
                # §13.3.1.4: no ACK for our 2xx: the dialog is confirmed and ended with a BYE.
                self._move(Action.GIVE_UP)
                self._send_bye(now)
            elif self.state is UasState.REFUSED:
                self._move(Action.GIVE_UP)
                self._events.append(Terminated())
        if self._retransmit_at is not None and now >= self._retransmit_at and self._final:
            self._send(self._final)
            self._interval = min(self._interval * 2, self.timers.t2)
            self._retransmit_at = now + self._interval
        if self._bye is not None:
            for event in self._bye.poll(now):
                if isinstance(event, Transmit):
                    self._send(event.data)
                elif isinstance(event, TimedOut):
                    self._end_after_bye()
        return self._take_events()
