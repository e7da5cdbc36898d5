"""The fax-smtp transport: faxes to a T.37 Internet fax gateway, as e-mail (ITU-T T.37 simple
mode, RFC 3192 addressing, RFC 3949 TIFF-F), through ``net.fax_smtp`` over ``t37.submission``.

A submit renders the message's PDF as TIFF-F for the route (resolution, coding), and hands the
gateway one e-mail to ``FAX=<number>@<gateway domain>`` asking for a DSN. The gateway's SMTP
answer decides: 250 sent, 4xx or no answer retried, 5xx rejected. The fax is then ``sent``,
found by its reference (the message id: the e-mail's envelope id and Message-ID, which every
report names).

The gateway mails its reports (RFC 3464 DSNs, RFC 8098 MDNs) to the route's ``sender``; that
domain's MX is the service's fax report listener (:class:`FaxReportReception`), which reads
them (``t37.reports``) into reports: ``delivered`` with the pages sent, ``busy``,
``no_answer`` or ``failed``; a delayed or relayed fax is progress, noted in the history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

import structlog

from tidings.core.channels import Channel
from tidings.core.content import load_content
from tidings.core.documents import FaxContent, FaxResult
from tidings.dispatch.outcomes import Report, SubmitOutcome
from tidings.dispatch.transport import Claim, RequestTransport, TransportContext
from tidings.dispatch.transports.fax_smtp_settings import FaxSmtpSettings
from tidings.documents.errors import DocumentRejected
from tidings.documents.fax import render_fax
from tidings.lifecycle import MessageStatus
from tidings.media.errors import MediaError
from tidings.net.admission import ConnectionLimits
from tidings.net.fax_smtp import SmtpSettings, SubmitKind, submit_fax
from tidings.net.report_listener import ReportListener
from tidings.store.records import RouteRecord
from tidings.t37.reports import FaxOutcome, FaxReport
from tidings.t37.submission import build_fax_email

if TYPE_CHECKING:
    from tidings.dispatch.reception import Reception

__all__ = ["FaxReportReception", "FaxSmtpTransport", "fax_reference", "report_of"]

log = structlog.get_logger("tidings.dispatch")

FAX_SMTP_KIND = "fax-smtp"

# What a gateway's report means for the message; PENDING (delayed, relayed) is progress.
REPORT_STATUS: Mapping[FaxOutcome, MessageStatus | None] = MappingProxyType(
    {
        FaxOutcome.DELIVERED: MessageStatus.DELIVERED,
        FaxOutcome.BUSY: MessageStatus.BUSY,
        FaxOutcome.NO_ANSWER: MessageStatus.NO_ANSWER,
        FaxOutcome.FAILED: MessageStatus.FAILED,
        FaxOutcome.PENDING: None,
    }
)


def _now() -> datetime:
    return datetime.now(UTC)


def fax_reference(token: str) -> str:
    """The part's reference for a fax whose e-mail carries ``token`` (the message id): unique
    across routes already, prefixed so it never meets another transport's."""
    return f"fax:{token}"


def report_of(report: FaxReport, at: datetime) -> Report:
    """What the gateway said of one fax, as the status writer records it."""
    status = REPORT_STATUS[report.outcome]
    error_code = None
    if report.outcome in (FaxOutcome.BUSY, FaxOutcome.NO_ANSWER):
        error_code = report.outcome.value
    elif report.outcome is FaxOutcome.FAILED:
        # The RFC 3463 status (5.3.0...) or the MDN's disposition: what the gateway said.
        error_code = f"dsn-{report.status}" if report.status else "failed"
    return Report(
        reference=fax_reference(report.reference),
        status=status,
        state=report.status or report.outcome.value,
        error_code=error_code,
        at=at,
        detail=report.detail,
        result=FaxResult(pages_sent=report.pages, diagnostic=report.detail[:500] or None),
    )


class FaxSmtpTransport(RequestTransport[FaxSmtpSettings]):
    kind: ClassVar[str] = FAX_SMTP_KIND
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.FAX})
    settings_model: ClassVar[type[FaxSmtpSettings]] = FaxSmtpSettings

    def __init__(
        self, route: RouteRecord, settings: FaxSmtpSettings, context: TransportContext
    ) -> None:
        super().__init__(route, settings, context)
        password = settings.password.get_secret_value() if settings.password else None
        self.smtp = SmtpSettings(
            host=settings.host,
            port=settings.port,
            security=settings.security,
            username=settings.username,
            password=password,
            timeout=settings.timeout_seconds,
            validate_certs=settings.validate_certs,
        )

    async def submit(self, claim: Claim) -> SubmitOutcome:
        context = self.context
        message = claim.message
        content = load_content(FaxContent, message.content)
        if content is None:
            return context.failed(claim, "no_document", "the fax names no document")
        settings = self.settings
        try:
            record = await context.media.get(message.account_id, content.document.id)
            pdf = await context.media.content(record)
            # Rasterising and coding take a while; other routes' work goes on meanwhile.
            fax = await asyncio.to_thread(
                render_fax, pdf, resolution=settings.resolution, coding=settings.coding.coding
            )
        except MediaError as error:
            return context.failed(claim, "media", error.message)
        except DocumentRejected as rejected:
            return context.failed(claim, rejected.reason.value, rejected.message)
        try:
            email = build_fax_email(
                reference=message.id,
                sender=settings.sender,
                domain=settings.sender.rpartition("@")[2],
                number=message.recipient,
                gateway=settings.gateway_domain,
                tiff=fax.tiff,
                pages=fax.pages,
                now=_now(),
                subject=message.subject,
                cover_text=message.body or None,
            )
        except ValueError as error:
            return context.failed(claim, "invalid_fax_number", str(error))
        with self.handing_over():
            # One connection per fax: gateways take a few a minute.
            outcome = await submit_fax(self.smtp, email)
        code = f"SMTP_{outcome.code}" if outcome.code else "SMTP_NO_ANSWER"
        if outcome.kind is SubmitKind.TEMPORARY:
            return context.retry(claim, code, f"the fax gateway: {outcome.detail}")
        if outcome.kind is SubmitKind.PERMANENT:
            return context.rejected(claim, code, f"the fax gateway refused it: {outcome.detail}")
        if not outcome.dsn:
            log.info("fax gateway without DSN: only an MDN can report", route=self.route.name)
        claim.sent.append((1, fax_reference(email.reference)))
        return context.sent(claim)


class FaxReportReception:
    """The service's SMTP listener for fax gateways' reports (``net.report_listener``): each
    report goes to the status writer of ``reception()``, and the gateway gets its 250 once
    every report of the mail is committed (451 if they cannot be, so it sends them again)."""

    def __init__(
        self,
        host: str,
        port: int,
        reception: Callable[[], Reception | None],
        *,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self._reception = reception
        self.listener = ReportListener(
            host, port, on_reports=self._store, on_malformed=self._malformed, limits=limits
        )
        self.malformed = 0

    @property
    def port(self) -> int:
        return self.listener.port

    async def start(self) -> None:
        await self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()

    def _malformed(self, reason: str) -> None:
        self.malformed += 1

    async def _store(self, reports: list[FaxReport]) -> None:
        reception = self._reception()
        if reception is None:
            raise RuntimeError("the dispatcher is not running yet")
        at = _now()
        await asyncio.gather(*(reception.report(report_of(r, at)) for r in reports))
