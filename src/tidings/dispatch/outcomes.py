"""What the SMSC told us, as values the status writer records, and the one table that maps a
delivery receipt's state to a message status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from tidings.core.lifecycle import MessageStatus
from tidings.smpp.receipts import ReceiptState
from tidings.store.dispatch import ClaimedMessage

# SMPP 3.4 Appendix B / §5.2.28 message states → our lifecycle. ENROUTE and ACCEPTD are not
# final: the message stays ``sent`` and the receipt is only noted in its history. DELETED (the
# SMSC dropped it) and UNKNOWN (the SMSC cannot say) are failures to deliver, stated as such.
RECEIPT_STATUS: Mapping[ReceiptState, MessageStatus | None] = MappingProxyType(
    {
        ReceiptState.DELIVRD: MessageStatus.DELIVERED,
        ReceiptState.UNDELIV: MessageStatus.UNDELIVERED,
        ReceiptState.EXPIRED: MessageStatus.EXPIRED,
        ReceiptState.REJECTD: MessageStatus.REJECTED,
        ReceiptState.DELETED: MessageStatus.FAILED,
        ReceiptState.UNKNOWN: MessageStatus.UNDELIVERED,
        ReceiptState.ENROUTE: None,
        ReceiptState.ACCEPTD: None,
    }
)


@dataclass(slots=True)
class SubmitOutcome:
    """The result of one claim of one message: which parts the SMSC accepted, and what now."""

    message: ClaimedMessage
    status: MessageStatus  # SENT, QUEUED (retry later), REJECTED or FAILED
    at: datetime
    sent: list[tuple[int, str]] = field(default_factory=list)  # (part seq, SMSC message id)
    error_code: str | None = None
    detail: str | None = None
    retry_at: datetime | None = None


@dataclass(slots=True)
class ReceiptOutcome:
    smsc_message_id: str
    state: ReceiptState
    error_code: int | None
    at: datetime
    first_seen: float = 0.0  # loop time; unmatched receipts are retried for a while
    parked_id: str | None = None  # its parked_receipts row, while it waits for its part


@dataclass(slots=True)
class InboundOutcome:
    account_id: str
    sender: str
    recipient: str
    body: str
    encoding: str
    parts_count: int
    at: datetime
    detail: str | None = None
    route_id: int | None = None  # the route it arrived on; replies go back the same way


class StatusChange(NamedTuple):
    """One message changed status; what callbacks (dlr_url, webhooks) need to say so.

    A named tuple rather than a frozen dataclass: two are built for most messages sent."""

    account_id: str
    message_id: str
    recipient: str
    dlr_url: str | None
    status: MessageStatus
    error_code: str | None
    at: datetime
