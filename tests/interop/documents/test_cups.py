"""A letter printed through real CUPS: IPP Print-Job to the cups-pdf printer, the job followed
to completed with Get-Job-Attributes, and the PDF CUPS wrote read back with pdftotext.

CUPS and the printer come from Debian (``cups``, ``printer-driver-cups-pdf``); ``.ci/run`` starts
cupsd and adds the printer ``PDF``. cups-pdf writes each job to the requesting user's ``PDF``
directory, or for a user unknown to the system to its anonymous directory, named after the
job's title: the test finds its own job's file by the message id it gave as job-name.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import httpx
import pytest

from tests.document_samples import pdf_with_pages
from tests.interop.documents.tools import MM, pdf_words
from tidings.documents.address import PostalAddress
from tidings.documents.letter import ADDRESS_FIELD, render_letter
from tidings.ipp.client import JobAccepted, JobStatus, JobTicket
from tidings.ipp.constants import JobState
from tidings.net.ipp import IppPrinter, PrinterUnreachable

pytestmark = pytest.mark.interop

PRINTER_URI = "ipp://127.0.0.1:631/printers/PDF"
# Where cups-pdf puts files (/etc/cups/cups-pdf.conf: Out ${HOME}/PDF, AnonDirName).
OUTPUT_DIRS = (Path("/var/spool/cups-pdf/ANONYMOUS"), Path.home() / "PDF", Path("/root/PDF"))


def written_by_cups(job_name: str, deadline: float) -> Path:
    while time.monotonic() < deadline:
        for directory in OUTPUT_DIRS:
            if directory.is_dir():
                found = sorted(directory.glob(f"{job_name}*.pdf"))
                if found:
                    return found[0]
        time.sleep(0.2)
    raise AssertionError(f"cups-pdf wrote no file for {job_name} in {OUTPUT_DIRS}")


async def test_a_letter_prints_through_cups_with_the_address_in_the_window(
    cups: httpx.AsyncClient,
) -> None:
    message_id = f"tidings-{secrets.token_hex(6)}"
    letter = render_letter(
        pdf_with_pages(["Dear Zoë,", "Kind regards"]),
        recipient=PostalAddress(
            "Zoë Quinn", "200 George Street", "", "Sydney", "NSW", "2000", "AU"
        ),
        return_address=PostalAddress(
            "Acme Pty Ltd", "1 Example Lane", "", "Melbourne", "VIC", "3000", "AU"
        ),
        template_used=True,
        colour=False,
        duplex=True,
        priority=False,
    )
    printer = IppPrinter(PRINTER_URI, cups)
    ticket = JobTicket(
        job_name=message_id,
        media=letter.attributes.media,
        sides=str(letter.attributes.sides),
        print_color_mode=letter.attributes.print_color_mode,
        job_priority=letter.attributes.job_priority,
    )

    accepted = await printer.print_job(ticket, letter.pdf)
    assert isinstance(accepted, JobAccepted), accepted
    assert accepted.job_id > 0

    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        status = await printer.job_status(accepted.job_id)
        assert isinstance(status, JobStatus), status
        if status.state.final:
            break
        await asyncio.sleep(0.5)
    assert status is not None and status.state is JobState.COMPLETED, status

    printed = written_by_cups(message_id, deadline)
    words = pdf_words(printed, 1)
    quinn = [w for w in words if w.text == "Quinn"]
    assert quinn, [w.text for w in words]
    # Within the DIN 5008 window field, in the PDF CUPS made of our job.
    assert ADDRESS_FIELD.left / MM - 1 <= quinn[0].left / MM <= 105
    assert 45 + 17.7 - 1 <= quinn[0].top / MM <= 90
    assert "Dear" in [w.text for w in words]
    printed.unlink()


async def test_a_printer_that_is_not_there_is_unreachable() -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        printer = IppPrinter("ipp://127.0.0.1:9/printers/none", http)
        with pytest.raises(PrinterUnreachable):
            await printer.print_job(
                JobTicket("x", "iso_a4_210x297mm", "one-sided", "monochrome"), b"%PDF"
            )


async def test_cups_refuses_a_job_for_a_printer_it_does_not_have(
    cups: httpx.AsyncClient,
) -> None:
    printer = IppPrinter("ipp://127.0.0.1:631/printers/NoSuchPrinter", cups)
    refused = await printer.print_job(
        JobTicket("x", "iso_a4_210x297mm", "one-sided", "monochrome"), b"%PDF-1.4"
    )
    assert not isinstance(refused, JobAccepted | JobStatus)
    assert refused.temporary is False
    assert refused.describe().startswith("client-error-not-found")
