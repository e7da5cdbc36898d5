"""Letters and postcards through the embedded IPP printer: job states over time, and each
letter in the mailbox of the address its envelope window shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.document_samples import pdf_with_pages, postcard_side
from tests.ports import free_port
from tidings.documents.address import PostalAddress
from tidings.documents.letter import render_letter
from tidings.documents.postcard import render_postcard
from tidings.documents.printing import PrintDocument
from tidings.ipp.client import JobAccepted, JobStatus, JobTicket, RequestRefused
from tidings.ipp.constants import JobState
from tidings.net.ipp import IppPrinter
from tidings.simulator.documents_control import post_router
from tidings.simulator.printer import PrinterConfig, PrinterSimulator

RECIPIENT = PostalAddress("Zoë Quinn", "200 George Street", "", "Sydney", "NSW", "2000", "AU")
SENDER = PostalAddress("Acme Pty Ltd", "1 Example Lane", "", "Melbourne", "VIC", "3000", "AU")


@pytest.fixture
async def printer() -> AsyncIterator[PrinterSimulator]:
    simulator = PrinterSimulator(
        PrinterConfig(port=free_port(), pending_seconds=0.05, processing_seconds=0.05)
    )
    async with simulator:
        yield simulator


def ticket(name: str, document: PrintDocument) -> JobTicket:
    return JobTicket(
        job_name=name,
        media=document.attributes.media,
        sides=str(document.attributes.sides),
        print_color_mode=document.attributes.print_color_mode,
        job_priority=document.attributes.job_priority,
    )


async def until_final(client: IppPrinter, job_id: int) -> JobStatus:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = await client.job_status(job_id)
        assert isinstance(status, JobStatus)
        if status.state.final:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError("the job never finished")


def letter(template_used: bool = True) -> PrintDocument:
    return render_letter(
        pdf_with_pages(["Dear Zoë,", "Regards"]),
        recipient=RECIPIENT,
        return_address=SENDER,
        template_used=template_used,
        colour=False,
        duplex=True,
        priority=False,
    )


async def test_a_letter_goes_pending_then_completed_into_its_mailbox(
    printer: PrinterSimulator,
) -> None:
    document = letter()
    async with httpx.AsyncClient() as http:
        client = IppPrinter(printer.uri, http)
        accepted = await client.print_job(ticket("01LETTER", document), document.pdf)
        assert isinstance(accepted, JobAccepted) and accepted.state is JobState.PENDING
        status = await until_final(client, accepted.job_id)
    assert status.state is JobState.COMPLETED
    assert (status.impressions, status.sheets) == (2, 1)

    boxes = printer.mailboxes()
    assert list(boxes) == ["zoë-quinn-200-george-street-sydney-nsw-2000"]
    (job,) = boxes["zoë-quinn-200-george-street-sydney-nsw-2000"]
    assert (job.name, job.pdf, job.sides) == ("01LETTER", document.pdf, "two-sided-long-edge")


async def test_create_job_and_send_document_work_too(printer: PrinterSimulator) -> None:
    document = letter(template_used=False)
    async with httpx.AsyncClient() as http:
        client = IppPrinter(printer.uri, http)
        accepted = await client.create_and_send(ticket("01CREATE", document), document.pdf)
        assert isinstance(accepted, JobAccepted)
        assert (await until_final(client, accepted.job_id)).state is JobState.COMPLETED
    assert printer.mailbox("zoë-quinn-200-george-street-sydney-nsw-2000")[0].pages == 4


async def test_a_postcard_lands_by_the_address_on_its_back(printer: PrinterSimulator) -> None:
    card = render_postcard(
        [postcard_side("Front"), postcard_side("Back")], recipient=RECIPIENT, return_address=SENDER
    )
    async with httpx.AsyncClient() as http:
        client = IppPrinter(printer.uri, http)
        accepted = await client.print_job(ticket("01CARD", card), card.pdf)
        assert isinstance(accepted, JobAccepted)
        await until_final(client, accepted.job_id)
    assert (
        printer.mailbox("zoë-quinn-200-george-street-sydney-nsw-2000")[0].media
        == "iso_a6_105x148mm"
    )


async def test_a_document_without_a_readable_address_is_aborted(printer: PrinterSimulator) -> None:
    plain = pdf_with_pages(["no address anywhere"])
    async with httpx.AsyncClient() as http:
        client = IppPrinter(printer.uri, http)
        accepted = await client.print_job(
            JobTicket("01NOADDR", "iso_a4_210x297mm", "one-sided", "monochrome"), plain
        )
        assert isinstance(accepted, JobAccepted)
        status = await until_final(client, accepted.job_id)
        assert (status.state, status.reasons) == (JobState.ABORTED, ("document-unprintable-error",))

        broken = await client.print_job(
            JobTicket("01BROKEN", "iso_a4_210x297mm", "one-sided", "monochrome"), b"%PDF-1.4 junk"
        )
        assert isinstance(broken, JobAccepted)
        assert (await until_final(client, broken.job_id)).state is JobState.ABORTED
    assert printer.mailboxes() == {}


async def test_values_it_cannot_print_are_reported_as_ignored(printer: PrinterSimulator) -> None:
    document = letter()
    async with httpx.AsyncClient() as http:
        client = IppPrinter(printer.uri, http)
        odd = JobTicket("01ODD", "iso_a3_297x420mm", "one-sided", "monochrome")
        accepted = await client.print_job(odd, document.pdf)
    assert isinstance(accepted, JobAccepted)
    assert accepted.ignored == ("media",)


async def test_garbage_and_unknown_printers_get_ipp_refusals(printer: PrinterSimulator) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"http://127.0.0.1:{printer.port}/printers/post",
            content=b"\x01\x01\x00\x02\x00\x00\x00\x09\x01\x44\x00",
            headers={"Content-Type": "application/ipp"},
        )
        assert response.status_code == 200
        assert response.content[2:4] == b"\x04\x00"  # client-error-bad-request
        other = IppPrinter(f"ipp://127.0.0.1:{printer.port}/printers/elsewhere", http)
        refused = await other.print_job(
            JobTicket("x", "iso_a4_210x297mm", "one-sided", "color"), b"%PDF"
        )
        assert isinstance(refused, RequestRefused) and refused.status == 0x0406


async def test_the_control_api_lists_mailboxes_and_serves_the_letters(
    printer: PrinterSimulator,
) -> None:
    document = letter()
    async with httpx.AsyncClient() as http:
        client = IppPrinter(printer.uri, http)
        accepted = await client.print_job(ticket("01API", document), document.pdf)
        assert isinstance(accepted, JobAccepted)
        await until_final(client, accepted.job_id)
    app = FastAPI()
    app.include_router(post_router(printer), prefix="/v1/simulator")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as api:
        (box,) = (await api.get("/v1/simulator/post")).json()["mailboxes"]
        assert box["address"][0] == "Zoë Quinn" and box["letters"] == 1
        (item,) = (await api.get(f"/v1/simulator/post/{box['mailbox']}")).json()["letters"]
        assert item["job_name"] == "01API" and item["state"] == "completed"
        pdf = await api.get(item["pdf"])
        assert pdf.content == document.pdf
        page = await api.get(item["page_images"][0])
        assert page.headers["content-type"] == "image/png"
