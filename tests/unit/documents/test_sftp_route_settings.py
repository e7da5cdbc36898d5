"""The settings of an ``sftp`` route: checked when the route is made, secrets kept apart."""

from __future__ import annotations

import asyncssh
import pytest

from tidings.dispatch.transports.sftp import SftpDropSettings
from tidings.errors import InvalidRequest

HOST_KEY = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
CLIENT_KEY = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
BASE = {"host": "sftp.example.net", "username": "acme", "host_key": HOST_KEY}


def test_the_private_key_and_password_are_stored_apart_and_never_shown() -> None:
    settings = SftpDropSettings.checked({**BASE, "private_key": CLIENT_KEY, "password": "pw"})
    shown, hidden = settings.stored()
    assert hidden == {"private_key": CLIENT_KEY, "password": "pw"}
    assert "PRIVATE KEY" not in repr(shown) and "pw" not in shown.values()
    assert settings.connection().private_key == CLIENT_KEY
    assert (shown["port"], shown["directory"], shown["collection_poll_seconds"]) == (22, ".", 60)


def test_a_route_without_a_password_or_key_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="a password or a private_key is required"):
        SftpDropSettings.checked(BASE)


def test_a_host_key_that_is_not_one_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        SftpDropSettings.checked({**BASE, "password": "pw", "host_key": "AAAA" * 10})
    assert caught.value.field == "settings.host_key"


def test_an_unreadable_private_key_is_refused_without_being_repeated() -> None:
    broken = CLIENT_KEY.replace("b3BlbnNzaC1rZXk", "XXXXXXXXXXXXXXX")
    with pytest.raises(InvalidRequest) as caught:
        SftpDropSettings.checked({**BASE, "private_key": broken})
    assert caught.value.field == "settings.private_key"
    assert "XXXX" not in str(caught.value) and "PRIVATE" not in str(caught.value)
