"""The sftp transport: letters and postcards left for a print-and-mail house in its SFTP drop
directory, through ``net.sftp_drop`` (asyncssh).

A submit makes the print-ready PDF for the message (as the ``ipp`` transport does) and leaves
two files in the route's directory: ``<message id>.pdf`` and ``<message id>.json``, the
manifest (``net.sftp_drop.manifest``: the recipient's and the return address, media, sides,
colour, priority, pages, sheets and the PDF's SHA-256), each written under a ``.part`` name and
renamed when whole, the manifest last. The server's host key must be the route's
``host_key``. Both files written is ``sent`` (reference ``sftp:<route id>:<message id>``); a
server that cannot be reached, refuses the login or shows another host key is retried (the
letter waits while the operator mends the route, until it is too old), with the reason as the
error code.

What "delivered" means here: the house has collected the drop. SFTP carries no report back,
so the only thing the house does that the service can see is taking the manifest away
(deleting it, or moving it into folders of its own). The route lists its directory every
``collection_poll_seconds`` while it has drops waiting, and each drop whose manifest is gone
becomes ``delivered`` ("collected": from then on the letter is in the house's hands). A drop
never collected stays ``sent`` and, like any message without a report, becomes ``unknown``
after the receipt validity.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import ClassVar, Self

import structlog
from pydantic import Field, SecretStr, field_validator, model_validator

from tidings.core.channels import Channel
from tidings.core.transport_settings import RequestSettings
from tidings.dispatch.outcomes import Report, SubmitOutcome
from tidings.dispatch.transport import Claim, RequestTransport, TransportContext
from tidings.dispatch.transports.post_rendering import ready_to_print
from tidings.lifecycle import MessageStatus
from tidings.net.sftp_drop import DropFailed, SftpSettings, collected, drop_document, manifest
from tidings.net.ssh import asyncssh
from tidings.store.records import RouteRecord

__all__ = ["SFTP_KIND", "SftpDropSettings", "SftpTransport"]

log = structlog.get_logger("tidings.dispatch")

SFTP_KIND = "sftp"


class SftpDropSettings(RequestSettings):
    host: str = Field(min_length=1, max_length=255, description="the house's SFTP server")
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=200)
    password: SecretStr | None = Field(default=None, max_length=200)
    private_key: SecretStr | None = Field(
        default=None,
        max_length=20_000,
        description="an unencrypted private key (OpenSSH or PEM), instead of or besides the "
        "password",
    )
    host_key: str = Field(
        min_length=16,
        max_length=10_000,
        description="the server's public host key, the key of an ssh-keyscan line "
        "(ssh-ed25519 AAAA...): a server showing another key gets nothing",
    )
    directory: str = Field(
        default=".", min_length=1, max_length=1000, description="the drop directory"
    )
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    collection_poll_seconds: float = Field(
        default=60.0,
        ge=1,
        le=86_400,
        description="how often the directory is listed for drops the house has collected",
    )

    @field_validator("host_key")
    @classmethod
    def _readable_host_key(cls, value: str) -> str:
        value = value.strip()
        try:
            asyncssh.import_public_key(value)
        except (ValueError, asyncssh.KeyImportError):
            raise ValueError("not an SSH public key (ssh-ed25519 AAAA...)") from None
        return value

    @field_validator("private_key")
    @classmethod
    def _readable_private_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            asyncssh.import_private_key(value.get_secret_value())
        except (ValueError, asyncssh.KeyImportError):
            # Never the key itself in the message: it is a secret.
            raise ValueError("not an unencrypted SSH private key") from None
        return value

    @model_validator(mode="after")
    def _some_credential(self) -> Self:
        if self.password is None and self.private_key is None:
            raise ValueError("a password or a private_key is required")
        return self

    def connection(self) -> SftpSettings:
        return SftpSettings(
            host=self.host,
            port=self.port,
            username=self.username,
            host_key=self.host_key,
            password=self.password.get_secret_value() if self.password else None,
            private_key=self.private_key.get_secret_value() if self.private_key else None,
            directory=self.directory,
            timeout=self.timeout_seconds,
        )


def _now() -> datetime:
    return datetime.now(UTC)


class SftpTransport(RequestTransport[SftpDropSettings]):
    kind: ClassVar[str] = SFTP_KIND
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.LETTER, Channel.POSTCARD})
    settings_model: ClassVar[type[SftpDropSettings]] = SftpDropSettings

    def __init__(
        self, route: RouteRecord, settings: SftpDropSettings, context: TransportContext
    ) -> None:
        super().__init__(route, settings, context)
        self.sftp = settings.connection()
        # Message ids of the drops the house has not collected yet.
        self.waiting: set[str] = set()

    def reference(self, message_id: str) -> str:
        return f"{self.reference_prefix}{message_id}"

    async def submit(self, claim: Claim) -> SubmitOutcome:
        context = self.context
        message = claim.message
        ready = await ready_to_print(context, claim)
        if isinstance(ready, SubmitOutcome):
            return ready
        content, document = ready.content, ready.document
        body = manifest(
            message_id=message.id,
            kind=message.channel,
            document=document,
            recipient=content.address.postal(),
            return_address=None
            if content.return_address is None
            else content.return_address.postal(),
            created_at=message.created_at,
        )
        try:
            with self.handing_over():
                await drop_document(self.sftp, message.id, document.pdf, body)
        except DropFailed as failure:
            if not failure.temporary:
                # A login refused or a host key that is not the route's: the route is wrong,
                # not the letter; it waits (retried) while the operator mends the route.
                log.warning("sftp drop refused", route=self.route.name, error=failure.message)
            code = "SFTP_UNREACHABLE" if failure.temporary else "SFTP_REFUSED"
            return context.retry(claim, code, failure.message)
        claim.sent.append((1, self.reference(message.id)))
        self.waiting.add(message.id)
        self.wake_watch()
        return context.sent(claim)

    # --- following the drops until the house collects them ------------------------------------

    async def watch(self, awaiting: list[str]) -> None:
        self.waiting.update(awaiting)
        while True:
            while not self.waiting:
                await self.handed_over()
            await asyncio.sleep(self.settings.collection_poll_seconds)
            await self._look_for_collected()

    async def _look_for_collected(self) -> None:
        asked = set(self.waiting)
        try:
            gone = await collected(self.sftp, asked)
        except DropFailed as failure:
            log.warning("sftp drop not listed", route=self.route.name, error=failure.message)
            return
        at = _now()
        directory = self.settings.directory
        for message_id in gone:
            self.waiting.discard(message_id)
            self.context.report(
                Report(
                    reference=self.reference(message_id),
                    status=MessageStatus.DELIVERED,
                    state="collected",
                    error_code=None,
                    at=at,
                    detail=f"the print-and-mail house collected {message_id}.json from {directory}",
                )
            )
