"""The SMTP listener fax gateways send their reports to (aiosmtpd, on the running loop).

A gateway mails its DSNs and MDNs to the address the fax came from; the operator points that
address's domain (MX) at this listener. Each mail is read into fax reports
(:func:`tidings.t37.reports.read_report`) and handed to ``on_reports``; the gateway gets its
``250`` only after that returns, that is once the reports are committed, so a report is never
lost to a crash between the two. A failure there answers ``451``: the gateway keeps the report
and sends it again. A mail that is no report is answered ``250`` and counted (``on_malformed``):
refusing it would only make the gateway bounce a bounce.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from tidings.net.admission import Admission, ConnectionLimits, default_limits
from tidings.t37.reports import FaxReport, MalformedReport, read_report

__all__ = ["ReportListener"]

log = structlog.get_logger("tidings.fax.reports")

# A report is a few kilobytes; one with the whole fax returned (RET=FULL) a few megabytes.
MAX_REPORT_BYTES = 10 * 1024 * 1024


class _Handler:
    def __init__(
        self,
        domains: frozenset[str],
        on_reports: Callable[[list[FaxReport]], Awaitable[None]],
        on_malformed: Callable[[str], None],
    ) -> None:
        self.domains = domains
        self.on_reports = on_reports
        self.on_malformed = on_malformed

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if self.domains and domain not in self.domains:
            return "550 5.1.1 no such mailbox here: this server takes fax reports only"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if not isinstance(data, bytes):
            data = data.encode("utf-8", "surrogateescape")
        try:
            reports = read_report(data)
        except MalformedReport as error:
            self.on_malformed(error.message)
            log.warning("fax report unreadable", reason=error.message, sender=envelope.mail_from)
            return "250 2.6.0 accepted, but it is no fax report we can read"
        try:
            await self.on_reports(reports)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("fax report not stored", references=[r.reference for r in reports])
            return "451 4.3.0 the report could not be stored now; send it again later"
        return "250 2.0.0 report stored"


class _AdmittedSmtp(SMTP):
    """aiosmtpd's SMTP session, admitted under the listener's connection limits
    (``net.admission``): a connection with no mail transaction under way is idle."""

    def __init__(self, handler: Any, admission: Admission, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._admission = admission
        self._peer = ""

    @property
    def address(self) -> str:
        return self._peer

    @property
    def idle(self) -> bool:
        return self.envelope is None or not self.envelope.mail_from

    def evict(self) -> None:
        if isinstance(self.transport, asyncio.Transport):
            self.transport.abort()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if peer else ""
        super().connection_made(transport)
        if not self._admission.admit(self) and isinstance(transport, asyncio.Transport):
            transport.abort()

    def connection_lost(self, error: Exception | None) -> None:
        self._admission.release(self)
        super().connection_lost(error)


class ReportListener:
    """An SMTP server on ``host``:``port`` taking fax reports for ``domains`` (all if empty)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        on_reports: Callable[[list[FaxReport]], Awaitable[None]],
        on_malformed: Callable[[str], None] = lambda reason: None,
        domains: Iterable[str] = (),
        hostname: str | None = None,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self._handler = _Handler(frozenset(d.lower() for d in domains), on_reports, on_malformed)
        self._hostname = hostname
        # Gateways hold a few connections at most; a small share of the file budget.
        self.admission = Admission(limits or default_limits(0.05))
        self._server: asyncio.base_events.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the report listener is not running")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def _protocol(self) -> Any:
        return _AdmittedSmtp(
            self._handler,
            self.admission,
            data_size_limit=MAX_REPORT_BYTES,
            hostname=self._hostname,
            # A stalled or idle gateway connection is closed after this long.
            timeout=60,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self.host, self.requested_port, reuse_address=True
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
