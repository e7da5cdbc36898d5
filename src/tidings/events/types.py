"""What an event is, independent of where it goes (outbox rows) and how it is written (formats)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in an account, for the webhooks subscribed to its type."""

    account_id: str
    type: str
    data: Mapping[str, Any]
    occurred_at: datetime
    id: str | None = field(default=None)


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: ``2026-11-24T09:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
