"""The real servers the document interop tests print through and drop letters on: CUPS, and
OpenSSH's sshd with its sftp-server."""

from __future__ import annotations

import asyncio
import os
import pwd
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import httpx
import pytest

from tests.interop.harness import peer_unavailable
from tests.ports import free_port


@pytest.fixture
async def cups() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        try:
            response = await http.get("http://127.0.0.1:631/printers/PDF")
        except httpx.HTTPError:
            peer_unavailable("CUPS is not running on 127.0.0.1:631 (.ci/run starts cupsd)")
        if response.status_code != 200:
            peer_unavailable("CUPS has no printer PDF (lpadmin -p PDF -v cups-pdf:/ ...)")
        yield http


@dataclass(frozen=True)
class OpenSshServer:
    """OpenSSH's sshd with its sftp-server, run by the test on a port of its own."""

    port: int
    user: str
    #: The server's public host key (``ssh-ed25519 AAAA...``), to pin.
    host_key: str
    #: The private key whose public half is the user's one authorized key.
    client_key: str
    #: An empty directory the user may write: the house's drop.
    drop: Path


SSHD = Path("/usr/sbin/sshd")
SFTP_SERVER = Path("/usr/lib/openssh/sftp-server")


def _sshd_home(tmp_path: Path) -> tuple[Path, OpenSshServer]:
    """sshd's own configuration, keys and drop directory under ``tmp_path``; nothing of the
    system's /etc/ssh."""
    if not SSHD.exists() or not SFTP_SERVER.exists():
        peer_unavailable("OpenSSH's sshd is not installed (Debian package openssh-server)")
    home = tmp_path / "sshd"
    drop = home / "drop"
    drop.mkdir(parents=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(home / "host_key")
    (home / "host_key").chmod(0o600)  # sshd ignores a host key others may read
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key.write_public_key(home / "authorized_keys")
    # Whoever runs the tests logs in as themselves: sshd as root may become any user, and as
    # anyone else only that user.
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.geteuid() == 0:
        # sshd as root wants its privilege separation directory (systemd makes it, not here).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port = free_port()
    config = home / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress 127.0.0.1:{port}",
                f"HostKey {home / 'host_key'}",
                f"AuthorizedKeysFile {home / 'authorized_keys'}",
                "PidFile none",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                f"AllowUsers {user}",
                # pytest's temporary directories are not the user's home: no owner checks.
                "StrictModes no",
                f"Subsystem sftp {SFTP_SERVER}",
                "",
            ]
        )
    )
    server = OpenSshServer(
        port=port,
        user=user,
        host_key=host_key.export_public_key().decode().strip(),
        client_key=client_key.export_private_key().decode(),
        drop=drop,
    )
    return config, server


@pytest.fixture
async def openssh(tmp_path: Path) -> AsyncIterator[OpenSshServer]:
    config, server = _sshd_home(tmp_path)
    log_path = config.with_name("sshd.log")
    with log_path.open("wb") as log:
        # sshd re-executes itself, so it wants its absolute path; -D stays in the foreground,
        # -e logs to stderr (into sshd.log).
        process = await asyncio.create_subprocess_exec(
            str(SSHD), "-D", "-e", "-f", str(config), stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 30
        while b"Server listening" not in log_path.read_bytes():
            if process.returncode is not None or time.monotonic() > deadline:
                pytest.fail(f"sshd did not start: {log_path.read_text(errors='replace')}")
            await asyncio.sleep(0.05)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
