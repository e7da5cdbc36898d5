"""The SMS that goes instead of a message its channel could not carry (an MMS the handset
cannot take, a WhatsApp message to a number without WhatsApp): queued by a status hook in the
transaction that records the failure, from the same sender on its SMS route, with the
original's id in its first history entry."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.channels import Channel
from tidings.core.messaging import SendRequest, prepare_send
from tidings.core.routing import route_for_sender
from tidings.errors import TidingsError
from tidings.store import messages as message_store
from tidings.store.messages import EventRow, OutboundMessageRow
from tidings.store.records import AccountRecord, MessageRecord

log = structlog.get_logger("tidings.core.fallback")

# How a history entry names the channel of the message the SMS replaces.
CHANNEL_NAMES = {Channel.MMS: "MMS", Channel.WHATSAPP: "WhatsApp"}


class SmsInstead:
    """The rows of the SMS that replace messages of one batch, inserted together."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.message_rows: list[OutboundMessageRow] = []
        self.event_rows: list[EventRow] = []

    async def add(
        self,
        connection: AsyncConnection,
        account: AccountRecord,
        original: MessageRecord,
        body: str,
        reason: str,
    ) -> None:
        """An SMS of ``body`` to the original's recipient, from its sender; ``reason`` says in
        its history why it went instead of ``original``."""
        try:
            prepared = prepare_send(
                account,
                SendRequest(to=[original.recipient], sender=original.sender, body=body),
                now=self.now,
            )
            route_id = await route_for_sender(connection, account, original.sender, Channel.SMS)
        except TidingsError as error:
            log.warning("SMS fallback cannot be sent", message=original.id, error=error.message)
            return
        for row in prepared.message_rows:
            row["route_id"] = route_id
        for event_row in prepared.event_rows:
            event_row["detail"] = (
                f"accepted; SMS instead of {original.channel} {original.id}: {reason}"
            )
        self.message_rows.extend(prepared.message_rows)
        self.event_rows.extend(prepared.event_rows)

    async def insert(self, connection: AsyncConnection) -> None:
        if self.message_rows:
            await message_store.insert_messages(connection, self.message_rows, self.event_rows)
