"""Letters from POST /v1/messages to real CUPS: an ``ipp`` route made through /v1/routes to the
cups-pdf printer that ``.ci/run`` sets up, the dispatcher's Print-Job, the job followed to
completed by the transport, and the PDF CUPS wrote read back with poppler's pdftotext: the
address sits in the envelope window's field of page 1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.document_samples import pdf_with_pages
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
            channels=["letter"],
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
