"""SmartDialog's "New Message" trigger body: what its Power Automate connector declares as
``x-ms-notification-content`` (``{sender, recipient, content, timestamp, protocol,
attachments, messageId}``). Only received messages have that shape; other events render nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tidings.events.types import Event, iso_timestamp

SMARTDIALOG = "smartdialog"


def _attachments(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A received MMS's files as the trigger declares them: name, MIME type and a URL that
    fetches the file (signed, so the flow needs no credentials for it)."""
    content = data.get("content")
    if not isinstance(content, dict):
        return []
    return [
        {
            "name": item.get("name") or item.get("id"),
            "mimeType": item.get("content_type"),
            "resourceLocation": item.get("url"),
        }
        for item in content.get("attachments", ())
        if isinstance(item, dict)
    ]


# The New Message trigger's protocol, by the message's channel.
PROTOCOLS = {"mms": "MMS", "whatsapp": "WhatsApp"}


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
            "protocol": PROTOCOLS.get(str(data.get("channel")), "SMS"),
            "attachments": _attachments(data),
            "messageId": data.get("message_id"),
        },
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
