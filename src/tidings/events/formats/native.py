"""The native webhook body: Standard Webhooks' payload shape."""

from __future__ import annotations

import json

from tidings.events.types import Event, iso_timestamp


def render(event: Event) -> str:
    return json.dumps(
        {
            "type": event.type,
            "timestamp": iso_timestamp(event.occurred_at),
            "data": dict(event.data),
        },
        separators=(",", ":"),
        default=str,
    )
