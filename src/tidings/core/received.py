"""An inbound (mobile-originated) message once stored, as everything it causes sees it: the
status writer makes it, and ``inbound``, ``automation`` and ``conversations`` act on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tidings.core.channels import Channel
from tidings.core.content import ChannelContent


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One stored inbound message, as the inbound hooks see it."""

    id: str
    account_id: str
    sender: str  # the handset, E.164 where the SMSC gave a number
    recipient: str  # our number it was sent to
    body: str
    encoding: str
    parts: int
    at: datetime
    route_id: int | None = None  # the route it arrived on
    thread_id: str | None = None  # set once filed into its conversation
    contact_id: str | None = None  # the account's contact with the sender's number
    channel: Channel = Channel.SMS
    subject: str | None = None
    content: ChannelContent | None = None  # attachments as media refs (content.Attachments)
