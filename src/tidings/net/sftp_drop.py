"""The drop a print-and-mail house collects from: each letter's PDF and its manifest, by SFTP.

For each letter or postcard two files go into the house's directory, named after the message
id: ``<id>.pdf`` and ``<id>.json``, the manifest (:func:`manifest`) that says where it goes and
how to print it. Each is written under a ``.part`` name and renamed when whole, the manifest
last: a house that picks up manifests never finds one whose PDF is missing or half-written.
The server's host key is checked against the one configured (``known_hosts`` line or key);
there is no trust on first use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

import asyncssh

from tidings.documents.address import PostalAddress
from tidings.documents.printing import PrintDocument
from tidings.errors import TidingsError

__all__ = ["DropFailed", "SftpSettings", "drop_document", "manifest"]

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


async def drop_document(settings: SftpSettings, message_id: str, pdf: bytes, body: bytes) -> None:
    """Leave ``<id>.pdf`` then ``<id>.json`` in the house's directory."""
    try:
        known = asyncssh.import_known_hosts(
            f"[{settings.host}]:{settings.port} {settings.host_key}"
        )
    except (ValueError, asyncssh.KeyImportError) as error:
        raise DropFailed(
            f"the route's SFTP host key cannot be read: {error}", temporary=False
        ) from error
    keys = [asyncssh.import_private_key(settings.private_key)] if settings.private_key else []
    directory = settings.directory.rstrip("/") or "/"
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
                agent_path=None,
            ) as connection,
            connection.start_sftp_client() as sftp,
        ):
            await _put(sftp, f"{directory}/{message_id}.pdf", pdf)
            await _put(sftp, f"{directory}/{message_id}.json", body)
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
