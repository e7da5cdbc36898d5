"""A fax e-mail over real SMTP: STARTTLS, AUTH, and the gateway's answers as outcomes; fax
reports received by the service's SMTP listener."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.integration.documents.tls import server_context
from tests.ports import free_port
from tests.unit.t37.samples import dsn
from tidings.net.fax_smtp import SmtpSecurity, SmtpSettings, SubmitKind, submit_fax
from tidings.net.report_listener import ReportListener
from tidings.t37.reports import FaxOutcome, FaxReport
from tidings.t37.submission import FaxEmail, build_fax_email


def fax() -> FaxEmail:
    return build_fax_email(
        reference="01HZXABC",
        sender="fax@tidings.example",
        domain="tidings.example",
        number="+61261111111",
        gateway="gateway.example",
        tiff=b"II*\x00\x08\x00\x00\x00",
        pages=1,
        now=datetime(2026, 12, 7, tzinfo=UTC),
    )


class Gateway:
    """A plain aiosmtpd server that keeps what it is sent and answers RCPT as told."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self.rcpt_answer: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 queued as FAX1"


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"tidings", b"pw")
    # handled=False: aiosmtpd answers 535 itself when the login fails.
    return AuthResult(success=good, handled=False)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[Gateway, int]]:
    handler = Gateway()
    context = server_context(tmp_path)
    port = free_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(
            handler,
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=authenticate,
        ),
        "127.0.0.1",
        port,
    )
    yield handler, port
    server.close()
    await server.wait_closed()


def settings(port: int, password: str = "pw") -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        security=SmtpSecurity.STARTTLS,
        username="tidings",
        password=password,
        validate_certs=False,
        timeout=30,
    )


async def test_a_fax_goes_over_starttls_with_auth(gateway: tuple[Gateway, int]) -> None:
    handler, port = gateway
    outcome = await submit_fax(settings(port), fax())
    assert outcome.kind is SubmitKind.ACCEPTED
    # aiosmtpd has no DSN extension: none was asked for, the fax went all the same.
    assert outcome.dsn is False
    (envelope,) = handler.received
    assert envelope.rcpt_tos == ["FAX=+61261111111@gateway.example"]
    assert envelope.mail_from == "fax@tidings.example"
    sent = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
    (image,) = sent.iter_attachments()
    assert (image.get_content_type(), image.get_param("application")) == ("image/tiff", "faxbw")


async def test_wrong_credentials_are_a_permanent_refusal(gateway: tuple[Gateway, int]) -> None:
    handler, port = gateway
    outcome = await submit_fax(settings(port, password="wrong"), fax())
    assert outcome.kind is SubmitKind.PERMANENT
    assert "authentication" in outcome.detail
    assert handler.received == []


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("450 4.2.1 try later", SubmitKind.TEMPORARY),
        ("550 5.1.1 no such fax", SubmitKind.PERMANENT),
    ],
)
async def test_a_refused_recipient_is_temporary_or_permanent_by_its_code(
    gateway: tuple[Gateway, int], answer: str, kind: SubmitKind
) -> None:
    handler, port = gateway
    handler.rcpt_answer = answer
    outcome = await submit_fax(settings(port), fax())
    assert (outcome.kind, outcome.code) == (kind, int(answer[:3]))


async def test_a_gateway_that_is_not_there_is_temporary() -> None:
    outcome = await submit_fax(settings(free_port()), fax())
    assert outcome.kind is SubmitKind.TEMPORARY


async def send(port: int, data: bytes, to: str = "fax@tidings.example") -> tuple[int, str]:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as client:
        _errors, response = await client.sendmail("", [to], data)
    return 250, response


async def test_the_listener_stores_reports_before_it_answers() -> None:
    stored: list[FaxReport] = []
    malformed: list[str] = []

    async def on_reports(reports: list[FaxReport]) -> None:
        stored.extend(reports)

    listener = ReportListener(
        "127.0.0.1",
        free_port(),
        on_reports=on_reports,
        on_malformed=malformed.append,
        domains=["tidings.example"],
    )
    await listener.start()
    try:
        _, answer = await send(
            listener.port, dsn(action="failed", status="5.0.0", diagnostic="busy")
        )
        assert "report stored" in answer
        assert [(r.reference, r.outcome) for r in stored] == [("01HZXABC", FaxOutcome.BUSY)]

        _, answer = await send(listener.port, b"Subject: hello\n\nnot a report\n")
        assert "no fax report" in answer
        assert malformed == ["a text/plain mail is no report"]

        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await send(
                listener.port, dsn(action="delivered", status="2.0.0"), to="x@elsewhere.example"
            )
    finally:
        await listener.stop()


async def test_a_report_that_cannot_be_stored_is_refused_for_now() -> None:
    async def on_reports(reports: list[FaxReport]) -> None:
        raise RuntimeError("database down")

    listener = ReportListener("127.0.0.1", free_port(), on_reports=on_reports)
    await listener.start()
    try:
        with pytest.raises(aiosmtplib.SMTPDataError) as caught:
            await send(listener.port, dsn(action="delivered", status="2.0.0"))
        assert caught.value.code == 451
    finally:
        await listener.stop()


async def test_the_listener_admits_connections_under_its_limits() -> None:
    """Idle gateway connections make room for a new one; the limit is never passed."""
    from tidings.net.admission import ConnectionLimits

    async def on_reports(reports: list[FaxReport]) -> None:
        return None

    listener = ReportListener(
        "127.0.0.1",
        free_port(),
        on_reports=on_reports,
        limits=ConnectionLimits(max_total=2, max_per_address=2),
    )
    await listener.start()
    try:
        idle = [await asyncio.open_connection("127.0.0.1", listener.port) for _ in range(2)]
        for reader, _writer in idle:
            assert (await reader.readline()).startswith(b"220")
        # A third, doing real work, gets in: the oldest idle connection is closed for it.
        _, answer = await send(listener.port, dsn(action="delivered", status="2.0.0"))
        assert "report stored" in answer
        assert listener.admission.evicted >= 1
        assert len(listener.admission) <= 2
        assert await idle[0][0].read() == b""
        for _reader, writer in idle:
            writer.close()
    finally:
        await listener.stop()
