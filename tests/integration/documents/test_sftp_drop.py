"""Letters left for a print-and-mail house on a real SFTP server (asyncssh's, run here)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncssh
import pytest

from tests.document_samples import pdf_with_pages
from tests.ports import free_port
from tidings.documents.address import PostalAddress
from tidings.documents.letter import render_letter
from tidings.net.sftp_drop import DropFailed, SftpSettings, drop_document, manifest

RECIPIENT = PostalAddress("Zoë Quinn", "200 George Street", "", "Sydney", "NSW", "2000", "AU")
SENDER = PostalAddress("Acme Pty Ltd", "1 Example Lane", "", "Melbourne", "VIC", "3000", "AU")


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == ("house", "s3cret")


@dataclass
class House:
    port: int
    root: Path
    host_key: str


@pytest.fixture
async def house(tmp_path: Path) -> AsyncIterator[House]:
    root = tmp_path / "sftp"
    (root / "inbox").mkdir(parents=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    port = free_port()
    server = await asyncssh.create_server(
        _Server,
        "127.0.0.1",
        port,
        server_host_keys=[key],
        sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root).encode()),
    )
    yield House(port, root, key.export_public_key().decode().strip())
    server.close()
    await server.wait_closed()


def settings(house: House, **changes: str) -> SftpSettings:
    values = {
        "host": "127.0.0.1",
        "port": house.port,
        "username": "house",
        "password": "s3cret",
        "host_key": house.host_key,
        "directory": "/inbox",
        "timeout": 10.0,
    }
    values.update(changes)
    return SftpSettings(**values)  # type: ignore[arg-type]


async def test_the_pdf_and_its_manifest_land_whole_in_the_house_directory(house: House) -> None:
    letter = render_letter(
        pdf_with_pages(["Dear Zoë,"]),
        recipient=RECIPIENT,
        return_address=SENDER,
        template_used=False,
        colour=True,
        duplex=True,
        priority=True,
    )
    body = manifest(
        message_id="01HZXLETTER",
        kind="letter",
        document=letter,
        recipient=RECIPIENT,
        return_address=SENDER,
        created_at=datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
    )

    await drop_document(settings(house), "01HZXLETTER", letter.pdf, body)

    inbox = house.root / "inbox"
    assert sorted(p.name for p in inbox.iterdir()) == ["01HZXLETTER.json", "01HZXLETTER.pdf"]
    assert (inbox / "01HZXLETTER.pdf").read_bytes() == letter.pdf
    written = json.loads((inbox / "01HZXLETTER.json").read_text("utf-8"))
    assert written["sha256"] == hashlib.sha256(letter.pdf).hexdigest()
    assert written["recipient"]["name"] == "Zoë Quinn"
    assert written["return_address"]["city"] == "Melbourne"
    assert (written["colour"], written["priority"], written["sides"]) == (
        True,
        True,
        "two-sided-long-edge",
    )
    assert (written["pages"], written["sheets"], written["media"]) == (3, 2, "iso_a4_210x297mm")

    # A second drop of the same message (a retry) replaces the files.
    await drop_document(settings(house), "01HZXLETTER", b"%PDF-again", body)
    assert (inbox / "01HZXLETTER.pdf").read_bytes() == b"%PDF-again"
    assert sorted(p.name for p in inbox.iterdir()) == ["01HZXLETTER.json", "01HZXLETTER.pdf"]


async def test_a_wrong_password_is_a_permanent_failure(house: House) -> None:
    with pytest.raises(DropFailed) as caught:
        await drop_document(settings(house, password="nope"), "m1", b"%PDF", b"{}")
    assert caught.value.temporary is False
    assert "refused the login" in caught.value.message


async def test_a_server_with_another_host_key_gets_nothing(house: House) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    with pytest.raises(DropFailed) as caught:
        await drop_document(settings(house, host_key=other), "m1", b"%PDF", b"{}")
    assert caught.value.temporary is False
    assert list((house.root / "inbox").iterdir()) == []


async def test_a_directory_that_is_not_there_is_temporary(house: House) -> None:
    with pytest.raises(DropFailed) as caught:
        await drop_document(settings(house, directory="/missing"), "m1", b"%PDF", b"{}")
    assert caught.value.temporary is True


async def test_a_server_that_is_down_is_temporary(house: House) -> None:
    with pytest.raises(DropFailed) as caught:
        await drop_document(settings(house, port=str(free_port())), "m1", b"%PDF", b"{}")  # type: ignore[arg-type]
    assert caught.value.temporary is True
