"""Letters from POST /v1/messages to a print-and-mail house's SFTP drop on OpenSSH's sshd and
sftp-server: an ``sftp`` route made through /v1/routes with a pinned host key and a private
key, the PDF and its manifest read back from sshd's directory (poppler's pdftotext, pypdf),
and the letter delivered once the house has collected it, by the next process of the service
when the house took it while none ran."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path

import asyncssh
import pypdf
import pytest

from tests.document_samples import pdf_with_pages
from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tests.integration.documents.test_documents_end_to_end import ADDRESS
from tests.interop.documents.conftest import OpenSshServer
from tests.interop.documents.tools import MM, pdf_words
from tidings.net.sftp_drop import DropFailed, SftpSettings, drop_document

pytestmark = pytest.mark.interop


def route_settings(server: OpenSshServer) -> dict[str, object]:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "username": server.user,
        "private_key": server.client_key,
        "host_key": server.host_key,
        "directory": str(server.drop),
        "collection_poll_seconds": 1,
    }


async def send_letter(running: Running) -> str:
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
            "colour": True,
        },
    )
    assert sent.status_code == 202, sent.text
    [entry] = sent.json()["messages"]
    message_id: str = entry["id"]
    # The house has not collected it yet: sent, its files whole in sshd's directory.
    await running.wait_for(message_id, {"sent", "delivered", "failed", "rejected"})
    assert (await running.message(message_id))["status"] == "sent"
    return message_id


def collect(server: OpenSshServer) -> None:
    """What the house does with a drop it has taken: it leaves the directory."""
    for path in server.drop.iterdir():
        path.unlink()


@pytest.mark.slow
async def test_a_letter_lands_whole_in_the_sftp_drop_and_is_delivered_once_collected(
    tmp_path: Path, database_url: str, openssh: OpenSshServer
) -> None:
    settings = service_settings(tmp_path, database_url)
    async with running_service(settings) as first:
        route = await first.add_route(
            name="acme-mail",
            kind="sftp",
            settings=route_settings(openssh),
            channels=["letter"],
            is_default=True,
        )
        # The private key is a secret: stored, never shown back.
        assert "PRIVATE KEY" not in json.dumps(route)
        assert "private_key" not in route["settings"]

        message_id = await send_letter(first)
        assert sorted(p.name for p in openssh.drop.iterdir()) == [
            f"{message_id}.json",
            f"{message_id}.pdf",
        ]
        pdf_path = openssh.drop / f"{message_id}.pdf"
        pdf = pdf_path.read_bytes()
        written = json.loads((openssh.drop / f"{message_id}.json").read_text("utf-8"))
        assert written["message_id"] == message_id
        assert written["kind"] == "letter"
        assert written["file"] == f"{message_id}.pdf"
        assert written["sha256"] == hashlib.sha256(pdf).hexdigest()
        assert written["recipient"]["name"] == "Zoë Quinn"
        assert written["recipient"]["postal_code"] == "2000"
        assert (written["colour"], written["sides"]) == (True, "one-sided")
        # Without template_used an address sheet goes before the letter's two pages.
        assert written["pages"] == len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 3

        sheet = pdf_words(pdf_path, 1)
        quinn = [w for w in sheet if w.text == "Quinn"]
        assert quinn, [w.text for w in sheet]
        # In the DIN 5008 window field: 20 mm from the left, 45 mm from the top, 85×45 mm.
        assert 19 <= quinn[0].left / MM <= 105
        assert 45 <= quinn[0].top / MM <= 90
        assert "Dear" in [w.text for w in pdf_words(pdf_path, 2)]

        collect(openssh)
        done = await first.wait_for(message_id, {"delivered", "failed", "rejected"})
        assert done["status"] == "delivered", done
        assert any("collected" in (e.get("detail") or "") for e in done["history"]), done

        # A letter the house takes while no process of the service runs...
        waiting = await send_letter(first)
        account = first.account
    collect(openssh)
    # ...is delivered by the next one, which lists the drops its predecessor left.
    async with running_service(settings, account=account) as second:
        done = await second.wait_for(waiting, {"delivered", "failed", "rejected"})
        assert done["status"] == "delivered", done


async def test_an_sshd_showing_another_host_key_gets_nothing(openssh: OpenSshServer) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    settings = SftpSettings(
        host="127.0.0.1",
        port=openssh.port,
        username=openssh.user,
        host_key=other,
        private_key=openssh.client_key,
        directory=str(openssh.drop),
        timeout=30.0,
    )
    with pytest.raises(DropFailed) as caught:
        await drop_document(settings, "m1", b"%PDF-1.7", b"{}")
    assert "host key" in caught.value.message
    assert list(openssh.drop.iterdir()) == []

    # The same drop with sshd's own key goes through.
    pinned = dataclasses.replace(settings, host_key=openssh.host_key)
    await drop_document(pinned, "m1", b"%PDF-1.7", b"{}")
    assert sorted(p.name for p in openssh.drop.iterdir()) == ["m1.json", "m1.pdf"]
