"""SmartDialog's "New Message" trigger body: what its Power Automate connector declares as
``x-ms-notification-content`` (``{sender, recipient, content, timestamp, protocol,
attachments, messageId}``). Only received messages have that shape; other events render nothing."""

from __future__ import annotations

import json

from tidings.events.types import Event, iso_timestamp

SMARTDIALOG = "smartdialog"


def render(event: Event) -> str | None:
    if event.type != "message.received":
        return None
    data = event.data
    timestamp = data.get("timestamp")
    return json.dumps(
        {
            "sender": data.get("from"),
            "recipient": data.get("to"),
            "content": data.get("body"),
            "timestamp": timestamp if timestamp is not None else iso_timestamp(event.occurred_at),
            "protocol": "SMS",
            "attachments": [],
            "messageId": data.get("message_id"),
        },
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
