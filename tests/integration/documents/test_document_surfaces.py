"""Faxes, letters and postcards from the surfaces people use: ``POST /v1/messages/preview``
shows the pages as they will go (and the file itself), and ``tidings send --fax`` /
``--letter`` send through the running service to the embedded gateway and printer."""

from __future__ import annotations

import asyncio
import base64
import io
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.document_samples import pdf_with_pages, postcard_side
from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tidings.cli import app
from tidings.core import accounts

FAX_NUMBER = "+61261110000"
ADDRESS = {
    "name": "Zoë Quinn",
    "line_1": "200 George Street",
    "city": "Sydney",
    "state": "NSW",
    "postal_code": "2000",
    "country": "AU",
}
MAILBOX = "zoë-quinn-200-george-street-sydney-nsw-2000-australia"
FINAL = frozenset({"delivered", "failed", "busy", "no_answer", "rejected", "undelivered"})


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    async with running_service(service_settings(tmp_path, database_url)) as service:
        yield service


async def _upload(running: Running, name: str, pdf: bytes) -> str:
    uploaded = await running.http.post("/v1/media", files={"file": (name, pdf, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    media_id: str = uploaded.json()["id"]
    return media_id


def _png(data_url: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix) :])))


def _pdf_text(pdf: bytes, page: int) -> str:
    """What poppler reads on one page (an independent reader of the PDF)."""
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()


async def test_the_preview_shows_a_documents_pages_units_and_price_and_sends_nothing(
    running: Running,
) -> None:
    fax_pdf = await _upload(running, "invoice.pdf", pdf_with_pages(["Invoice 7", "Terms"]))
    fax = {"from": "Acme", "channel": "fax", "document": fax_pdf}
    preview = await running.http.post(
        "/v1/messages/preview", json={**fax, "to": [FAX_NUMBER, "not a number"]}
    )
    assert preview.status_code == 200, preview.text
    answer = preview.json()
    document = answer["document"]
    assert (document["pages"], document["units"], document["content_type"]) == (
        2,
        2,
        "image/tiff",
    )
    # Two pages at the default 0.10 a page; the number that is no number costs nothing.
    assert document["price"] == "0.20" and answer["price"] == "0.20"
    good, bad = answer["messages"]
    assert (good["address"], good["price"], bad["error"]["code"]) == (
        FAX_NUMBER,
        "0.20",
        "invalid_number",
    )
    # Each page as the recipient's machine prints it: black and white, a page's proportions.
    pages = [_png(shown) for shown in document["shown"]]
    assert len(pages) == 2
    assert all(page.height > page.width and page.getextrema()[0] < 128 for page in pages)
    tiff = await running.http.post(
        "/v1/messages/preview", json={**fax, "to": FAX_NUMBER}, headers={"Accept": "image/tiff"}
    )
    assert tiff.headers["content-type"] == "image/tiff"
    sent = Image.open(io.BytesIO(tiff.content))
    assert (sent.n_frames, sent.width, sent.info["compression"]) == (2, 1728, "group3")

    letter_pdf = await _upload(running, "letter.pdf", pdf_with_pages(["Dear Zoë", "Page 2"]))
    letter = {
        "from": "Acme",
        "channel": "letter",
        "document": letter_pdf,
        "address": ADDRESS,
        "colour": True,
    }
    shown = (await running.http.post("/v1/messages/preview", json=letter)).json()
    # An address sheet goes before the two pages; colour pages at 1.20.
    assert (shown["document"]["pages"], shown["document"]["units"]) == (3, 3)
    assert shown["document"]["price"] == "3.60"
    assert [m["to"] for m in shown["messages"]] == ["Zoë Quinn"]
    assert len(shown["document"]["shown"]) == 3
    printed = await running.http.post(
        "/v1/messages/preview", json=letter, headers={"Accept": "application/pdf"}
    )
    assert printed.headers["content-type"] == "application/pdf"
    assert "200 George Street" in _pdf_text(printed.content, 1)
    assert "Dear Zoë" in _pdf_text(printed.content, 2)

    front = await _upload(running, "front.pdf", postcard_side("Greetings"))
    back = await _upload(running, "back.pdf", postcard_side("Wish you were here"))
    card = (
        await running.http.post(
            "/v1/messages/preview",
            json={
                "from": "Acme",
                "channel": "postcard",
                "document": front,
                "back": back,
                "address": ADDRESS,
            },
        )
    ).json()
    assert (card["document"]["pages"], card["document"]["units"]) == (2, 1)
    assert card["document"]["price"] == "1.50"
    assert all(_png(side).width > _png(side).height for side in card["document"]["shown"])

    # What cannot be sent is refused as the send would refuse it; nothing was stored.
    landscape = await running.http.post(
        "/v1/messages/preview", json={**fax, "document": front, "to": FAX_NUMBER}
    )
    assert landscape.status_code == 422 and "portrait" in landscape.text
    missing = await running.http.post(
        "/v1/messages/preview", json={**fax, "document": "no-such-media", "to": FAX_NUMBER}
    )
    assert missing.status_code == 404, missing.text
    mixed = await running.http.post(
        "/v1/messages/preview",
        json={"from": "Acme", "to": FAX_NUMBER, "body": "hi", "document": fax_pdf},
    )
    assert mixed.status_code == 422 and "fax, letter and postcard" in mixed.text
    assert (await running.http.get("/v1/messages")).json()["data"] == []


async def test_tidings_send_faxes_and_posts_a_pdf(running: Running, tmp_path: Path) -> None:
    key = await accounts.create_api_key(running.service.database, running.account.id)
    env = {
        "TIDINGS_URL": f"http://127.0.0.1:{running.service.http_port}",
        "TIDINGS_API_SECRET": key.secret,
        "COLUMNS": "200",
    }
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(pdf_with_pages(["Invoice 7", "Terms"]))

    def tidings(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        return result.exit_code, result.output

    code, output = await asyncio.to_thread(
        tidings, "send", "--from", "Acme", "--to", FAX_NUMBER, "--fax", str(pdf), "--wait", "30"
    )
    assert code == 0, output
    assert output.strip().splitlines()[-1].strip() == "delivered"
    simulator = running.service.simulator
    assert simulator is not None and simulator.fax is not None and simulator.printer is not None
    [fax] = simulator.fax.tray(FAX_NUMBER)
    assert (fax.pages_total, fax.pages_sent) == (2, 2)

    address = "name=Zoë Quinn;line_1=200 George Street;city=Sydney"
    more = "state=NSW;postal_code=2000;country=AU"
    code, output = await asyncio.to_thread(
        tidings, "send", "--from", "Acme", "--letter", str(pdf), "--address", address,
        "--address", more, "--duplex", "--wait", "30",
    )  # fmt: skip
    assert code == 0, output
    [job] = simulator.printer.mailbox(MAILBOX)
    assert (job.sides, job.pages) == ("two-sided-long-edge", 4)

    # A letter needs its address; a fax its number; both are usage errors, nothing is sent.
    assert (await asyncio.to_thread(tidings, "send", "--from", "Acme", "--letter", str(pdf)))[
        0
    ] == 2
    no_number = await asyncio.to_thread(tidings, "send", "--from", "Acme", "--fax", str(pdf))
    assert no_number[0] == 2 and "--to" in no_number[1]
    bad_field = await asyncio.to_thread(
        tidings, "send", "--from", "Acme", "--letter", str(pdf), "--address", "town=Sydney"
    )
    assert bad_field[0] == 2 and "field=value" in bad_field[1]
    assert len((await running.http.get("/v1/messages")).json()["data"]) == 2


async def test_a_fax_to_a_list_goes_to_its_members_fax_numbers(running: Running) -> None:
    with_fax = await running.http.post(
        "/v1/contacts",
        json={"phone": "+61411110000", "first_name": "Ada", "fax": FAX_NUMBER},
    )
    without = await running.http.post(
        "/v1/contacts", json={"phone": "+61411110001", "first_name": "Bo", "last_name": "Lee"}
    )
    assert with_fax.status_code == without.status_code == 201, (with_fax.text, without.text)
    members = (await running.http.post("/v1/lists", json={"name": "Suppliers"})).json()
    added = await running.http.post(
        f"/v1/lists/{members['id']}/members",
        json={"contact_ids": [with_fax.json()["id"], without.json()["id"]]},
    )
    assert added.status_code == 200, added.text
    document = await _upload(running, "order.pdf", pdf_with_pages(["Order 12"]))
    answer = await running.http.post(
        "/v1/messages",
        json={"from": "Acme", "channel": "fax", "document": document, "lists": [members["id"]]},
    )
    assert answer.status_code == 202, answer.text
    sent = {entry["to"]: entry for entry in answer.json()["messages"]}
    # The member with a fax number gets the fax there, not on its phone.
    assert sent[FAX_NUMBER]["address"] == FAX_NUMBER
    refused = sent[f"contact {without.json()['id']}"]["error"]
    assert (refused["code"], refused["detail"]) == ("no_fax_number", "Bo Lee has no fax number")
    done = await running.wait_for(sent[FAX_NUMBER]["id"], FINAL)
    assert done["status"] == "delivered", done
    simulator = running.service.simulator
    assert simulator is not None and simulator.fax is not None
    assert len(simulator.fax.tray(FAX_NUMBER)) == 1


async def test_a_letter_to_a_list_is_printed_for_each_members_postal_address(
    running: Running,
) -> None:
    zoe = {"first_name": "Zoë", "last_name": "Quinn", "street": ADDRESS["line_1"]}
    max_ng = {"first_name": "Max", "last_name": "Ng", "street": "1 Collins Street"}
    contacts = [
        {"phone": "+61411110002", **zoe, "city": "Sydney", "state": "NSW", "zip": "2000"},
        {"phone": "+61411110003", **max_ng, "city": "Melbourne", "state": "VIC", "zip": "3000"},
        {"phone": "+61411110004", "first_name": "Bo", "city": "Perth"},
    ]
    for contact in contacts[:2]:
        contact["country"] = "AU"
    ids = []
    for contact in contacts:
        made = await running.http.post("/v1/contacts", json=contact)
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    members = (await running.http.post("/v1/lists", json={"name": "Customers"})).json()
    await running.http.post(f"/v1/lists/{members['id']}/members", json={"contact_ids": ids})
    document = await _upload(running, "notice.pdf", pdf_with_pages(["Price notice"]))
    answer = await running.http.post(
        "/v1/messages",
        json={"from": "Acme", "channel": "letter", "document": document, "lists": [members["id"]]},
    )
    assert answer.status_code == 202, answer.text
    sent = {entry["to"]: entry for entry in answer.json()["messages"]}
    assert sent[f"contact {ids[2]}"]["error"]["code"] == "no_postal_address"
    assert "Bo has no postal address" in sent[f"contact {ids[2]}"]["error"]["detail"]
    for name in ("Zoë Quinn", "Max Ng"):
        done = await running.wait_for(sent[name]["id"], FINAL)
        assert done["status"] == "delivered", done
        assert done["post"]["address"]["name"] == name
    printer = running.service.simulator.printer if running.service.simulator else None
    assert printer is not None
    # Each letter reached the mailbox of the address its envelope window shows.
    assert len(printer.mailbox(MAILBOX)) == 1
    assert len(printer.mailbox("max-ng-1-collins-street-melbourne-vic-3000-australia")) == 1
