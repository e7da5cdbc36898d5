"""What a fax gateway reports back: RFC 3464 delivery status notifications and RFC 8098
message disposition notifications, read into one :class:`FaxReport` per fax.

Which report is about which fax: the DSN's ``Original-Envelope-Id`` (the ENVID we sent), else
the ``Message-ID`` among the returned headers (RET=HDRS), or an MDN's ``Original-Message-ID``.

What happened, as a table (``OUTCOME_OF_ACTION``) refined by the RFC 3463 status code and the
gateway's diagnostic: a fax line that was busy or did not answer fails with that reason, so the
customer sees the truth rather than "failed". ``delayed`` and ``relayed`` are not final: the
gateway is still trying, or handed the fax on without a word on its delivery.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage, Message
from enum import StrEnum
from types import MappingProxyType

from tidings.errors import TidingsError
from tidings.t37.submission import reference_of

__all__ = ["FaxOutcome", "FaxReport", "MalformedReport", "read_report"]


class MalformedReport(TidingsError):
    """The mail is not a delivery or disposition report we can read."""


class FaxOutcome(StrEnum):
    DELIVERED = "delivered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    #: Not final: the gateway is retrying (delayed), or passed the fax on (relayed).
    PENDING = "pending"

    @property
    def final(self) -> bool:
        return self is not FaxOutcome.PENDING


@dataclass(frozen=True, slots=True)
class FaxReport:
    reference: str
    outcome: FaxOutcome
    #: The fax number the report is about, when it names one (``FAX=+61…``).
    number: str | None
    #: Pages the gateway says it transmitted.
    pages: int | None
    #: The RFC 3463 status code (DSN), or the disposition type (MDN).
    status: str
    detail: str


# RFC 3464 §2.3.3 Action → outcome, before the failure is refined.
OUTCOME_OF_ACTION: Mapping[str, FaxOutcome] = MappingProxyType(
    {
        "delivered": FaxOutcome.DELIVERED,
        "failed": FaxOutcome.FAILED,
        "delayed": FaxOutcome.PENDING,
        "relayed": FaxOutcome.PENDING,
        "expanded": FaxOutcome.PENDING,
    }
)
# RFC 8098 §3.2.6 disposition type → outcome.
OUTCOME_OF_DISPOSITION: Mapping[str, FaxOutcome] = MappingProxyType(
    {
        "processed": FaxOutcome.DELIVERED,
        "displayed": FaxOutcome.DELIVERED,
        "dispatched": FaxOutcome.DELIVERED,
        "deleted": FaxOutcome.FAILED,
        "denied": FaxOutcome.FAILED,
        "failed": FaxOutcome.FAILED,
    }
)

_BUSY = re.compile(r"\bbusy\b", re.IGNORECASE)
_NO_ANSWER = re.compile(r"\bno[ _-]?(answer|carrier)\b", re.IGNORECASE)
_PAGES = re.compile(r"\b(\d{1,4})\s+pages?\b|\bpages?(?:[ _-]sent)?\s*[=:]\s*(\d{1,4})\b", re.I)
_FAX_NUMBER = re.compile(r"FAX=(\+?\d{4,20})", re.IGNORECASE)
_PAGE_FIELDS = ("X-Fax-Pages-Sent", "X-Fax-Pages")


def _refine(outcome: FaxOutcome, status: str, detail: str) -> FaxOutcome:
    """A failure, named: busy, or no answer (RFC 3463 X.4.1 is "no answer from host")."""
    if outcome is not FaxOutcome.FAILED:
        return outcome
    if _BUSY.search(detail):
        return FaxOutcome.BUSY
    if status.endswith(".4.1") or _NO_ANSWER.search(detail):
        return FaxOutcome.NO_ANSWER
    return outcome


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status or disposition-notification body."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload or "")
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [email.message_from_string(block + "\n") for block in blocks if block.strip()]


def _field(block: Message, name: str) -> str:
    value = block.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _typed(value: str) -> str:
    """A typed field's value without its type: ``rfc822;FAX=+61…`` → ``FAX=+61…``."""
    return value.split(";", 1)[1].strip() if ";" in value else value.strip()


def _pages(block: Message, detail: str) -> int | None:
    for name in _PAGE_FIELDS:
        value = _field(block, name)
        if value.isdigit():
            return int(value)
    match = _PAGES.search(detail)
    if match:
        return int(match.group(1) or match.group(2))
    return None


def _number(*values: str) -> str | None:
    for value in values:
        match = _FAX_NUMBER.search(value)
        if match:
            digits = match.group(1)
            return digits if digits.startswith("+") else f"+{digits}"
    return None


def _returned_reference(report: Message) -> str | None:
    for part in report.walk():
        if part.get_content_type() in ("text/rfc822-headers", "message/rfc822"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                headers = payload[0]
            else:
                raw = part.get_payload(decode=True)
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
                headers = email.message_from_string(text)
            message_id = headers.get("Message-ID")
            if message_id:
                return reference_of(str(message_id))
    return None


def _dsn(report: Message, part: Message) -> list[FaxReport]:
    blocks = _blocks(part)
    if len(blocks) < 2:
        raise MalformedReport("the delivery status has no recipient")
    per_message, recipients = blocks[0], blocks[1:]
    envelope_id = _field(per_message, "Original-Envelope-Id")
    reference = (reference_of(envelope_id) if envelope_id else None) or _returned_reference(report)
    if reference is None:
        raise MalformedReport("the delivery status names no envelope id or Message-ID")
    found = []
    for block in recipients:
        action = _field(block, "Action").lower()
        if action not in OUTCOME_OF_ACTION:
            raise MalformedReport(f"the delivery status has action {action!r}")
        status = _field(block, "Status")
        detail = _typed(_field(block, "Diagnostic-Code")) or _field(block, "X-Fax-Result")
        outcome = _refine(
            OUTCOME_OF_ACTION[action], status, f"{detail} {_field(block, 'X-Fax-Result')}"
        )
        found.append(
            FaxReport(
                reference=reference,
                outcome=outcome,
                number=_number(
                    _field(block, "Original-Recipient"), _field(block, "Final-Recipient")
                ),
                pages=_pages(block, detail),
                status=status,
                detail=detail or action,
            )
        )
    return found


def _mdn(part: Message) -> list[FaxReport]:
    blocks = _blocks(part)
    if not blocks:
        raise MalformedReport("the disposition notification is empty")
    fields = blocks[0]
    reference = reference_of(_field(fields, "Original-Message-ID"))
    if reference is None:
        raise MalformedReport("the disposition notification names no Original-Message-ID")
    disposition = _field(fields, "Disposition")
    kind = disposition.split(";", 1)[-1].strip().split("/", 1)[0].lower()
    if kind not in OUTCOME_OF_DISPOSITION:
        raise MalformedReport(f"the disposition {disposition!r} is not one RFC 8098 names")
    detail = _field(fields, "Failure") or _field(fields, "Error") or disposition
    outcome = _refine(OUTCOME_OF_DISPOSITION[kind], "", detail)
    return [
        FaxReport(
            reference=reference,
            outcome=outcome,
            number=_number(_field(fields, "Original-Recipient"), _field(fields, "Final-Recipient")),
            pages=_pages(fields, detail),
            status=kind,
            detail=detail,
        )
    ]


def read_report(data: bytes) -> list[FaxReport]:
    """The fax reports in one mail; :class:`MalformedReport` if it holds none we can read."""
    try:
        report = email.message_from_bytes(data, policy=email.policy.default)
    except (ValueError, TypeError, IndexError) as error:  # the parser is lenient; belt and braces
        raise MalformedReport(f"the mail cannot be parsed: {error}") from error
    assert isinstance(report, EmailMessage)
    if report.get_content_type() != "multipart/report":
        raise MalformedReport(f"a {report.get_content_type()} mail is no report")
    try:
        for part in report.walk():
            content_type = part.get_content_type()
            if content_type in ("message/delivery-status", "message/global-delivery-status"):
                return _dsn(report, part)
            if content_type in (
                "message/disposition-notification",
                "message/global-disposition-notification",
            ):
                return _mdn(part)
    except MalformedReport:
        raise
    except (ValueError, TypeError, LookupError, AttributeError) as error:
        raise MalformedReport(f"the report cannot be read: {error}") from error
    raise MalformedReport("the report has no delivery status or disposition part")
