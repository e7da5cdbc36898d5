"""One outbound call, sans-IO: the user agent client's INVITE, its dialog, CANCEL and BYE.

RFC 3261 §13 (INVITE), §12 (dialogs), §9 (CANCEL), §15 (BYE), §22 (digest). The call owns its
client transactions (:mod:`tidings.sip.transaction`) and answers the few requests the far end
sends inside the dialog (BYE, OPTIONS, INFO; a re-INVITE is declined). Which signal moves the
call from which state to which is the table ``TRANSITIONS``; how a final response maps to the
status a user sees is the table ``FINAL_OUTCOMES``. The I/O layer feeds messages in with
:meth:`Call.receive`, wakes it at :meth:`Call.next_deadline` with :meth:`Call.poll`, and sends
whatever :meth:`Call.take_outgoing` returns to the trunk (an outbound proxy: every request of
the call goes there, the dialog's Request-URI and Route set inside it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType

from tidings.sip import sdp
from tidings.sip.auth import Challenge, authorization
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
    TransactionEvent,
    Transmit,
)

DEFAULT_TIMERS = Timers()
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"
# How long a response to a request the far end sent is kept to answer its retransmissions
# (Timer J, 64·T1).
_SERVER_LINGER = 32.0


class CallState(Enum):
    CALLING = "calling"  # INVITE sent
    RINGING = "ringing"  # 180/183 heard
    ANSWERED = "answered"  # 2xx acknowledged, media flowing
    CANCELLING = "cancelling"  # CANCEL sent (or due once a provisional response comes)
    ENDING = "ending"  # BYE sent
    ENDED = "ended"


class Signal(Enum):
    RINGING = "ringing"
    ANSWER = "answer"
    FINAL = "final"  # a 3xx-6xx final response, or giving up
    CHALLENGE = "challenge"  # 401/407 answered with credentials
    CANCEL = "cancel"  # our hang-up or the ring timeout before an answer
    HANG_UP = "hang_up"  # our hang-up after the answer
    REMOTE_BYE = "remote_bye"
    BYE_DONE = "bye_done"


_S, _G = CallState, Signal
TRANSITIONS: Mapping[tuple[CallState, Signal], CallState] = MappingProxyType(
    {
        (_S.CALLING, _G.RINGING): _S.RINGING,
        (_S.RINGING, _G.RINGING): _S.RINGING,
        (_S.CALLING, _G.ANSWER): _S.ANSWERED,
        (_S.RINGING, _G.ANSWER): _S.ANSWERED,
        (_S.CALLING, _G.FINAL): _S.ENDED,
        (_S.RINGING, _G.FINAL): _S.ENDED,
        (_S.CALLING, _G.CHALLENGE): _S.CALLING,
        (_S.RINGING, _G.CHALLENGE): _S.CALLING,
        (_S.CALLING, _G.CANCEL): _S.CANCELLING,
        (_S.RINGING, _G.CANCEL): _S.CANCELLING,
        (_S.CANCELLING, _G.RINGING): _S.CANCELLING,
        # An answer that crossed our CANCEL: acknowledged, then hung up at once (§9.1).
        (_S.CANCELLING, _G.ANSWER): _S.ENDING,
        (_S.CANCELLING, _G.FINAL): _S.ENDED,
        (_S.CANCELLING, _G.CHALLENGE): _S.ENDED,
        (_S.ANSWERED, _G.HANG_UP): _S.ENDING,
        (_S.ANSWERED, _G.REMOTE_BYE): _S.ENDED,
        (_S.ENDING, _G.REMOTE_BYE): _S.ENDED,
        (_S.ENDING, _G.BYE_DONE): _S.ENDED,
        (_S.ENDING, _G.FINAL): _S.ENDED,
    }
)


class Outcome(StrEnum):
    """How a call ended, as the message's status says it."""

    COMPLETED = "completed"  # answered, then hung up by either side
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    FAILED = "failed"


# Final responses whose meaning a user needs to see; every other 3xx-6xx is a failure (the
# SIP code is kept beside it). 487 is ours to read: it answers our CANCEL.
FINAL_OUTCOMES: Mapping[int, Outcome] = MappingProxyType(
    {
        486: Outcome.BUSY,  # Busy Here
        600: Outcome.BUSY,  # Busy Everywhere
        408: Outcome.NO_ANSWER,  # Request Timeout
        480: Outcome.NO_ANSWER,  # Temporarily Unavailable
        487: Outcome.NO_ANSWER,  # Request Terminated (our CANCEL after the ring timeout)
        603: Outcome.REJECTED,  # Decline
    }
)


def outcome_of_final(status: int) -> Outcome:
    return FINAL_OUTCOMES.get(status, Outcome.FAILED)


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class CallConfig:
    target: str  # the Request-URI: sip:<number>@<trunk host>
    from_uri: str  # sip:<caller id>@<from domain>
    local_host: str  # where the far end reaches us (Via, Contact)
    local_port: int
    transport: str = "UDP"
    from_display: str | None = None
    credentials: Credentials | None = None
    ring_timeout: float = 45.0
    timers: Timers = DEFAULT_TIMERS
    user_agent: str = "tidings"

    @property
    def reliable(self) -> bool:
        return self.transport.upper() != "UDP"


@dataclass(frozen=True, slots=True)
class Proceeding:
    """The trunk took the INVITE: its first provisional response (100 Trying, or any 1xx)."""

    status: int


@dataclass(frozen=True, slots=True)
class Ringing:
    status: int


@dataclass(frozen=True, slots=True)
class Answered:
    media: sdp.MediaDescription


@dataclass(frozen=True, slots=True)
class Ended:
    outcome: Outcome
    status: int | None  # the SIP status that decided it, when one did
    reason: str
    by_remote: bool = False


@dataclass(frozen=True, slots=True)
class InfoDigit:
    """A keypress the far end sent as SIP INFO (application/dtmf-relay) instead of RTP events."""

    digit: str


CallEvent = Proceeding | Ringing | Answered | Ended | InfoDigit


def new_token() -> str:
    return secrets.token_hex(8)


@dataclass(slots=True)
class _Dialog:
    remote_tag: str
    remote_target: str
    route_set: tuple[str, ...]
    to_header: str


@dataclass(slots=True)
class _ServerAnswer:
    data: bytes
    expires: float


class Call:
    """The UAC side of one call."""

    def __init__(
        self,
        config: CallConfig,
        *,
        offer: bytes,
        now: float,
        call_id: str | None = None,
        new_id: Callable[[], str] = new_token,
    ) -> None:
        self.config = config
        self.offer = offer
        self._new_id = new_id
        self.call_id = call_id or f"{new_id()}{new_id()}"
        self.local_tag = new_id()
        self.state = CallState.CALLING
        self.started_at = now
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.ended: Ended | None = None
        self.media: sdp.MediaDescription | None = None
        self._outgoing: list[bytes] = []
        self._cseq = 0
        self._invite: ClientTransaction | None = None
        self._invite_authorization: tuple[str, str] | None = None
        self._transactions: dict[tuple[str, str], ClientTransaction] = {}
        self._served: dict[tuple[str, str], _ServerAnswer] = {}
        self._dialog: _Dialog | None = None
        self._ack: bytes | None = None
        self._challenges = 0
        self._provisional_seen = False
        self._cancel_sent = False
        self._cancel_deadline: float | None = None
        self._ring_deadline = now + config.ring_timeout
        self._outcome_after_bye = Outcome.COMPLETED
        self._reason_after_bye = "hung up"
        self._bye_by_remote = False
        self._events: list[CallEvent] = []

    # --- driving ------------------------------------------------------------------------------

    def start(self, now: float) -> None:
        if self._invite is not None:
            raise LocalProtocolError("the call has started")
        self._send_invite(now, None)

    def take_outgoing(self) -> list[bytes]:
        out, self._outgoing = self._outgoing, []
        return out

    def receive(self, message: Request | Response, now: float) -> list[CallEvent]:
        if isinstance(message, Response):
            self._receive_response(message, now)
        else:
            self._receive_request(message, now)
        return self._take_events()

    def hangup(self, now: float) -> list[CallEvent]:
        """End the call from our side: CANCEL before an answer, BYE after it."""
        if self.state in (CallState.CALLING, CallState.RINGING):
            self._cancel(now)
        elif self.state is CallState.ANSWERED:
            self._move(Signal.HANG_UP)
            self._send_bye(now, None)
        return self._take_events()

    def next_deadline(self) -> float | None:
        deadlines = [tx.next_deadline() for tx in self._transactions.values()]
        if self.state in (CallState.CALLING, CallState.RINGING):
            deadlines.append(self._ring_deadline)
        deadlines.append(self._cancel_deadline)
        deadlines += [answer.expires for answer in self._served.values()]
        present = [deadline for deadline in deadlines if deadline is not None]
        return min(present) if present else None

    def poll(self, now: float) -> list[CallEvent]:
        if self.state in (CallState.CALLING, CallState.RINGING) and now >= self._ring_deadline:
            self._cancel(now)
        if (
            self.state is CallState.CANCELLING
            and self._cancel_deadline is not None
            and self._provisional_seen
            and now >= self._cancel_deadline
        ):
            # §9.1: no final response 64·T1 after the CANCEL; the call is over for us.
            self._finish(Outcome.NO_ANSWER, None, "no final response after CANCEL", now)
        for key, tx in list(self._transactions.items()):
            self._handle(tx, tx.poll(now), now)
            if tx.terminated:
                self._transactions.pop(key, None)
        for key, answer in list(self._served.items()):
            if now >= answer.expires:
                del self._served[key]
        return self._take_events()

    @property
    def duration(self) -> float:
        """Seconds from the answer to the end (0 for a call never answered)."""
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return self.ended_at - self.answered_at

    # --- internals ----------------------------------------------------------------------------

    def _take_events(self) -> list[CallEvent]:
        events, self._events = self._events, []
        return events

    def _move(self, signal: Signal) -> None:
        next_state = TRANSITIONS.get((self.state, signal))
        if next_state is None:
            raise LocalProtocolError(f"{signal.value} is not possible in {self.state.value}")
        self.state = next_state

    def _finish(self, outcome: Outcome, status: int | None, reason: str, now: float) -> None:
        if self.ended is not None:
            return
        self.state = CallState.ENDED
        self.ended_at = now
        self.ended = Ended(outcome, status, reason, self._bye_by_remote)
        self._events.append(self.ended)
        self._cancel_deadline = None

    def _start_transaction(self, request: Request, now: float) -> ClientTransaction:
        tx = ClientTransaction(
            request, reliable=self.config.reliable, now=now, timers=self.config.timers
        )
        self._transactions[(tx.branch, request.method)] = tx
        self._handle(tx, tx.start(), now)
        return tx

    def _handle(self, tx: ClientTransaction, events: list[TransactionEvent], now: float) -> None:
        for event in events:
            if isinstance(event, Transmit):
                self._outgoing.append(event.data)
            elif isinstance(event, Received):
                self._on_response(tx, event.response, now)
            elif isinstance(event, TimedOut):
                self._on_timeout(tx, now)

    def _via(self, branch: str) -> str:
        config = self.config
        return (
            f"SIP/2.0/{config.transport.upper()} {config.local_host}:{config.local_port}"
            f";branch={branch};rport"
        )

    def _from(self) -> str:
        return str(
            NameAddr(self.config.from_uri, self.config.from_display, {"tag": self.local_tag})
        )

    def _contact(self) -> str:
        config = self.config
        user = config.from_uri.partition(":")[2].partition("@")[0]
        at = f"{user}@" if user else ""
        transport = "" if config.transport.upper() == "UDP" else ";transport=tcp"
        return f"<sip:{at}{config.local_host}:{config.local_port}{transport}>"

    def _send_invite(self, now: float, credentials: tuple[str, str] | None) -> None:
        self._cseq += 1
        branch = BRANCH_COOKIE + self._new_id()
        headers = [
            ("Via", self._via(branch)),
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", f"<{self.config.target}>"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self._cseq} INVITE"),
            ("Contact", self._contact()),
            ("Allow", ALLOW),
            ("User-Agent", self.config.user_agent),
            ("Content-Type", "application/sdp"),
        ]
        if credentials is not None:
            headers.append(credentials)
        self._invite_authorization = credentials
        request = Request("INVITE", self.config.target, Headers.of(headers), self.offer)
        self._invite = self._start_transaction(request, now)

    def _cancel(self, now: float) -> None:
        self._move(Signal.CANCEL)
        self._cancel_deadline = now + self.config.timers.timeout
        # §9.1: a CANCEL may only follow a provisional response; until one comes it waits.
        if self._provisional_seen:
            self._send_cancel(now)

    def _send_cancel(self, now: float) -> None:
        if self._cancel_sent or self._invite is None:
            return
        self._cancel_sent = True
        invite = self._invite.request
        headers = [("Via", invite.headers.get_all("Via")[0])]
        headers += [("Route", route) for route in invite.headers.get_all("Route")]
        headers += [
            ("Max-Forwards", "70"),
            ("From", invite.headers.get("From") or ""),
            ("To", invite.headers.get("To") or ""),
            ("Call-ID", self.call_id),
            ("CSeq", f"{invite.cseq.number} CANCEL"),
            ("User-Agent", self.config.user_agent),
        ]
        self._start_transaction(Request("CANCEL", invite.uri, Headers.of(headers)), now)

    def _in_dialog_headers(self, method: str, cseq: int, branch: str) -> list[tuple[str, str]]:
        dialog = self._dialog
        assert dialog is not None
        headers = [("Via", self._via(branch))]
        headers += [("Route", route) for route in dialog.route_set]
        headers += [
            ("Max-Forwards", "70"),
            ("From", self._from()),
            ("To", dialog.to_header),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            ("User-Agent", self.config.user_agent),
        ]
        return headers

    def _send_ack(self, invite_cseq: int) -> None:
        dialog = self._dialog
        assert dialog is not None
        headers = self._in_dialog_headers("ACK", invite_cseq, BRANCH_COOKIE + self._new_id())
        # §22.1: the ACK for a 2xx carries the INVITE's credentials.
        if self._invite_authorization is not None:
            headers.append(self._invite_authorization)
        ack = Request("ACK", dialog.remote_target, Headers.of(headers)).encode()
        self._ack = ack
        self._outgoing.append(ack)

    def _send_bye(self, now: float, credentials: tuple[str, str] | None) -> None:
        dialog = self._dialog
        assert dialog is not None
        self._cseq += 1
        headers = self._in_dialog_headers("BYE", self._cseq, BRANCH_COOKIE + self._new_id())
        if credentials is not None:
            headers.append(credentials)
        self._start_transaction(Request("BYE", dialog.remote_target, Headers.of(headers)), now)

    def _receive_response(self, response: Response, now: float) -> None:
        try:
            method = response.cseq.method
            branch = response.branch or ""
        except RemoteProtocolError:
            return
        tx = self._transactions.get((branch, method))
        if tx is not None:
            self._handle(tx, tx.receive(response, now), now)
            if tx.terminated:
                self._transactions.pop((branch, method), None)
            return
        # The INVITE transaction ends at its first 2xx; a retransmitted 2xx (the far end did
        # not get our ACK) is the dialog's to acknowledge again (§13.2.2.4).
        if (
            method == "INVITE"
            and 200 <= response.status < 300
            and self._ack is not None
            and self._invite is not None
            and response.cseq.number == self._invite.request.cseq.number
        ):
            self._outgoing.append(self._ack)

    def _on_response(self, tx: ClientTransaction, response: Response, now: float) -> None:
        method = tx.request.method
        status = response.status
        if method == "INVITE" and tx is self._invite:
            self._on_invite_response(response, now)
        elif method == "BYE" and status >= 200:
            if status in (401, 407) and self._challenges < 2:
                credentials = self._answer_challenge(response, "BYE", tx.request.uri)
                if credentials is not None:
                    self._send_bye(now, credentials)
                    return
            self._move(Signal.BYE_DONE)
            self._finish(self._outcome_after_bye, None, self._reason_after_bye, now)
        # Responses to CANCEL tell nothing: the INVITE's 487 (or 2xx) does.

    def _on_invite_response(self, response: Response, now: float) -> None:
        status = response.status
        if status < 200:
            if not self._provisional_seen:
                self._events.append(Proceeding(status))
            self._provisional_seen = True
            if self.state is CallState.CANCELLING:
                self._send_cancel(now)
            elif status > 100:
                self._move(Signal.RINGING)
                self._events.append(Ringing(status))
            return
        if status < 300:
            self._establish(response)
            self._send_ack(response.cseq.number)
            if self.state is CallState.CANCELLING:
                self._move(Signal.ANSWER)
                self._outcome_after_bye = Outcome.NO_ANSWER
                self._send_bye(now, None)
                return
            try:
                media = sdp.parse_answer(response.body)
            except RemoteProtocolError as error:
                self._move(Signal.ANSWER)
                self._move(Signal.HANG_UP)
                self._outcome_after_bye = Outcome.FAILED
                self._send_bye(now, None)
                self._reason_after_bye = f"unusable SDP answer: {error.message}"
                return
            self._move(Signal.ANSWER)
            self.answered_at = now
            self.media = media
            self._events.append(Answered(media))
            return
        if status in (401, 407) and self.state is not CallState.CANCELLING:
            credentials = self._answer_challenge(response, "INVITE", self.config.target)
            if credentials is not None:
                self._move(Signal.CHALLENGE)
                self._send_invite(now, credentials)
                return
        self._move(Signal.FINAL)
        self._finish(outcome_of_final(status), status, response.reason, now)

    def _answer_challenge(
        self, response: Response, method: str, uri: str
    ) -> tuple[str, str] | None:
        """The header answering a 401/407, or None when we cannot (or tried already)."""
        credentials = self.config.credentials
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        value = response.headers.get(header)
        if credentials is None or value is None:
            return None
        try:
            challenge = Challenge.parse(value)
        except RemoteProtocolError:
            return None
        # A second challenge means the credentials were refused, unless the nonce was stale.
        if self._challenges >= 1 and not challenge.stale:
            return None
        self._challenges += 1
        answer = authorization(
            challenge,
            username=credentials.username,
            password=credentials.password,
            method=method,
            uri=uri,
            cnonce=self._new_id(),
        )
        name = "Authorization" if response.status == 401 else "Proxy-Authorization"
        return name, answer

    def _establish(self, response: Response) -> None:
        if self._dialog is not None:
            return
        to_header = response.headers.get("To") or ""
        remote = NameAddr.parse(to_header)
        contact = response.headers.get("Contact")
        remote_target = NameAddr.parse(contact).uri if contact else self.config.target
        # §12.1.2: the route set is the Record-Route list, reversed.
        route_set = tuple(reversed(response.headers.get_all("Record-Route")))
        self._dialog = _Dialog(remote.tag or "", remote_target, route_set, to_header)

    def _on_timeout(self, tx: ClientTransaction, now: float) -> None:
        method = tx.request.method
        if method == "INVITE" and tx is self._invite:
            if self._provisional_seen:
                self._finish(Outcome.NO_ANSWER, None, "no final response after CANCEL", now)
            else:
                # Nothing at all from the trunk, ring timeout or not: that is no answer
                # from the network, not from the person called.
                self._finish(Outcome.FAILED, 408, "no response from the trunk", now)
        elif method == "BYE":
            # §15.1.1: a BYE without an answer still ends the session for us.
            self._finish(self._outcome_after_bye, None, "BYE unanswered", now)

    def _receive_request(self, request: Request, now: float) -> None:
        try:
            branch = request.headers.get_all("Via")[0]
        except IndexError:
            return
        key = (branch, request.method)
        if key in self._served:
            self._outgoing.append(self._served[key].data)
            return
        if request.method == "ACK":
            return
        response = self._answer_request(request, now)
        data = response.encode()
        self._served[key] = _ServerAnswer(data, now + _SERVER_LINGER)
        self._outgoing.append(data)

    def _answer_request(self, request: Request, now: float) -> Response:
        dialog = self._dialog
        method = request.method
        in_dialog = False
        if dialog is not None:
            try:
                from_tag = NameAddr.parse(request.headers.get("From") or "").tag
                to_tag = NameAddr.parse(request.headers.get("To") or "").tag
            except RemoteProtocolError:
                return response_to(request, 400)
            in_dialog = from_tag == dialog.remote_tag and to_tag == self.local_tag
        if method == "BYE":
            if not in_dialog or self.state not in (CallState.ANSWERED, CallState.ENDING):
                return response_to(request, 481)
            self._bye_by_remote = self.state is CallState.ANSWERED
            outcome = self._outcome_after_bye
            self._move(Signal.REMOTE_BYE)
            self._finish(
                outcome, None, "hung up by the far end" if self._bye_by_remote else "hung up", now
            )
            return response_to(request, 200)
        if method == "OPTIONS":
            return response_to(request, 200, headers=[("Allow", ALLOW)])
        if method == "INFO":
            if not in_dialog:
                return response_to(request, 481)
            digit = _dtmf_relay_digit(request)
            if digit is not None:
                self._events.append(InfoDigit(digit))
            return response_to(request, 200)
        if method == "INVITE":
            # A re-INVITE (hold, codec change): the one stream we have stays as it is.
            return response_to(request, 488 if in_dialog else 481)
        if method == "CANCEL":
            return response_to(request, 481)
        return response_to(
            request, 405 if method in _KNOWN_METHODS else 501, headers=[("Allow", ALLOW)]
        )


_KNOWN_METHODS = frozenset(
    {"REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "REFER", "UPDATE", "PRACK", "PUBLISH"}
)
_DTMF_DIGITS = frozenset("0123456789*#ABCD")


def _dtmf_relay_digit(request: Request) -> str | None:
    content_type = (request.headers.get("Content-Type") or "").lower()
    if not content_type.startswith("application/dtmf-relay") and not content_type.startswith(
        "application/dtmf"
    ):
        return None
    try:
        text = request.body.decode("ascii")
    except UnicodeDecodeError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition("=")
        value = value.strip().upper()
        if name.strip().lower() == "signal" and value in _DTMF_DIGITS:
            return value
    stripped = text.strip().upper()
    return stripped if stripped in _DTMF_DIGITS else None
