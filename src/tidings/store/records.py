"""Plain, typed records that store functions return (one per table, fields = columns)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

from sqlalchemy.engine import Row


class _Record:
    @classmethod
    def from_row(cls, row: Row[Any]) -> Self:
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AccountRecord(_Record):
    id: str
    parent_id: str | None
    name: str
    region: str
    timezone: str
    status: str
    rate_limit: str | None
    restrict_to_registered_senders: bool
    created_at: datetime
    mms_fallback_sms: bool


@dataclass(frozen=True, slots=True)
class ApiKeyRecord(_Record):
    id: str
    account_id: str
    name: str | None
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None
    role: str


@dataclass(frozen=True, slots=True)
class RouteRecord:
    """A route with the channels it carries (``route_channels``). ``settings`` and ``secrets``
    are the JSON objects its transport's settings model reads; ``secrets`` is never shown."""

    id: int
    name: str
    kind: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, Any]
    channels: frozenset[str]
    default_for: frozenset[str]  # the channels it is the default route of
    created_at: datetime
    updated_at: datetime

    @property
    def is_default(self) -> bool:
        return bool(self.default_for)


@dataclass(frozen=True, slots=True)
class SenderRecord(_Record):
    id: str
    account_id: str
    address: str
    kind: str
    route_id: int | None
    created_at: datetime
    is_default: bool


@dataclass(frozen=True, slots=True)
class MessageRecord(_Record):
    id: str
    account_id: str
    direction: str
    sender: str
    recipient: str
    body: str
    encoding: str
    parts_count: int
    status: str
    status_at: datetime
    send_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    claimed_by: str | None
    claim_expires_at: datetime | None
    route_id: int | None
    customer_data: str | None
    dlr_url: str | None
    request_id: str | None
    error_code: str | None
    error_detail: str | None
    max_parts: int
    ad: bool
    created_at: datetime
    updated_at: datetime
    channel: str
    subject: str | None
    content: str | None  # the JSON of the channel's core.content model
    result: str | None  # the JSON of what the far end told besides the status (a call's key)


@dataclass(frozen=True, slots=True)
class MessagePartRecord(_Record):
    message_id: str
    seq: int
    status: str
    smsc_message_id: str | None
    error_code: str | None
    submitted_at: datetime | None
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class MessageEventRecord(_Record):
    id: int
    message_id: str
    status: str
    at: datetime
    detail: str | None
