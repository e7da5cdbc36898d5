"""The SMPP 3.4 session state machine, sans-IO (SMPP 3.4 §2.2-2.3, §2.8-2.9).

Bytes in, PDUs out; PDUs in, bytes out. The session knows nothing of sockets or clocks: the I/O
layer passes ``now`` in, asks :meth:`Session.next_deadline` when to wake up, and calls
:meth:`Session.poll_timers` then. Which requests each side may send in each state is a table
(``MAY_SEND``), not a chain of ``if`` statements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from tidings.smpp.codec import ENCODERS, FrameReader, encode
from tidings.smpp.constants import (
    MAX_COMMAND_LENGTH,
    MAX_SEQUENCE_NUMBER,
    RESPONSE_BIT,
    CommandId,
    CommandStatus,
)
from tidings.smpp.errors import LocalProtocolError, RemoteProtocolError
from tidings.smpp.pdu import RESPONSE_CLASSES, GenericNack, Pdu, is_response


class Role(Enum):
    ESME = "esme"
    SMSC = "smsc"


class State(Enum):
    OPEN = "open"
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBOUND = "unbound"
    CLOSED = "closed"


_C = CommandId
_SUBMITS = frozenset(
    {_C.SUBMIT_SM, _C.SUBMIT_MULTI, _C.DATA_SM, _C.QUERY_SM, _C.CANCEL_SM, _C.REPLACE_SM}
)
_DELIVERIES = frozenset({_C.DELIVER_SM, _C.DATA_SM, _C.ALERT_NOTIFICATION})
_LINK = frozenset({_C.ENQUIRE_LINK, _C.UNBIND})
_BINDS = frozenset({_C.BIND_TRANSMITTER, _C.BIND_RECEIVER, _C.BIND_TRANSCEIVER})
_NOTHING: frozenset[int] = frozenset()

# The requests each role may send in each state (SMPP 3.4 §2.3 and the "bound state" column of
# each operation in §4). Responses are governed by the requests they answer.
MAY_SEND: Mapping[Role, Mapping[State, frozenset[int]]] = MappingProxyType(
    {
        Role.ESME: MappingProxyType(
            {
                State.OPEN: _BINDS | {_C.ENQUIRE_LINK},
                State.BOUND_TX: _SUBMITS | _LINK,
                State.BOUND_RX: _LINK,
                State.BOUND_TRX: _SUBMITS | _LINK,
                State.UNBOUND: _NOTHING,
                State.CLOSED: _NOTHING,
            }
        ),
        Role.SMSC: MappingProxyType(
            {
                State.OPEN: frozenset({_C.OUTBIND, _C.ENQUIRE_LINK}),
                State.BOUND_TX: _LINK,
                State.BOUND_RX: _DELIVERIES | _LINK,
                State.BOUND_TRX: _DELIVERIES | _LINK,
                State.UNBOUND: _NOTHING,
                State.CLOSED: _NOTHING,
            }
        ),
    }
)

# A successful bind response moves the session to its bound state.
BOUND_BY: Mapping[int, State] = MappingProxyType(
    {
        _C.BIND_TRANSMITTER_RESP: State.BOUND_TX,
        _C.BIND_RECEIVER_RESP: State.BOUND_RX,
        _C.BIND_TRANSCEIVER_RESP: State.BOUND_TRX,
    }
)

_PEER = {Role.ESME: Role.SMSC, Role.SMSC: Role.ESME}
# The per-PDU paths below compare with these plain ints: reading an enum member off its class
# costs more than the rest of such a comparison.
_ENQUIRE_LINK = int(_C.ENQUIRE_LINK)
_UNBIND = int(_C.UNBIND)
_UNBIND_RESP = int(_C.UNBIND_RESP)
_ROK = int(CommandStatus.ESME_ROK)
_BIND_RESPONSES = frozenset(BOUND_BY)
# Requests that do not count against the window: keeping the link alive and closing it must work
# even when the window is full of submits.
_OUTSIDE_WINDOW = _BINDS | _LINK | {_C.OUTBIND}


@dataclass(frozen=True, slots=True)
class EnquireLinkDue:
    """Nothing has been heard from the peer for the enquire_link interval: send one."""


@dataclass(frozen=True, slots=True)
class ResponseTimedOut:
    """A request got no response within the response timeout."""

    sequence_number: int
    command_id: int


@dataclass(frozen=True, slots=True)
class InactivityTimedOut:
    """Nothing at all has been received for the inactivity timeout: close the connection."""


@dataclass(frozen=True, slots=True)
class BindTimedOut:
    """The connection is still unbound when the bind timeout runs out: close it (SMPP 3.4
    §2.2 leaves an open, unbound connection to the SMSC's discretion)."""


TimerEvent = EnquireLinkDue | ResponseTimedOut | InactivityTimedOut | BindTimedOut


class Session:
    """One side of one SMPP connection."""

    def __init__(
        self,
        role: Role,
        *,
        window: int = 10,
        enquire_link_interval: float | None = 30.0,
        response_timeout: float = 10.0,
        inactivity_timeout: float | None = None,
        bind_timeout: float | None = None,
        max_command_length: int = MAX_COMMAND_LENGTH,
        now: float = 0.0,
    ) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.role = role
        self._may_send = MAY_SEND[role]
        self._may_receive = MAY_SEND[_PEER[role]]
        self.state = State.OPEN
        self.window = window
        self.enquire_link_interval = enquire_link_interval
        self.response_timeout = response_timeout
        self.inactivity_timeout = inactivity_timeout
        self._reader = FrameReader(max_command_length)
        self._sequence = 0
        # sequence number → (command_id, response deadline), in the order the requests went out
        self._outstanding: dict[int, tuple[int, float]] = {}
        self._in_window = 0
        self._last_received = now
        self._enquire_due = None if enquire_link_interval is None else now + enquire_link_interval
        # Until the first bind: a deadline only while the session is open and unbound.
        self._bind_due = None if bind_timeout is None else now + bind_timeout

    # --- state ------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @state.setter
    def state(self, state: State) -> None:
        # What may be sent and received is looked up on every PDU; resolve it once per state.
        self._state = state
        self._sendable = sendable = self._may_send[state]
        self._receivable = self._may_receive[state]
        self._closed = state is State.CLOSED
        self._is_bound = state in (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX)
        self._can_submit = _C.SUBMIT_SM in sendable
        self._can_deliver = _C.DELIVER_SM in sendable

    @property
    def is_bound(self) -> bool:
        return self._is_bound

    @property
    def can_submit(self) -> bool:
        return self._can_submit

    @property
    def can_deliver(self) -> bool:
        return self._can_deliver

    @property
    def window_free(self) -> int:
        return self.window - self._in_window

    @property
    def outstanding(self) -> Mapping[int, int]:
        """Sequence number → command_id of every request still waiting for its response."""
        return {seq: item[0] for seq, item in self._outstanding.items()}

    def next_sequence_number(self) -> int:
        # SMPP 3.4 §3.2: 0x00000001 to 0x7FFFFFFF, wrapping.
        self._sequence = self._sequence % MAX_SEQUENCE_NUMBER + 1
        return self._sequence

    # --- outgoing -----------------------------------------------------------------------------

    def send(self, pdu: Pdu, now: float) -> bytes:
        """Check ``pdu`` against the state, number it if it is a request, and serialise it."""
        command_id = pdu.COMMAND_ID
        if self._closed:
            raise LocalProtocolError("the session is closed")
        if command_id & RESPONSE_BIT:
            if command_id in _BIND_RESPONSES:
                if self.role is not Role.SMSC or self.state is not State.OPEN:
                    raise LocalProtocolError(f"cannot send {type(pdu).__name__} in {self.state}")
                data = encode(pdu)
                if pdu.command_status == _ROK:
                    self.state = BOUND_BY[command_id]
                return data
            data = ENCODERS[command_id](pdu)
            if command_id == _UNBIND_RESP:
                self.state = State.UNBOUND
            return data
        if command_id not in self._sendable:
            raise LocalProtocolError(
                f"{self.role.value} may not send {type(pdu).__name__} in state {self.state.value}",
                command_status=CommandStatus.ESME_RINVBNDSTS,
            )
        counts = command_id not in _OUTSIDE_WINDOW
        if counts and self._in_window >= self.window:
            raise LocalProtocolError("the window is full; wait for a response")
        if pdu.sequence_number == 0:
            # SMPP 3.4 §3.2: 0x00000001 to 0x7FFFFFFF, wrapping (next_sequence_number, inline).
            self._sequence = pdu.sequence_number = self._sequence % MAX_SEQUENCE_NUMBER + 1
        data = ENCODERS[command_id](pdu)
        self._outstanding[pdu.sequence_number] = (command_id, now + self.response_timeout)
        if counts:
            self._in_window += 1
        if command_id == _ENQUIRE_LINK and self.enquire_link_interval is not None:
            self._enquire_due = now + self.enquire_link_interval
        elif command_id == _UNBIND:
            self.state = State.UNBOUND
        return data

    # --- incoming -----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        self._reader.feed(data)

    def next_event(self, now: float) -> Pdu | None:
        """The next PDU from the peer, or None when more bytes are needed.

        Raises :class:`RemoteProtocolError`; when it is not ``fatal`` the stream is still in
        sync, and :meth:`error_response` gives the PDU to answer with.
        """
        if self._closed:
            return None
        pdu = self._reader.next_pdu()
        if pdu is None:
            return None
        self._last_received = now
        if self.enquire_link_interval is not None:
            self._enquire_due = now + self.enquire_link_interval
        command_id = pdu.COMMAND_ID
        if command_id & RESPONSE_BIT:
            item = self._outstanding.pop(pdu.sequence_number, None)
            if item is not None and item[0] not in _OUTSIDE_WINDOW:
                self._in_window -= 1
            if command_id in _BIND_RESPONSES:
                if (
                    pdu.command_status == _ROK
                    and self.role is Role.ESME
                    and self.state is State.OPEN
                ):
                    self.state = BOUND_BY[command_id]
            elif command_id == _UNBIND_RESP:
                self.state = State.UNBOUND
            return pdu
        if command_id not in self._receivable:
            raise RemoteProtocolError(
                f"{type(pdu).__name__} is not allowed in state {self.state.value}",
                command_status=(
                    CommandStatus.ESME_RALYBND
                    if command_id in _BINDS and self.is_bound
                    else CommandStatus.ESME_RINVBNDSTS
                ),
                command_id=command_id,
                sequence_number=pdu.sequence_number,
            )
        if command_id == _UNBIND:
            self.state = State.UNBOUND
        return pdu

    def error_response(self, error: RemoteProtocolError) -> Pdu | None:
        """The PDU that answers a request we could not accept (None for a bad response)."""
        if error.command_id is not None and is_response(error.command_id):
            return None
        sequence = error.sequence_number or 0
        cls = RESPONSE_CLASSES.get(error.command_id or 0)
        # SMPP 3.4 §3.3: an undecodable or unknown command gets generic_nack; a well-framed
        # request with a bad field gets its own response carrying the error.
        if cls is None or error.command_status in (
            CommandStatus.ESME_RINVCMDLEN,
            CommandStatus.ESME_RINVCMDID,
        ):
            cls = GenericNack
        return cls(sequence_number=sequence, command_status=error.command_status)

    # --- timers -------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        deadlines: list[float] = []
        if self._enquire_due is not None and self.is_bound:
            deadlines.append(self._enquire_due)
        if self._outstanding:
            # Requests are inserted in time order with one timeout, so the first is the earliest.
            deadlines.append(next(iter(self._outstanding.values()))[1])
        if self.inactivity_timeout is not None:
            deadlines.append(self._last_received + self.inactivity_timeout)
        if self._bind_due is not None and self.state is State.OPEN:
            deadlines.append(self._bind_due)
        return min(deadlines) if deadlines else None

    def poll_timers(self, now: float) -> list[TimerEvent]:
        events: list[TimerEvent] = []
        if self.state is State.CLOSED:
            return events
        if self.inactivity_timeout is not None and now >= (
            self._last_received + self.inactivity_timeout
        ):
            events.append(InactivityTimedOut())
        if self._bind_due is not None and self.state is State.OPEN and now >= self._bind_due:
            events.append(BindTimedOut())
        for seq, (command_id, deadline) in list(self._outstanding.items()):
            if deadline > now:
                break
            del self._outstanding[seq]
            if command_id not in _OUTSIDE_WINDOW:
                self._in_window -= 1
            events.append(ResponseTimedOut(seq, command_id))
        if self.is_bound and self._enquire_due is not None and now >= self._enquire_due:
            if self.enquire_link_interval is not None:
                self._enquire_due = now + self.enquire_link_interval
            events.append(EnquireLinkDue())
        return events

    def connection_lost(self) -> dict[int, int]:
        """Close the session; returns the requests that never got a response."""
        self.state = State.CLOSED
        lost = {seq: item[0] for seq, item in self._outstanding.items()}
        self._outstanding.clear()
        self._in_window = 0
        return lost
