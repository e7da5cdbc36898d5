"""The embedded print-and-mail house: an SFTP server (asyncssh) that takes drops as the
``sftp`` route leaves them (``<message id>.pdf``, then ``<message id>.json``, the manifest),
and collects each from its drop directory as a house does, taking both files away, which the
route sees as delivered. What it collects is printed on the printer simulator and filed by its
mail room in the address's mailbox (``/v1/simulator/post``), beside the letters that came by
IPP.

It logs in one user with a password and serves only its own directory (a temporary one,
chrooted); its host key is made at each start and given to the route (``host_key``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import structlog

from tidings.net.ssh import asyncssh
from tidings.simulator.printer import PrinterSimulator

__all__ = ["PrintHouse", "PrintHouseConfig"]

log = structlog.get_logger("tidings.simulator")


@dataclass(frozen=True, slots=True)
class PrintHouseConfig:
    host: str = "127.0.0.1"
    port: int = 0
    username: str = "tidings"
    password: str = "simulator"
    #: The drop directory, as the SFTP client sees it (the server's root is its own).
    directory: str = "/drop"
    #: How often the house looks for drops to collect.
    collect_seconds: float = 0.5


class _Login(asyncssh.SSHServer):
    def __init__(self, config: PrintHouseConfig) -> None:
        self._config = config

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        config = self._config
        return username == config.username and hmac.compare_digest(
            password.encode(), config.password.encode()
        )


class PrintHouse:
    """See the module docstring."""

    def __init__(self, config: PrintHouseConfig, printer: PrinterSimulator) -> None:
        self.config = config
        self.printer = printer
        self._key = asyncssh.generate_private_key("ssh-ed25519")
        self._root: tempfile.TemporaryDirectory[str] | None = None
        self._server: asyncssh.SSHAcceptor | None = None
        self._collector: asyncio.Task[None] | None = None
        #: Message ids of the drops collected, oldest first.
        self.collected: list[str] = []

    @property
    def host_key(self) -> str:
        """The server's public host key, as the route pins it."""
        return self._key.export_public_key().decode().strip()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the print house is not running")
        return self._server.get_port()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def drop(self) -> Path:
        if self._root is None:
            raise RuntimeError("the print house is not running")
        return Path(self._root.name) / self.config.directory.strip("/")

    async def start(self) -> None:
        self._root = tempfile.TemporaryDirectory(prefix="tidings-print-house-")
        root = self._root.name
        self.drop.mkdir(parents=True, exist_ok=True)
        config = self.config
        self._server = await asyncssh.create_server(
            lambda: _Login(config),
            config.host,
            config.port,
            server_host_keys=[self._key],
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=root.encode()),
        )
        self._collector = asyncio.get_running_loop().create_task(self._collect_forever())

    async def stop(self) -> None:
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collector
            self._collector = None
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            await server.wait_closed()
        if self._root is not None:
            self._root.cleanup()
            self._root = None

    async def _collect_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.collect_seconds)
            try:
                self.collect()
            except Exception:  # one bad drop must not stop the house
                log.exception("print house could not collect")

    def collect(self) -> list[str]:
        """Take every whole drop (a manifest and the PDF it names) out of the directory and
        print it; the message ids taken."""
        taken = []
        for manifest_path in sorted(self.drop.glob("*.json")):
            try:
                manifest = json.loads(manifest_path.read_bytes())
                name = Path(str(manifest["file"])).name  # never outside the drop
                pdf = (self.drop / name).read_bytes()
            except (OSError, ValueError, KeyError, TypeError) as error:
                log.warning("print house left a drop", manifest=manifest_path.name, error=error)
                continue
            message_id = manifest_path.stem
            self.printer.take_drop(str(manifest.get("message_id") or message_id), pdf, manifest)
            (self.drop / name).unlink(missing_ok=True)
            manifest_path.unlink(missing_ok=True)
            self.collected.append(message_id)
            taken.append(message_id)
        return taken
