"""The embedded T.37 fax gateway: takes faxes by SMTP, "sends" them, and reports by DSN.

Like a real offramp gateway it reads the RFC 3192 address (``FAX=+61…@…``) and the TIFF-F
attachment of each mail, dials (here: applies the outcome rules for the number), and mails a
delivery status notification (RFC 3464) back to the envelope sender, through the SMTP server
``report_host``:``report_port`` (the service's report listener), as the DSN extension asked
(``NOTIFY``, ``ENVID``, ``RET=HDRS``; without NOTIFY, failures only, as MTAs do).

What arrived is in the fax tray of the number dialled: each page rendered to PNG, so a person
can look at what the recipient's machine printed (``/v1/simulator/fax/{number}``).

Outcome rules by number, first match wins (the defaults: a number ending in 0001 is busy, 0002
does not answer, 0003 drops the line after the first page; every other fax goes through).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import io
import itertools
import re
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from typing import Any

import aiosmtplib
import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from tidings.documents.tiff import read_pages

__all__ = [
    "DEFAULT_FAX_RULES",
    "FaxGateway",
    "FaxGatewayConfig",
    "FaxResult",
    "FaxRule",
    "ReceivedFax",
]

log = structlog.get_logger("tidings.simulator.fax")

_FAX_ADDRESS = re.compile(r"^FAX=(\+[1-9]\d{4,15})(?:/T33S=[0-9#*]+)?@", re.IGNORECASE)


class FaxResult(StrEnum):
    DELIVERED = "delivered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    #: The line dropped after ``pages_sent`` pages.
    PARTIAL = "partial"


@dataclass(frozen=True, slots=True)
class FaxRule:
    """``result`` for numbers matching ``prefix`` and ``suffix`` (a missing one matches all)."""

    result: FaxResult
    prefix: str | None = None
    suffix: str | None = None
    #: For PARTIAL: the pages that went through before the line dropped.
    pages_sent: int = 1

    def matches(self, number: str) -> bool:
        digits = number.lstrip("+")
        return (self.prefix is None or digits.startswith(self.prefix.lstrip("+"))) and (
            self.suffix is None or digits.endswith(self.suffix)
        )


DEFAULT_FAX_RULES: tuple[FaxRule, ...] = (
    FaxRule(FaxResult.BUSY, suffix="0001"),
    FaxRule(FaxResult.NO_ANSWER, suffix="0002"),
    FaxRule(FaxResult.PARTIAL, suffix="0003", pages_sent=1),
)


@dataclass(frozen=True, slots=True)
class FaxGatewayConfig:
    host: str = "127.0.0.1"
    #: The SMTP port faxes are sent to (0: any free port).
    port: int = 0
    #: Where DSNs are mailed: the service's fax report listener.
    report_host: str = "127.0.0.1"
    report_port: int = 0
    domain: str = "fax.simulator"
    rules: Sequence[FaxRule] = DEFAULT_FAX_RULES
    #: Seconds per page "on the line" before the DSN goes out.
    seconds_per_page: float = 0.05
    #: Faxes kept per number.
    tray_size: int = 50


@dataclass(frozen=True, slots=True)
class ReceivedFax:
    id: int
    number: str
    sender: str
    subject: str
    reference: str | None
    result: FaxResult
    pages_sent: int
    pages_total: int
    #: What the recipient's machine printed: one PNG per page that went through.
    pages: tuple[bytes, ...]
    received_at: datetime

    def as_json(self, base: str = "") -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "subject": self.subject,
            "reference": self.reference,
            "result": str(self.result),
            "pages_sent": self.pages_sent,
            "pages_total": self.pages_total,
            "received_at": self.received_at.isoformat(),
            "pages": [f"{base}/{self.id}/pages/{n}" for n in range(1, len(self.pages) + 1)],
        }


@dataclass(slots=True)
class _Transaction:
    """The DSN parameters of the mail being received (RFC 3461)."""

    ret: str | None = None
    envid: str | None = None
    notify: dict[str, set[str]] = field(default_factory=dict)


_MAIL_PARAMS = re.compile(r"\s+(RET|ENVID)=(\S+)", re.IGNORECASE)
_RCPT_PARAMS = re.compile(r"\s+(NOTIFY|ORCPT)=(\S+)", re.IGNORECASE)


def _xtext_decode(value: str) -> str:
    return re.sub(r"\+([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


class _DsnSmtp(SMTP):
    """aiosmtpd's SMTP with the DSN extension: it takes RET/ENVID and NOTIFY/ORCPT, which
    aiosmtpd itself refuses, and keeps them for the handler."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.dsn = _Transaction()

    async def smtp_MAIL(self, arg: str | None) -> None:
        self.dsn = _Transaction()
        if arg:
            for name, value in _MAIL_PARAMS.findall(arg):
                if name.upper() == "RET":
                    self.dsn.ret = value.upper()
                else:
                    self.dsn.envid = _xtext_decode(value)
            arg = _MAIL_PARAMS.sub("", arg)
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        notify: set[str] | None = None
        if arg:
            for name, value in _RCPT_PARAMS.findall(arg):
                if name.upper() == "NOTIFY":
                    notify = {v.upper() for v in value.split(",")}
            arg = _RCPT_PARAMS.sub("", arg)
            address = arg.partition("<")[2].partition(">")[0]
            if notify is not None:
                self.dsn.notify[address] = notify
        await super().smtp_RCPT(arg)


class FaxGateway:
    """See the module docstring."""

    def __init__(self, config: FaxGatewayConfig | None = None) -> None:
        self.config = config or FaxGatewayConfig()
        self._server: asyncio.base_events.Server | None = None
        self._trays: dict[str, deque[ReceivedFax]] = {}
        self._ids = itertools.count(1)
        self._reports: set[asyncio.Task[None]] = set()
        self.reports_sent = 0
        self.reports_failed = 0

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the fax gateway is not running")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _DsnSmtp(self, hostname=self.config.domain, data_size_limit=20 * 1024 * 1024),
            self.config.host,
            self.config.port,
            reuse_address=True,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._reports):
            task.cancel()
        for task in list(self._reports):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> FaxGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the tray -------------------------------------------------------------------------------

    def tray(self, number: str) -> list[ReceivedFax]:
        return list(self._trays.get(_normal(number), ()))

    def clear_tray(self, number: str) -> int:
        return len(self._trays.pop(_normal(number), ()))

    def fax(self, number: str, fax_id: int) -> ReceivedFax | None:
        return next((f for f in self.tray(number) if f.id == fax_id), None)

    def numbers(self) -> list[str]:
        return sorted(self._trays)

    # -- SMTP hooks (aiosmtpd handler) -----------------------------------------------------------

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", responses[-1]]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not _FAX_ADDRESS.match(address):
            return "550 5.1.3 not a fax address: FAX=+<E.164 number>@gateway (RFC 3192)"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        mail = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        tiff = _tiff_of(mail)
        if tiff is None:
            return "554 5.6.1 no image/tiff attachment: nothing to fax"
        try:
            pages = _pages_png(tiff)
        except (OSError, ValueError, SyntaxError) as error:
            return f"554 5.6.1 the TIFF cannot be read: {error}"
        dsn = server.dsn if isinstance(server, _DsnSmtp) else _Transaction()
        for address in envelope.rcpt_tos:
            self._deliver(address, mail, pages, envelope.mail_from or "", dsn, data)
        return f"250 2.0.0 fax queued for {len(envelope.rcpt_tos)} number(s)"

    # -- dialling -------------------------------------------------------------------------------

    def _result(self, number: str) -> FaxRule:
        for rule in self.config.rules:
            if rule.matches(number):
                return rule
        return FaxRule(FaxResult.DELIVERED)

    def _deliver(
        self,
        address: str,
        mail: EmailMessage,
        pages: list[bytes],
        sender: str,
        dsn: _Transaction,
        original: bytes,
    ) -> None:
        match = _FAX_ADDRESS.match(address)
        assert match is not None
        number = match.group(1)
        rule = self._result(number)
        sent = {
            FaxResult.DELIVERED: len(pages),
            FaxResult.PARTIAL: min(rule.pages_sent, len(pages)),
        }.get(rule.result, 0)
        message_id = str(mail.get("Message-ID", ""))
        reference = dsn.envid or message_id.strip("<>").split("@", 1)[0] or None
        received = ReceivedFax(
            id=next(self._ids),
            number=number,
            sender=str(mail.get("From", sender)),
            subject=str(mail.get("Subject", "")),
            reference=reference,
            result=rule.result,
            pages_sent=sent,
            pages_total=len(pages),
            pages=tuple(pages[:sent]),
            received_at=datetime.now(UTC),
        )
        tray = self._trays.setdefault(number, deque(maxlen=self.config.tray_size))
        tray.append(received)
        notify = dsn.notify.get(address, {"FAILURE"})
        wanted = "SUCCESS" if rule.result is FaxResult.DELIVERED else "FAILURE"
        if sender and "NEVER" not in notify and wanted in notify:
            headers = original.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
            report = delivery_status_notification(
                received,
                recipient=address,
                to=sender,
                envelope_id=dsn.envid,
                returned_headers=headers if dsn.ret in ("HDRS", None) else original,
                domain=self.config.domain,
            )
            delay = self.config.seconds_per_page * max(1, sent)
            task = asyncio.get_running_loop().create_task(self._report(sender, report, delay))
            self._reports.add(task)
            task.add_done_callback(self._reports.discard)

    async def _report(self, to: str, report: bytes, delay: float) -> None:
        await asyncio.sleep(delay)
        # A gateway's MTA keeps trying to deliver its DSN; so does this one, a few times.
        for attempt in range(5):
            try:
                # The null reverse-path (MAIL FROM:<>): a report is never answered by another.
                async with aiosmtplib.SMTP(
                    hostname=self.config.report_host,
                    port=self.config.report_port,
                    start_tls=False,
                    timeout=10,
                ) as client:
                    await client.sendmail("", [to], report)
                self.reports_sent += 1
                return
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                log.warning(
                    "fax report not delivered", to=to, attempt=attempt + 1, error=str(error)
                )
                await asyncio.sleep(0.5 * 2**attempt)
        self.reports_failed += 1

    def status(self) -> dict[str, Any]:
        return {
            "smtp_port": self.port if self.running else None,
            "faxes": sum(len(t) for t in self._trays.values()),
            "reports_sent": self.reports_sent,
            "reports_failed": self.reports_failed,
            "reports_pending": len(self._reports),
        }


def _normal(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    return f"+{digits}"


def _tiff_of(mail: EmailMessage) -> bytes | None:
    for part in mail.walk():
        if part.get_content_type() == "image/tiff":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


def _pages_png(tiff: bytes) -> list[bytes]:
    pngs = []
    for page in read_pages(tiff):
        out = io.BytesIO()
        page.save(out, format="PNG", optimize=True)
        pngs.append(out.getvalue())
    return pngs


_DIAGNOSTIC = {
    FaxResult.DELIVERED: ("delivered", "2.0.0", "{sent} pages sent"),
    FaxResult.BUSY: ("failed", "5.0.0", "line busy, 0 pages sent"),
    FaxResult.NO_ANSWER: ("failed", "4.4.1", "no answer, 0 pages sent"),
    FaxResult.PARTIAL: ("failed", "5.3.0", "line dropped: {sent} pages sent of {total}"),
}


def delivery_status_notification(
    fax: ReceivedFax,
    *,
    recipient: str,
    to: str,
    envelope_id: str | None,
    returned_headers: bytes,
    domain: str,
) -> bytes:
    """An RFC 3464 DSN for one fax, with the pages sent as ``X-Fax-Pages-Sent``."""
    action, status, diagnostic = _DIAGNOSTIC[fax.result]
    diagnostic = diagnostic.format(sent=fax.pages_sent, total=fax.pages_total)
    now = format_datetime(datetime.now(UTC))
    per_message = f"Reporting-MTA: dns; {domain}\r\n"
    if envelope_id:
        per_message += f"Original-Envelope-Id: {envelope_id}\r\n"
    per_message += f"Arrival-Date: {format_datetime(fax.received_at)}\r\n"
    per_recipient = (
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Final-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: X-Fax; {diagnostic}\r\n"
        f"Last-Attempt-Date: {now}\r\n"
        f"X-Fax-Pages-Sent: {fax.pages_sent}\r\n"
    )
    boundary = f"dsn-{fax.id}-{int(time.time() * 1000)}"
    subject = "Fax delivered" if action == "delivered" else "Fax not delivered"
    text = f"The fax to {fax.number}: {diagnostic}.\r\n"
    return (
        (
            f"From: Fax Gateway <mailer-daemon@{domain}>\r\n"
            f"To: {to}\r\n"
            f"Subject: {subject}: {fax.number}\r\n"
            f"Date: {now}\r\n"
            f"Message-ID: {make_msgid(domain=domain)}\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            f'\tboundary="{boundary}"\r\n'
            "\r\n"
            f"--{boundary}\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"{text}\r\n"
            f"--{boundary}\r\n"
            "Content-Type: message/delivery-status\r\n\r\n"
            f"{per_message}\r\n{per_recipient}\r\n"
            f"--{boundary}\r\n"
            "Content-Type: text/rfc822-headers\r\n\r\n"
        ).encode()
        + returned_headers.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        + (f"\r\n\r\n--{boundary}--\r\n").encode()
    )
