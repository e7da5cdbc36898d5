"""A fax through the embedded gateway: SMTP in with the DSN asked, pages in the handset's tray,
and the DSN back at the service's report listener, per the number's outcome rule."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from tests.document_samples import pdf_with_pages
from tests.ports import free_port
from tidings.documents.fax import FaxResolution, render_fax
from tidings.net.fax_smtp import SmtpSecurity, SmtpSettings, SubmitKind, submit_fax
from tidings.net.report_listener import ReportListener
from tidings.simulator.documents_control import fax_router
from tidings.simulator.fax_gateway import FaxGateway, FaxGatewayConfig, FaxResult
from tidings.t37.reports import FaxOutcome, FaxReport
from tidings.t37.submission import build_fax_email


@dataclass
class Line:
    gateway: FaxGateway
    reports: asyncio.Queue[FaxReport]


@pytest.fixture
async def line() -> AsyncIterator[Line]:
    reports: asyncio.Queue[FaxReport] = asyncio.Queue()

    async def on_reports(found: list[FaxReport]) -> None:
        for report in found:
            reports.put_nowait(report)

    listener = ReportListener("127.0.0.1", free_port(), on_reports=on_reports)
    await listener.start()
    gateway = FaxGateway(
        FaxGatewayConfig(port=free_port(), report_port=listener.port, seconds_per_page=0.01)
    )
    await gateway.start()
    yield Line(gateway, reports)
    await gateway.stop()
    await listener.stop()


async def send(line: Line, number: str, pages: int, reference: str) -> None:
    fax = render_fax(
        pdf_with_pages([f"page {n}" for n in range(1, pages + 1)], ink_box=True),
        resolution=FaxResolution.STANDARD,
    )
    email = build_fax_email(
        reference=reference,
        sender="fax@tidings.example",
        domain="tidings.example",
        number=number,
        gateway="fax.simulator",
        tiff=fax.tiff,
        pages=fax.pages,
        now=datetime.now(UTC),
    )
    outcome = await submit_fax(
        SmtpSettings(host="127.0.0.1", port=line.gateway.port, security=SmtpSecurity.NONE), email
    )
    assert outcome.kind is SubmitKind.ACCEPTED, outcome
    assert outcome.dsn is True


async def test_a_delivered_fax_shows_its_pages_and_reports_them(line: Line) -> None:
    await send(line, "+61261110000", 3, "01FAXOK")

    report = await asyncio.wait_for(line.reports.get(), 30)
    assert (report.reference, report.outcome, report.pages) == ("01FAXOK", FaxOutcome.DELIVERED, 3)
    assert report.number == "+61261110000"

    (received,) = line.gateway.tray("+61261110000")
    assert (received.result, received.pages_sent, len(received.pages)) == (
        FaxResult.DELIVERED,
        3,
        3,
    )
    page = Image.open(io.BytesIO(received.pages[0]))
    # What the recipient's machine printed: 1728 dots across, the black square at the bottom left.
    assert page.width == 1728
    assert (
        page.convert("L").getpixel(
            (round(20 + 100 * 204 / 72), page.height - round(100 * 204 / 72))
        )
        == 0
    )


@pytest.mark.parametrize(
    ("number", "outcome", "pages"),
    [
        ("+61261110001", FaxOutcome.BUSY, 0),
        ("+61261110002", FaxOutcome.NO_ANSWER, 0),
        ("+61261110003", FaxOutcome.FAILED, 1),
    ],
)
async def test_the_numbers_rules_give_busy_no_answer_and_partial(
    line: Line, number: str, outcome: FaxOutcome, pages: int
) -> None:
    await send(line, number, 2, "01FAXRULE")
    report = await asyncio.wait_for(line.reports.get(), 30)
    assert (report.outcome, report.pages) == (outcome, pages)
    (received,) = line.gateway.tray(number)
    assert len(received.pages) == pages


async def test_the_control_api_shows_the_tray_and_serves_the_pages(line: Line) -> None:
    await send(line, "+61261110000", 2, "01FAXAPI")
    await asyncio.wait_for(line.reports.get(), 30)
    app = FastAPI()
    app.include_router(fax_router(line.gateway), prefix="/v1/simulator")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as api:
        tray = (await api.get("/v1/simulator/fax/+61261110000")).json()
        (fax,) = tray["faxes"]
        assert (fax["result"], fax["pages_sent"], fax["reference"]) == ("delivered", 2, "01FAXAPI")
        image = await api.get(fax["pages"][1])
        assert image.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(image.content)).width == 1728
        assert (await api.get(f"{fax['pages'][1][:-1]}9")).status_code == 404


async def test_mail_to_an_address_that_is_no_fax_number_is_refused(line: Line) -> None:
    import aiosmtplib

    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await aiosmtplib.send(
            b"Subject: hi\r\n\r\nhello\r\n",
            sender="a@b.example",
            recipients=["someone@fax.simulator"],
            hostname="127.0.0.1",
            port=line.gateway.port,
        )
