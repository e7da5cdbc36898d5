"""The drop a print-and-mail house collects from: each letter's PDF and its manifest, by SFTP.

For each letter or postcard two files go into the house's directory, named after the message
id: ``<id>.pdf`` and ``<id>.json``, the manifest (:func:`manifest`) that says where it goes and
how to print it. Each is written under a ``.part`` name and renamed when whole, the manifest
last: a house that picks up manifests never finds one whose PDF is missing or half-written.
The server's host key is checked against the one configured; there is no trust on first use,
and nothing of the service user's ``~/.ssh`` is read.

The house collects a drop by taking its manifest out of the directory (deleting it or moving
it to folders of its own): :func:`collected` lists the directory once and tells which drops
are gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from tidings.documents.address import PostalAddress
from tidings.documents.printing import PrintDocument
from tidings.errors import TidingsError
from tidings.net.ssh import asyncssh

__all__ = ["DropFailed", "SftpSettings", "collected", "drop_document", "manifest"]

MANIFEST_VERSION = 1


class DropFailed(TidingsError):
    """The document could not be left on the SFTP server."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True, slots=True)
class SftpSettings:
    host: str
    port: int
    username: str
    #: The server's public host key (OpenSSH format, ``ssh-ed25519 AAAA…``).
    host_key: str
    password: str | None = None
    #: A private key (OpenSSH PEM) instead of, or besides, the password.
    private_key: str | None = None
    directory: str = "."
    timeout: float = 30.0


def manifest(
    *,
    message_id: str,
    kind: str,
    document: PrintDocument,
    recipient: PostalAddress,
    return_address: PostalAddress | None,
    created_at: datetime,
) -> bytes:
    """The manifest of one mail piece, as JSON."""
    attributes = document.attributes
    body = {
        "version": MANIFEST_VERSION,
        "message_id": message_id,
        "kind": kind,
        "created_at": created_at.isoformat(),
        "file": f"{message_id}.pdf",
        "sha256": hashlib.sha256(document.pdf).hexdigest(),
        "pages": document.pages,
        "sheets": document.sheets,
        "media": attributes.media,
        "sides": str(attributes.sides),
        "colour": attributes.color,
        "priority": attributes.priority,
        "recipient": asdict(recipient),
        "return_address": asdict(return_address) if return_address else None,
    }
    return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")


async def _put(sftp: asyncssh.SFTPClient, path: str, data: bytes) -> None:
    part = f"{path}.part"
    async with sftp.open(part, "wb") as file:
        await file.write(data)
    # POSIX rename replaces a file left by an earlier, interrupted attempt.
    if await sftp.exists(path):
        await sftp.remove(path)
    await sftp.rename(part, path)


def _host_key(settings: SftpSettings) -> asyncssh.SSHKey:
    try:
        return asyncssh.import_public_key(settings.host_key)
    except (ValueError, asyncssh.KeyImportError) as error:
        raise DropFailed(
            f"the route's SFTP host key cannot be read: {error}", temporary=False
        ) from error


@contextlib.asynccontextmanager
async def _session(settings: SftpSettings) -> AsyncIterator[asyncssh.SFTPClient]:
    """An SFTP session with the house, its failures as :class:`DropFailed`."""
    # The one key trusted, whatever name or address the server is reached by: (host keys, CA
    # keys, revoked keys), as asyncssh takes a known_hosts match.
    known: tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]] = (
        [_host_key(settings)],
        [],
        [],
    )
    try:
        keys = [asyncssh.import_private_key(settings.private_key)] if settings.private_key else []
    except (ValueError, asyncssh.KeyImportError) as error:
        raise DropFailed(
            f"the route's SSH private key cannot be read: {type(error).__name__}", temporary=False
        ) from None
    try:
        async with (
            asyncssh.connect(
                settings.host,
                settings.port,
                username=settings.username,
                password=settings.password,
                client_keys=keys or None,
                known_hosts=known,
                connect_timeout=settings.timeout,
                # Only what the route says: nothing of the service user's ~/.ssh (config,
                # keys, agent, X.509 CAs).
                agent_path=None,
                config=[],
                x509_trusted_certs=None,
            ) as connection,
            connection.start_sftp_client() as sftp,
        ):
            yield sftp
    except asyncssh.PermissionDenied as error:
        raise DropFailed(f"the SFTP server refused the login: {error}", temporary=False) from error
    except asyncssh.HostKeyNotVerifiable as error:
        raise DropFailed(
            f"the SFTP server's host key is not the one configured: {error}", temporary=False
        ) from error
    except asyncssh.SFTPError as error:
        raise DropFailed(f"SFTP: {error}", temporary=True) from error
    except (asyncssh.Error, OSError, TimeoutError) as error:
        raise DropFailed(f"{type(error).__name__}: {error}", temporary=True) from error


def _directory(settings: SftpSettings) -> str:
    return settings.directory.rstrip("/") or "/"


async def drop_document(settings: SftpSettings, message_id: str, pdf: bytes, body: bytes) -> None:
    """Leave ``<id>.pdf`` then ``<id>.json`` in the house's directory."""
    directory = _directory(settings)
    async with _session(settings) as sftp:
        await _put(sftp, f"{directory}/{message_id}.pdf", pdf)
        await _put(sftp, f"{directory}/{message_id}.json", body)


async def collected(settings: SftpSettings, message_ids: Iterable[str]) -> set[str]:
    """Which of ``message_ids`` the house has collected: their manifest is no longer in the
    directory (taken away, moved to the house's own folders). One listing, whatever the count."""
    async with _session(settings) as sftp:
        names = set(await sftp.listdir(_directory(settings)))
    return {i for i in message_ids if f"{i}.json" not in names}
