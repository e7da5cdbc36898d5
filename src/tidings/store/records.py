"""Plain, typed records that store functions return (one per table, fields = columns)."""

from __future__ import annotations

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
class RouteRecord(_Record):
    id: int
    name: str
    host: str
    port: int
    system_id: str
    password: str
    system_type: str
    bind_mode: str
    binds: int
    window: int
    max_tps: int | None
    source_ton: int | None
    source_npi: int | None
    destination_ton: int
    destination_npi: int
    concat_method: str
    default_encoding: str
    request_receipts: bool
    is_default: bool
    created_at: datetime
    updated_at: datetime


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
