"""The MM7 requests and responses tidings speaks, as plain dataclasses (TS 23.140 §8.7).

Only the fields tidings uses are modelled; an incoming element we do not model is ignored by
the parser (MM7 lets either side add optional elements), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tidings.mm7.status import ChargedParty, MessageClass, MMStatus, Priority, StatusCode

MM7_VERSION = "6.8.0"


class AddressKind(StrEnum):
    """Which element carries an address (schema ``addressType`` choice)."""

    NUMBER = "Number"
    EMAIL = "RFC2822Address"
    SHORT_CODE = "ShortCode"


@dataclass(frozen=True, slots=True)
class Address:
    value: str
    kind: AddressKind = AddressKind.NUMBER

    @classmethod
    def number(cls, value: str) -> Address:
        return cls(value, AddressKind.NUMBER)

    @classmethod
    def short_code(cls, value: str) -> Address:
        return cls(value, AddressKind.SHORT_CODE)


@dataclass(frozen=True, slots=True)
class ContentPart:
    """One part of a multimedia message: a picture, a sound, a text, or the SMIL."""

    content_type: str
    data: bytes = field(repr=False)
    content_id: str
    # The name a handset shows and a SMIL ``src`` may use (``Content-Location``).
    location: str | None = None
    # ``charset`` of a text part.
    charset: str | None = None

    @property
    def is_text(self) -> bool:
        return self.content_type == "text/plain"

    @property
    def is_presentation(self) -> bool:
        return self.content_type == "application/smil"

    def text(self) -> str:
        return self.data.decode(self.charset or "utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Status:
    code: int
    text: str = ""

    @property
    def ok(self) -> bool:
        return 1000 <= self.code < 2000


SUCCESS = Status(StatusCode.SUCCESS, "Success")


@dataclass(frozen=True, slots=True)
class SubmitReq:
    """VASP → MMSC: send a multimedia message (§8.7.1)."""

    recipients: tuple[Address, ...]
    content: tuple[ContentPart, ...]
    vasp_id: str | None = None
    vas_id: str | None = None
    sender: Address | None = None
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    service_code: str | None = None
    linked_id: str | None = None
    message_class: MessageClass | None = None
    timestamp: datetime | None = None
    expiry: datetime | None = None
    delivery_report: bool = True
    read_reply: bool | None = None
    priority: Priority | None = None
    subject: str | None = None
    charged_party: ChargedParty | None = None
    allow_adaptations: bool = True


@dataclass(frozen=True, slots=True)
class SubmitRsp:
    status: Status
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeliverReq:
    """MMSC → VASP: a multimedia message from a handset (§8.7.2)."""

    sender: Address
    content: tuple[ContentPart, ...]
    recipients: tuple[Address, ...] = ()
    relay_server_id: str | None = None
    linked_id: str | None = None
    timestamp: datetime | None = None
    priority: Priority | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class DeliverRsp:
    status: Status
    service_code: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReportReq:
    """MMSC → VASP: what became of a submitted message for one recipient (§8.7.4)."""

    message_id: str
    recipient: Address
    sender: Address
    date: datetime
    mm_status: MMStatus
    relay_server_id: str | None = None
    status_text: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReportRsp:
    status: Status


@dataclass(frozen=True, slots=True)
class Fault:
    """A SOAP fault carrying an MM7 error response: ``VASPErrorRsp`` when the VASP refuses a
    request, ``RSErrorRsp`` when the relay does (§8.7.10)."""

    status: Status
    from_relay: bool
    fault_code: str = "Client"
    fault_string: str = ""


Request = SubmitReq | DeliverReq | DeliveryReportReq
Response = SubmitRsp | DeliverRsp | DeliveryReportRsp | Fault
Message = Request | Response
