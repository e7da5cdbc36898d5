"""Media use cases: keep a file an account uploads or names by URL, convert it to fit a route
(once; the conversion is kept), and hand it out by signed, expiring URL.

The bytes live in the database (``store/media.py``), so every API and dispatcher process on
PostgreSQL reads the same media. URLs that leave the service (to carriers, handsets, webhook
receivers) are signed with the server's media key and expire; the content endpoint checks the
signature and nothing else.

What no message uses is removed after the retention period (:meth:`MediaLibrary.collect_unused`,
run by every dispatching process: :func:`collect_periodically`).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import structlog

from tidings.config import Settings
from tidings.core.accounts import utcnow
from tidings.core.secrets import SecretSource
from tidings.errors import InvalidRequest, NotFound
from tidings.events.errors import RefusedTarget
from tidings.events.fetch import FetchTooLarge, fetch_file
from tidings.events.ssrf import Resolver, TargetPolicy, getaddrinfo_resolver
from tidings.media import signing
from tidings.media.convert import Converted, Converter, Target, image_info
from tidings.media.detect import MediaKind, detect
from tidings.media.errors import ConversionUnavailable, MediaTooLarge, UnsupportedMedia
from tidings.store import media as store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.media import BlobContent, MediaRecord

log = structlog.get_logger("tidings.core.media")

# Media objects removed per transaction, so that a collection never holds the database long.
_COLLECT_BATCH = 500

_ACCEPTED_NAMES = "JPEG, PNG, GIF, WebP, BMP, TIFF, MP3, AMR, AAC, M4A, OGG, WAV, FLAC, MP4, 3GP, "
_ACCEPTED_NAMES += "MOV, WebM, MKV, AVI, MPEG, PDF, Word, Excel, PowerPoint, OpenDocument, RTF, "
_ACCEPTED_NAMES += "vCard, iCalendar, plain text"


# The path of a signed content URL (``media.signing.media_url``), wherever it is served from.
_CONTENT_PATH = re.compile(r".*/v1/media/([0-9A-Z]{26})/content")


class MediaNotFound(NotFound):
    """No such media."""


@dataclass(frozen=True, slots=True)
class FittedMedia:
    """A media object as one route will send it."""

    media_id: str
    sha256: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    data: bytes


@dataclass(frozen=True, slots=True)
class SignedUrl:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Collected:
    """What one collection removed: media objects (with their conversions), conversions made
    before the cutoff, and blobs nothing was over any more."""

    media: int
    variants: int
    blobs: int


class MediaLibrary:
    """Media for the API and the dispatcher; one per process, made where the settings are."""

    def __init__(
        self,
        database: Database,
        *,
        secrets: SecretSource,
        converter: Converter,
        policy: TargetPolicy,
        max_bytes: int,
        url_ttl_seconds: float,
        fetch_timeout_seconds: float = 30.0,
        resolver: Resolver = getaddrinfo_resolver,
        retention_seconds: float = 30 * 24 * 3600.0,
    ) -> None:
        self.database = database
        self.converter = converter
        self.max_bytes = max_bytes
        self.url_ttl_seconds = url_ttl_seconds
        self.retention_seconds = retention_seconds
        self.secrets = secrets
        self._policy = policy
        # Conversions under way, by media and target: the workers sending one file wait for one.
        self._conversions: dict[tuple[str, str], asyncio.Lock] = {}
        self._fetch_timeout = fetch_timeout_seconds
        self._resolver = resolver

    async def keep(
        self,
        account_id: str,
        data: bytes,
        *,
        filename: str | None = None,
        source_url: str | None = None,
        max_bytes: int | None = None,
    ) -> MediaRecord:
        """Store ``data`` for the account (once: the same bytes again give the same object), if
        it is within ``max_bytes`` (a route's limit), else the server's."""
        self.check_size(len(data), max_bytes)
        detected = detect(data)
        if detected is None:
            raise UnsupportedMedia(
                "The file's type, read from its bytes, is not one tidings takes "
                f"({_ACCEPTED_NAMES})."
            )
        width = height = duration_ms = None
        if detected.kind is MediaKind.IMAGE:
            info = image_info(data)
            if info is not None:
                width, height = info.width, info.height
        elif detected.kind in (MediaKind.AUDIO, MediaKind.VIDEO):
            try:
                probe = await self.converter.probe(data, detected)
            except ConversionUnavailable:
                pass  # kept all the same; only its duration is unknown
            else:
                width, height, duration_ms = probe.width, probe.height, probe.duration_ms
        sha256 = hashlib.sha256(data).hexdigest()
        now = utcnow()
        record = MediaRecord(
            id=new_id(),
            account_id=account_id,
            sha256=sha256,
            content_type=detected.content_type,
            size=len(data),
            filename=_clean_filename(filename),
            source_url=source_url,
            width=width,
            height=height,
            duration_ms=duration_ms,
            created_at=now,
        )
        async with self.database.write() as connection:
            await store.keep_blob(connection, sha256, data, now)
            return await store.insert_media_unless_present(connection, record)

    def check_size(self, size: int, max_bytes: int | None = None) -> None:
        """Refuse a file over ``max_bytes`` (a route's limit), else over the server's."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        if size > limit:
            raise MediaTooLarge(f"The file is {size:,} bytes; at most {limit:,} are taken.")

    async def fetch(
        self, account_id: str, url: str, *, max_bytes: int | None = None
    ) -> MediaRecord:
        """Download ``url`` (under the SSRF guard, and given up past ``max_bytes``, a route's
        limit, else the server's) and keep it."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        try:
            data = await fetch_file(
                url,
                self._policy,
                max_bytes=limit,
                timeout=self._fetch_timeout,
                resolver=self._resolver,
            )
        except RefusedTarget as error:
            raise InvalidRequest(error.message, field="url") from None
        except FetchTooLarge:
            raise MediaTooLarge(
                f"The file at {url} is larger than {limit:,} bytes.", field="url"
            ) from None
        name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
        return await self.keep(account_id, data, filename=name, source_url=url, max_bytes=limit)

    async def resolve(
        self, account_id: str, reference: str, *, max_bytes: int | None = None
    ) -> MediaRecord:
        """The media a client names: one of its media ids, one of our own signed URLs (any
        account's: the signature is the permission, and the bytes become this account's media
        without a download), or any other http(s) URL, fetched under the SSRF guard; each
        within ``max_bytes`` (a route's limit) when given."""
        reference = reference.strip()
        if not reference.lower().startswith(("http://", "https://")):
            record = await self.get(account_id, reference)
        else:
            own = await self._own_signed(reference)
            if own is None:
                return await self.fetch(account_id, reference, max_bytes=max_bytes)
            record = own
            if own.account_id != account_id:
                self.check_size(own.size, max_bytes)
                record = await self.keep(
                    account_id,
                    await self.content(own),
                    filename=own.filename,
                    source_url=reference,
                )
        if max_bytes is not None:
            self.check_size(record.size, max_bytes)
        return record

    async def _own_signed(self, url: str) -> MediaRecord | None:
        parts = urlsplit(url)
        match = _CONTENT_PATH.fullmatch(parts.path)
        if match is None:
            return None
        query = dict(parse_qsl(parts.query))
        try:
            expires = int(query.get("expires", ""))
        except ValueError:
            return None
        key = await self.secrets.derive(signing.PURPOSE)
        media_id = match[1]
        variant = query.get("variant", "")
        if not signing.verify(
            key,
            media_id,
            expires=expires,
            signature=query.get("sig", ""),
            variant=variant,
            now=time.time(),
        ):
            return None
        async with self.database.read() as connection:
            return await store.find_media_any_account(connection, media_id)

    async def get(self, account_id: str, media_id: str) -> MediaRecord:
        async with self.database.read() as connection:
            found = await store.find_media(connection, account_id, media_id)
        if found is None:
            raise MediaNotFound(f"No media {media_id}.")
        return found

    async def page(self, account_id: str, *, before: str | None, limit: int) -> list[MediaRecord]:
        async with self.database.read() as connection:
            return await store.list_media(connection, account_id, before=before, limit=limit)

    async def content(self, record: MediaRecord) -> bytes:
        async with self.database.read() as connection:
            data = await store.read_blob(connection, record.sha256)
        if data is None:
            raise MediaNotFound(f"No media {record.id}.")
        return data

    async def fitted(self, record: MediaRecord, target: Target) -> FittedMedia:
        """``record`` converted for ``target``: converted once, then read back.

        The dispatcher sends one MMS to many recipients from several workers at once: they
        wait for the one conversion under way in this process instead of each making its own
        (a photo takes a tenth of a second of CPU to fit)."""
        kept = await self._kept_variant(record, target)
        if kept is not None:
            return kept
        key = (record.id, target.spec)
        lock = self._conversions.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                kept = await self._kept_variant(record, target)
                if kept is not None:
                    return kept
                converted = await self.converter.convert(await self.content(record), target)
                return await self._keep_variant(record, target, converted)
        finally:
            if not lock.locked() and self._conversions.get(key) is lock:
                del self._conversions[key]

    async def _kept_variant(self, record: MediaRecord, target: Target) -> FittedMedia | None:
        async with self.database.read() as connection:
            variant = await store.find_variant(connection, record.id, target.spec)
            if variant is None:
                return None
            data = await store.read_blob(connection, variant.sha256)
        if data is None:
            return None
        return FittedMedia(
            record.id,
            variant.sha256,
            variant.content_type,
            variant.size,
            variant.width,
            variant.height,
            data,
        )

    async def _keep_variant(
        self, record: MediaRecord, target: Target, converted: Converted
    ) -> FittedMedia:
        sha256 = hashlib.sha256(converted.data).hexdigest()
        now = utcnow()
        async with self.database.write() as connection:
            await store.keep_blob(connection, sha256, converted.data, now)
            await store.keep_variant(
                connection,
                store.MediaVariantRecord(
                    media_id=record.id,
                    spec=target.spec,
                    sha256=sha256,
                    content_type=converted.content_type,
                    size=len(converted.data),
                    width=converted.width,
                    height=converted.height,
                    created_at=now,
                ),
            )
        return FittedMedia(
            record.id,
            sha256,
            converted.content_type,
            len(converted.data),
            converted.width,
            converted.height,
            converted.data,
        )

    async def signed_url(
        self, base_url: str, media_id: str, *, sha256: str = "", now: float | None = None
    ) -> SignedUrl:
        """A URL that fetches the media (or its variant with that digest) without an API key,
        until it expires."""
        expires = int((time.time() if now is None else now) + self.url_ttl_seconds)
        key = await self.secrets.derive(signing.PURPOSE)
        url = signing.media_url(base_url, key, media_id, expires=expires, variant=sha256)
        return SignedUrl(url, datetime.fromtimestamp(expires, UTC))

    async def open_signed(
        self, media_id: str, *, expires: int, signature: str, variant: str, now: float
    ) -> BlobContent:
        """The bytes a signed URL names. A wrong or expired signature reads as not found, so a
        URL guessed or kept too long says nothing about what exists."""
        key = await self.secrets.derive(signing.PURPOSE)
        if not signing.verify(
            key, media_id, expires=expires, signature=signature, variant=variant, now=now
        ):
            raise MediaNotFound("No such media, or the link has expired.")
        async with self.database.read() as connection:
            found = await store.find_servable(connection, media_id, variant or None)
        if found is None:
            raise MediaNotFound("No such media, or the link has expired.")
        return found

    async def collect_unused(self, *, now: datetime | None = None) -> Collected:
        """Remove what nothing needs any more, once older than the retention period (never
        less than a signed link's life, so no link handed out stops working early): media
        objects that no message names (uploads never sent, files nobody sent again), every
        conversion (a later send converts again), and the blobs left without either. A
        message's media stay as long as the message."""
        retention = max(self.retention_seconds, self.url_ttl_seconds)
        cutoff = (now or utcnow()) - timedelta(seconds=retention)
        removed_media = 0
        while True:
            async with self.database.write() as connection:
                removed = await store.delete_unused_media(
                    connection, before=cutoff, limit=_COLLECT_BATCH
                )
            removed_media += removed
            if removed < _COLLECT_BATCH:
                break
        async with self.database.write() as connection:
            variants = await store.delete_old_variants(connection, before=cutoff)
            blobs = await store.delete_unused_blobs(connection, before=cutoff)
        return Collected(removed_media, variants, blobs)


async def collect_periodically(library: MediaLibrary, *, interval_seconds: float) -> None:
    """Collect unused media now and every ``interval_seconds`` until cancelled. A collection
    that fails (the database away, or a blob taken into use at that moment, which its foreign
    key then protects) is logged and tried again at the next turn."""
    while True:
        try:
            collected = await library.collect_unused()
        except Exception:
            log.exception("media collection failed")
        else:
            if collected.media or collected.variants or collected.blobs:
                log.info(
                    "unused media removed",
                    media=collected.media,
                    variants=collected.variants,
                    blobs=collected.blobs,
                )
        await asyncio.sleep(interval_seconds)


def _clean_filename(name: str | None) -> str | None:
    if not name:
        return None
    # Only the last path segment, printable, and short enough for the column.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable())
    return name[:255] or None


def media_library(database: Database, settings: Settings, secrets: SecretSource) -> MediaLibrary:
    """The process's media library, as the settings describe it."""
    return MediaLibrary(
        database,
        secrets=secrets,
        converter=Converter(),
        policy=TargetPolicy.from_settings(settings),
        max_bytes=settings.media_max_bytes,
        url_ttl_seconds=settings.media_url_ttl_seconds,
        fetch_timeout_seconds=settings.media_fetch_timeout_seconds,
        retention_seconds=settings.media_retention_days * 24 * 3600,
    )
