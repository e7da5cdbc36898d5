"""What the far end told us, as values the status writer records: the outcome of a hand-over,
a report on something handed over earlier, a message that arrived."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from tidings.core.channels import Channel
from tidings.core.content import ChannelContent
from tidings.lifecycle import MessageStatus
from tidings.store.dispatch import ClaimedMessage


@dataclass(slots=True)
class SubmitOutcome:
    """The result of one claim of one message: which parts the carrier accepted, and what now."""

    message: ClaimedMessage
    status: MessageStatus  # SENT, QUEUED (retry later), REJECTED or FAILED
    at: datetime
    # (part seq, the carrier's reference for it: SMPP message_id, MM7 MessageID, SIP Call-ID...)
    sent: list[tuple[int, str]] = field(default_factory=list)
    error_code: str | None = None
    detail: str | None = None
    retry_at: datetime | None = None


@dataclass(slots=True)
class Report:
    """The far end's word on a part it accepted, found by the reference it gave for it.

    A transport's reference must tell its parts apart from every other transport's: one whose
    carrier numbers what it is given from 1 (an IPP job id) qualifies it (``"<route id>:<n>"``).
    """

    reference: str
    status: MessageStatus | None  # the status it means; None: progress, noted in the history
    state: str  # the far end's word for it (DELIVRD, Retrieved, 250...), kept in the history
    error_code: str | None
    at: datetime
    first_seen: float = 0.0  # loop time; unmatched reports are retried for a while
    parked_id: str | None = None  # its parked_receipts row, while it waits for its part
    # The history entry, when it is not the far end's word (no receipt in time, say).
    detail: str | None = None
    # What the far end told besides the status (a call's key press, duration...): written to
    # messages.result with the status, and carried in the message.status event.
    result: ChannelContent | None = None


@dataclass(slots=True)
class Inbound:
    """A message that arrived on a route, before its owner (the account with the number it
    was sent to) is known."""

    route_id: int
    sender: str  # the handset, E.164 where the far end gave a number
    recipient: str  # our address it was sent to
    body: str
    encoding: str  # gsm7, ucs2 or binary for SMS; utf8 for channels of Unicode text
    at: datetime
    parts_count: int = 1
    detail: str | None = None
    channel: Channel = Channel.SMS
    subject: str | None = None
    content: ChannelContent | None = None  # media as MediaRefs (core.content.Attachments)...
    # The carrier's id of the message when it may send it again (``whatsapp:<wamid>``): stored
    # once per account, even across restarts.
    reference: str | None = None


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
    channel: Channel = Channel.SMS
    subject: str | None = None
    content: ChannelContent | None = None
    reference: str | None = None  # Inbound.reference


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
    result: ChannelContent | None = None
