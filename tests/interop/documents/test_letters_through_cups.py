"""Letters and postcards from POST /v1/messages to real CUPS: an ``ipp`` route made through
/v1/routes to the cups-pdf printer that ``.ci/run`` sets up, the dispatcher's Print-Job, the job
followed to completed by the transport, and the PDF CUPS wrote read back with poppler's
pdftotext: the address sits in the envelope window's field of a letter's page 1, or in the
address block on a card's back."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pypdf
import pytest

from tests.document_samples import pdf_with_pages, postcard_side
from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tests.integration.documents.test_documents_end_to_end import ADDRESS
from tests.interop.documents.test_cups import PRINTER_URI, written_by_cups
from tests.interop.documents.tools import MM, pdf_words

pytestmark = pytest.mark.interop

FINAL = frozenset({"delivered", "failed", "rejected"})


@pytest.fixture
async def running(
    tmp_path: Path, database_url: str, cups: httpx.AsyncClient
) -> AsyncIterator[Running]:
    async with running_service(service_settings(tmp_path, database_url)) as service:
        await service.add_route(
            name="cups",
            kind="ipp",
            settings={"printer_uri": PRINTER_URI},
            channels=["letter", "postcard"],
            is_default=True,
        )
        yield service


async def test_a_letter_sent_through_the_api_is_printed_by_cups_with_its_address_in_the_window(
    running: Running,
) -> None:
    uploaded = await running.http.post(
        "/v1/media",
        files={
            "file": ("letter.pdf", pdf_with_pages(["Dear Zoë,", "Kind regards"]), "application/pdf")
        },
    )
    assert uploaded.status_code == 201, uploaded.text
    sent = await running.http.post(
        "/v1/messages",
        json={
            "from": "Acme",
            "channel": "letter",
            "document": uploaded.json()["id"],
            "address": ADDRESS,
            "template_used": True,
            "duplex": True,
        },
    )
    assert sent.status_code == 202, sent.text
    [entry] = sent.json()["messages"]
    done = await running.wait_for(entry["id"], FINAL)
    assert done["status"] == "delivered", done
    # CUPS said so: the job's final state is in the history.
    assert any("completed" in (e.get("detail") or "") for e in done["history"]), done

    # cups-pdf names its file after the job's name: our message id.
    printed = written_by_cups(entry["id"], time.monotonic() + 30)
    try:
        words = pdf_words(printed, 1)
        quinn = [w for w in words if w.text == "Quinn"]
        assert quinn, [w.text for w in words]
        # In the DIN 5008 window field (20 mm from the left, 45 mm + the return line from the
        # top), on the letter's own first page (template_used): no address sheet before it.
        assert 19 <= quinn[0].left / MM <= 105
        assert 45 + 17.7 - 1 <= quinn[0].top / MM <= 90
        assert "Dear" in [w.text for w in words]
    finally:
        printed.unlink()


async def test_a_postcard_sent_through_the_api_is_printed_by_cups_with_the_address_on_its_back(
    running: Running,
) -> None:
    sides = []
    for name, text in (
        ("front.pdf", "Greetings from Helsinki"),
        ("back.pdf", "Wish you were here"),
    ):
        uploaded = await running.http.post(
            "/v1/media", files={"file": (name, postcard_side(text), "application/pdf")}
        )
        assert uploaded.status_code == 201, uploaded.text
        sides.append(uploaded.json()["id"])
    sent = await running.http.post(
        "/v1/messages",
        json={
            "from": "Acme",
            "channel": "postcard",
            "document": sides[0],
            "back": sides[1],
            "address": ADDRESS,
        },
    )
    assert sent.status_code == 202, sent.text
    [entry] = sent.json()["messages"]
    done = await running.wait_for(entry["id"], FINAL)
    assert done["status"] == "delivered", done

    printed = written_by_cups(entry["id"], time.monotonic() + 30)
    try:
        pages = pypdf.PdfReader(printed).pages
        assert len(pages) == 2
        # A6 paper, the card on it as a landscape page: cups-pdf writes portrait A6 turned a
        # quarter (/Rotate), which is the same card as shown and as pdftotext reads it.
        page = pages[0]
        size = (float(page.mediabox.width) / MM, float(page.mediabox.height) / MM)
        if page.rotation % 180:
            size = (size[1], size[0])
        assert (round(size[0]), round(size[1])) == (148, 105), size
        assert "Greetings" in [w.text for w in pdf_words(printed, 1)]
        back = pdf_words(printed, 2)
        quinn = [w for w in back if w.text == "Quinn"]
        assert quinn, [w.text for w in back]
        # In the address block on the right half of the back (78-142 mm from the left, 40-98
        # mm from the top), beside the sender's own message on the left.
        assert 78 <= quinn[0].left / MM <= 142
        assert 40 <= quinn[0].top / MM <= 98
        assert "Wish" in [w.text for w in back]
    finally:
        printed.unlink()
