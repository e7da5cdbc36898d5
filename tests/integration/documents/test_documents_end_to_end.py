"""Faxes, letters and postcards end to end through the running service: POST /v1/messages with
a PDF, the fax-smtp transport over real SMTP to the embedded T.37 gateway and its DSNs back to
the service's report listener; the ipp transport over real IPP/HTTP to the embedded printer,
its jobs followed to their final state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.document_samples import pdf_with_pages, postcard_side
from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tests.ports import free_port
from tidings.core import accounts
from tidings.ipp.client import JobAccepted
from tidings.net.ipp import IppPrinter
from tidings.simulator.fax_gateway import FaxGateway
from tidings.simulator.printer import PrinterConfig, PrinterSimulator

FINAL = frozenset({"delivered", "failed", "busy", "no_answer", "rejected", "undelivered"})
ADDRESS = {
    "name": "Zoë Quinn",
    "line_1": "200 George Street",
    "city": "Sydney",
    "state": "NSW",
    "postal_code": "2000",
    "country": "AU",
}
# The mail room's key of the address the envelope window shows (the country's name last).
MAILBOX = "zoë-quinn-200-george-street-sydney-nsw-2000-australia"


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    async with running_service(service_settings(tmp_path, database_url)) as service:
        yield service


def _gateway(running: Running) -> FaxGateway:
    simulator = running.service.simulator
    assert simulator is not None and simulator.fax is not None
    return simulator.fax


def _printer(running: Running) -> PrinterSimulator:
    simulator = running.service.simulator
    assert simulator is not None and simulator.printer is not None
    return simulator.printer


async def _upload(running: Running, name: str, pdf: bytes) -> str:
    uploaded = await running.http.post("/v1/media", files={"file": (name, pdf, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    media_id: str = uploaded.json()["id"]
    return media_id


async def _fax(running: Running, number: str, document: str) -> str:
    return await running.send_one(number, channel="fax", document=document, body="")


async def test_a_fax_reaches_the_gateway_as_tiff_f_and_its_dsn_delivers_it(
    running: Running,
) -> None:
    document = await _upload(running, "invoice.pdf", pdf_with_pages(["Invoice 1", "Page two"]))
    message_id = await _fax(running, "+61261110000", document)
    done = await running.wait_for(message_id, FINAL)
    assert (done["status"], done["channel"]) == ("delivered", "fax"), done
    [fax] = _gateway(running).tray("+61261110000")
    # The gateway read two pages from the TIFF-F it got, and correlated the report.
    assert (fax.pages_total, fax.pages_sent, fax.reference) == (2, 2, message_id)
    assert fax.pages[0].startswith(b"\x89PNG")
    # The history keeps what the gateway said, and the message the pages sent.
    assert any("2 pages sent" in (entry.get("detail") or "") for entry in done["history"])
    assert (done["fax"]["pages"], done["fax"]["document"]["id"]) == (2, document)
    assert done["fax_report"]["pages_sent"] == 2


@pytest.mark.parametrize(
    ("number", "status", "error_code"),
    [
        ("+61261110001", "busy", "busy"),
        ("+61261110002", "no_answer", "no_answer"),
        ("+61261110003", "failed", "dsn-5.3.0"),
    ],
)
async def test_a_fax_that_does_not_go_through_says_why(
    running: Running, number: str, status: str, error_code: str
) -> None:
    document = await _upload(running, "letter.pdf", pdf_with_pages(["One", "Two", "Three"]))
    done = await running.wait_for(await _fax(running, number, document), FINAL)
    assert (done["status"], done["error_code"]) == (status, error_code), done


async def test_what_cannot_be_faxed_is_refused_at_the_door(running: Running) -> None:
    landscape = await _upload(running, "wide.pdf", postcard_side("sideways"))
    refused = await running.http.post(
        "/v1/messages",
        json={"to": "+61261110000", "from": "Acme", "channel": "fax", "document": landscape},
    )
    assert refused.status_code == 422 and "portrait" in refused.text, refused.text
    missing = await running.http.post(
        "/v1/messages", json={"to": "+61261110000", "from": "Acme", "channel": "fax"}
    )
    assert missing.status_code == 422 and "document" in missing.text


async def _letter(running: Running, **fields: Any) -> dict[str, Any]:
    answer = await running.http.post(
        "/v1/messages", json={"from": "Acme", "address": ADDRESS, **fields}
    )
    assert answer.status_code == 202, answer.text
    [entry] = answer.json()["messages"]
    return await running.wait_for(entry["id"], FINAL)


async def test_a_letter_is_printed_with_its_attributes_and_lands_in_its_mailbox(
    running: Running,
) -> None:
    document = await _upload(running, "letter.pdf", pdf_with_pages(["Dear Zoë", "Page 2"]))
    done = await _letter(running, channel="letter", document=document, colour=True, duplex=True)
    assert (done["status"], done["channel"], done["to"]) == ("delivered", "letter", "Zoë Quinn")
    [job] = _printer(running).mailbox(MAILBOX)
    assert job.name == done["id"]
    assert (job.sides, job.print_color_mode, job.media) == (
        "two-sided-long-edge",
        "color",
        "iso_a4_210x297mm",
    )
    # An address sheet and its blank back went before the two pages of the letter.
    assert job.pages == 4
    post = done["post"]
    assert (post["pages"], post["address"]["city"], post["colour"]) == (4, "Sydney", True)
    assert (done["print_job"]["job_id"], done["print_job"]["job_state"]) == (job.id, "completed")
    assert any("completed" in (entry.get("detail") or "") for entry in done["history"])


async def test_a_postcard_is_printed_on_a6_with_the_address_on_its_back(running: Running) -> None:
    front = await _upload(running, "front.pdf", postcard_side("Greetings from Helsinki"))
    back = await _upload(running, "back.pdf", postcard_side("Wish you were here"))
    done = await _letter(running, channel="postcard", document=front, back=back)
    assert done["status"] == "delivered", done
    [card] = _printer(running).mailbox(MAILBOX)
    assert (card.media, card.pages, card.sides) == (
        "iso_a6_105x148mm",
        2,
        "two-sided-short-edge",
    )


async def test_a_letter_dropped_at_the_simulated_print_house_is_collected_into_its_mailbox(
    running: Running,
) -> None:
    house = running.service.simulator.print_house if running.service.simulator else None
    assert house is not None
    # The house route (sftp, made with the simulator) becomes the letters' default route.
    key = await accounts.create_api_key(
        running.service.database, running.account.id, role=accounts.Role.OPERATOR
    )
    changed = await running.http.patch(
        "/v1/routes/house",
        json={"is_default": True},
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["kind"] == "sftp"
    assert "password" not in changed.json()["settings"]

    document = await _upload(running, "letter.pdf", pdf_with_pages(["Dear Zoë"]))
    done = await _letter(running, channel="letter", document=document, priority_post=True)
    assert done["status"] == "delivered", done
    assert any("collected" in (entry.get("detail") or "") for entry in done["history"]), done
    assert house.collected == [done["id"]]
    assert list(house.drop.iterdir()) == []
    # The house printed what it collected with the manifest's ticket; the mail room filed it.
    [job] = _printer(running).mailbox(MAILBOX)
    assert (job.name, job.print_color_mode, job.priority, job.pages) == (
        done["id"],
        "monochrome",
        100,
        2,
    )


async def test_a_letter_without_an_address_or_with_a_bad_one_is_refused(running: Running) -> None:
    document = await _upload(running, "letter.pdf", pdf_with_pages(["Dear Zoë"]))
    no_address = await running.http.post(
        "/v1/messages", json={"from": "Acme", "channel": "letter", "document": document}
    )
    assert no_address.status_code == 422 and "address" in no_address.text
    no_country = await running.http.post(
        "/v1/messages",
        json={
            "from": "Acme",
            "channel": "letter",
            "document": document,
            "address": {**ADDRESS, "country": ""},
        },
    )
    assert no_country.status_code == 422 and "country" in no_country.text


async def test_a_letter_whose_job_was_pending_when_the_service_stopped_is_followed_after_restart(
    tmp_path: Path, database_url: str
) -> None:
    # A printer of the test's own, which outlives the service; its jobs wait a while.
    async with PrinterSimulator(PrinterConfig(port=free_port(), pending_seconds=3.0)) as printer:
        settings = service_settings(tmp_path, database_url)
        async with running_service(settings) as first:
            await first.add_route(
                name="slow-printer",
                kind="ipp",
                settings={"printer_uri": printer.uri},
                channels=["letter"],
                is_default=True,
            )
            document = await _upload(first, "letter.pdf", pdf_with_pages(["Dear Zoë"]))
            answer = await first.http.post(
                "/v1/messages",
                json={
                    "from": "Acme",
                    "channel": "letter",
                    "document": document,
                    "address": ADDRESS,
                },
            )
            [entry] = answer.json()["messages"]
            sent = await first.wait_for(entry["id"], {"sent"})
            assert sent["status"] == "sent"
            account = first.account
        # The job is still pending at the printer: the next process asks about it.
        assert [job.name for job in printer.jobs()] == [entry["id"]]
        async with running_service(settings, account=account) as second:
            done = await second.wait_for(entry["id"], FINAL)
            assert done["status"] == "delivered", done
            assert done["print_job"]["job_state"] == "completed"


async def test_a_letter_whose_print_job_is_canceled_at_the_printer_fails(
    tmp_path: Path, database_url: str
) -> None:
    # The job waits at the printer long enough for someone there to cancel it.
    held = PrinterSimulator(PrinterConfig(port=free_port(), pending_seconds=60.0))
    settings = service_settings(tmp_path, database_url)
    async with held as printer, running_service(settings) as running:
        await running.add_route(
            name="held-printer",
            kind="ipp",
            settings={"printer_uri": printer.uri},
            channels=["letter"],
            is_default=True,
        )
        document = await _upload(running, "letter.pdf", pdf_with_pages(["Dear Zoë"]))
        answer = await running.http.post(
            "/v1/messages",
            json={
                "from": "Acme",
                "channel": "letter",
                "document": document,
                "address": ADDRESS,
            },
        )
        [entry] = answer.json()["messages"]
        assert (await running.wait_for(entry["id"], {"sent"}))["status"] == "sent"
        [job] = printer.jobs()
        async with httpx.AsyncClient() as http:
            canceled = await IppPrinter(printer.uri, http).cancel_job(job.id)
        assert isinstance(canceled, JobAccepted), canceled
        done = await running.wait_for(entry["id"], FINAL)
    # Not delivered, not left at sent: failed, saying what the printer said.
    assert (done["status"], done["error_code"]) == ("failed", "job-canceled"), done
    assert done["print_job"]["job_state"] == "canceled"
    assert "job-canceled-by-user" in done["print_job"]["reasons"]
    assert printer.mailbox(MAILBOX) == []
