"""The message lifecycle: the one table of allowed status changes, and how parts add up.

    accepted → scheduled | queued → submitting → sent → delivered | undelivered | expired
                                                        | rejected | failed
    sent → unknown → delivered | undelivered | expired | rejected | failed
    delivered → read;  sent | unknown → read
    scheduled | queued → cancelled

``read`` is the one step after ``delivered``: the recipient opened the message (a WhatsApp
read status). It implies delivery, so it may also come straight after ``sent`` when the
delivered status was lost or overtaken. ``delivered`` and ``read`` are both final (the outcome
is known; :data:`FINAL_STATUSES`), and a message is counted as delivered in either.

A voice message is a call: ``submitting → calling`` (the trunk took the INVITE) ``→ ringing →
answered → delivered`` (the message played, or a key was pressed), or ``undelivered`` (hung up
before the message ended), ``busy``, ``no_answer``, ``rejected`` (declined) or ``failed``; or
``unknown`` when the process that placed the call ended during it (a call lives in its memory).
A fax is ``sent`` once its gateway took it, then ``delivered``, ``busy``, ``no_answer`` or
``failed`` as the gateway's report says.

``sent`` means the SMSC accepted the submit (SMPP 3.4 §4.4.2 submit_sm_resp with ESME_ROK); the
final states come from its delivery receipt (SMPP 3.4 Appendix B) or, for ``failed``, from a
permanent submit error or from giving up on retries.

``unknown`` is what we can truthfully say when the far end does not tell: no receipt arrived
within the validity period plus a grace (``TIDINGS_RECEIPT_VALIDITY_SECONDS``,
``TIDINGS_RECEIPT_GRACE_SECONDS``), or the receipt said UNKNOWN. It is not final: a receipt
that comes later still corrects it. It is *settled*: nothing more is sent, and a campaign
waits for it no longer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from tidings.errors import TidingsError


class MessageStatus(StrEnum):
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SUBMITTING = "submitting"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    EXPIRED = "expired"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    # Opened by the recipient (after delivered): WhatsApp's read status.
    READ = "read"
    # Voice calls (SIP): progress, then two finals of their own.
    CALLING = "calling"
    RINGING = "ringing"
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"


S = MessageStatus
_LINE_ENDS = frozenset({S.BUSY, S.NO_ANSWER})
_CALL_ENDS = frozenset({*_LINE_ENDS, S.REJECTED, S.FAILED})

TRANSITIONS: Mapping[MessageStatus, frozenset[MessageStatus]] = {
    S.ACCEPTED: frozenset({S.SCHEDULED, S.QUEUED}),
    # A scheduled message becomes queued when due; it may also fail validation late
    # (e.g. its route was removed).
    S.SCHEDULED: frozenset({S.QUEUED, S.CANCELLED, S.FAILED}),
    S.QUEUED: frozenset({S.SUBMITTING, S.CANCELLED, S.FAILED}),
    # A temporary submit error puts the message back in the queue for a retry.
    S.SUBMITTING: frozenset({S.SENT, S.CALLING, S.QUEUED, S.REJECTED, S.FAILED}),
    # A receipt may arrive before the submit response is recorded, so ``sent`` may be skipped
    # at the message level; at the part level ``sent`` (a call's ``calling``) always comes first.
    # A fax gateway reports the line busy or unanswered after it took the fax (T.37 DSN).
    S.SENT: frozenset(
        {
            S.DELIVERED,
            S.READ,
            S.UNDELIVERED,
            S.EXPIRED,
            S.REJECTED,
            S.FAILED,
            S.UNKNOWN,
            *_LINE_ENDS,
        }
    ),
    # No receipt in time, or one that said UNKNOWN: a late receipt still says what happened.
    S.UNKNOWN: frozenset(
        {S.DELIVERED, S.READ, S.UNDELIVERED, S.EXPIRED, S.REJECTED, S.FAILED, *_LINE_ENDS}
    ),
    # Read by the recipient: an afterword to the outcome, not another outcome.
    S.DELIVERED: frozenset({S.READ}),
    S.READ: frozenset(),
    S.UNDELIVERED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REJECTED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    # A trunk may answer an INVITE at once, without ringing first.
    # A call cut off by the end of the process that placed it is ``unknown``.
    S.CALLING: frozenset({S.RINGING, S.ANSWERED, S.UNKNOWN, *_CALL_ENDS}),
    S.RINGING: frozenset({S.ANSWERED, S.UNKNOWN, *_CALL_ENDS}),
    S.ANSWERED: frozenset({S.DELIVERED, S.UNDELIVERED, S.FAILED, S.UNKNOWN}),
    S.BUSY: frozenset(),
    S.NO_ANSWER: frozenset(),
}

# The outcome is known: nothing follows, or only that the recipient read it.
FINAL_STATUSES: frozenset[MessageStatus] = frozenset(
    s for s, nxt in TRANSITIONS.items() if nxt <= {S.READ}
)
# Counted as delivered (a read message was delivered first).
DELIVERED_STATUSES: frozenset[MessageStatus] = frozenset({S.DELIVERED, S.READ})
# Nothing more will be done for these; only a late report may still change ``unknown``.
SETTLED_STATUSES: frozenset[MessageStatus] = FINAL_STATUSES | {S.UNKNOWN}
CANCELLABLE_STATUSES: frozenset[MessageStatus] = frozenset(
    s for s, nxt in TRANSITIONS.items() if S.CANCELLED in nxt
)
# The table read backwards: the statuses a message (or part) may be in to move to each status.
# The store's UPDATEs test the current status against this, so no write can leave the table.
PREDECESSORS: Mapping[MessageStatus, frozenset[MessageStatus]] = {
    status: frozenset(s for s, nxt in TRANSITIONS.items() if status in nxt) for status in S
}
# What a submit outcome may make of a message in one write: a step from ``submitting``, or two
# through ``sent`` when the report of a one-part message came in the same batch as its submit
# outcome (the status writer merges them; the history has both steps).
SUBMIT_RESULTS: frozenset[MessageStatus] = TRANSITIONS[S.SUBMITTING] | TRANSITIONS[S.SENT]

# How far a message has come; the least advanced unfinished part holds the message back.
_PROGRESS: Mapping[MessageStatus, int] = {
    S.ACCEPTED: 0,
    S.SCHEDULED: 1,
    S.QUEUED: 2,
    S.SUBMITTING: 3,
    S.SENT: 4,
    S.UNKNOWN: 5,
    # A call has one part; its progress only has to be ordered among itself.
    S.CALLING: 6,
    S.RINGING: 7,
    S.ANSWERED: 8,
}

# When every part is final but they disagree, the first of these that any part has wins:
# a message is only ``delivered`` when all of its parts are.
_FAILURE_PRECEDENCE: tuple[MessageStatus, ...] = (
    S.FAILED,
    S.REJECTED,
    S.UNDELIVERED,
    S.EXPIRED,
    S.BUSY,
    S.NO_ANSWER,
    S.CANCELLED,
)


class InboundStatus(StrEnum):
    """An inbound (mobile-originated) message is stored once, in its only state."""

    RECEIVED = "received"


class InvalidTransition(TidingsError):
    """That status change is not allowed by the message lifecycle."""


def can_transition(current: MessageStatus, new: MessageStatus) -> bool:
    return new in TRANSITIONS[current]


def require_transition(current: MessageStatus, new: MessageStatus) -> None:
    if not can_transition(current, new):
        raise InvalidTransition(f"a message cannot go from {current} to {new}")


def derive_message_status(part_statuses: Iterable[MessageStatus]) -> MessageStatus:
    """The status of a message from the statuses of its parts.

    - While any part is unfinished, the message is where its least advanced unfinished part is
      (two parts ``sent`` and one ``submitting`` → ``submitting``).
    - When all parts are final: ``delivered`` if all are delivered (``read`` if all are
      read), otherwise the most severe outcome among them (failed > rejected > undelivered >
      expired > cancelled).
    """
    statuses = list(part_statuses)
    if not statuses:
        raise ValueError("a message has at least one part")
    unfinished = [s for s in statuses if s not in FINAL_STATUSES]
    if unfinished:
        return min(unfinished, key=_PROGRESS.__getitem__)
    for status in _FAILURE_PRECEDENCE:
        if status in statuses:
            return status
    return S.READ if all(s is S.READ for s in statuses) else S.DELIVERED
