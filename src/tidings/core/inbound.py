"""What happens when a mobile-originated message has been stored.

The status writer stores inbound messages in batches and hands each batch, inside the same
transaction, to the inbound hooks (``InboundHook`` in ``dispatch/writer.py``). Everything an
inbound message causes (its ``message.received`` event, and the steps that later build on it:
threads, opt-out keywords, keyword actions, inbound rules) is written in that transaction, so it
is committed together with the message, and the SMSC is acknowledged only after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core import automation
from tidings.core.conversations import file_received
from tidings.core.received import ReceivedMessage
from tidings.events.outbox import Event, enqueue_events, iso_timestamp

MESSAGE_RECEIVED = "message.received"


def received_event(message: ReceivedMessage) -> Event:
    return Event(
        account_id=message.account_id,
        type=MESSAGE_RECEIVED,
        data={
            "message_id": message.id,
            "from": message.sender,
            "to": message.recipient,
            "body": message.body,
            "encoding": message.encoding,
            "parts": message.parts,
            "timestamp": iso_timestamp(message.at),
            "thread_id": message.thread_id,
            "contact_id": message.contact_id,
            "channel": message.channel.value,
            **_channel_data(message),
        },
        occurred_at=message.at,
    )


def _channel_data(message: ReceivedMessage) -> dict[str, Any]:
    """What a message of a channel other than SMS carries besides its text."""
    data: dict[str, Any] = {}
    if message.subject is not None:
        data["subject"] = message.subject
    if message.content is not None:
        data["content"] = message.content.model_dump(mode="json", exclude_defaults=True)
    return data


async def process_received(
    connection: AsyncConnection, received: Sequence[ReceivedMessage]
) -> None:
    """The inbound hook the service installs: file each message in its thread (and match its
    contact), write its ``message.received`` event, then run opt-out words, keywords and rules."""
    received = await file_received(connection, received)
    await enqueue_events(connection, [received_event(message) for message in received])
    await automation.process_inbound(connection, received)
