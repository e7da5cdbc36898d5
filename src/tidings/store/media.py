"""Media: content-addressed blobs, each account's media objects over them, and the converted
variants kept per route target.

A blob is written once per SHA-256 (an insert that loses a race to another process is
ignored: the bytes are the same by definition). Media objects are scoped to their account;
every read here takes the account id.

What no message uses is removed after the retention period (:func:`delete_unused_media`,
:func:`delete_old_variants`, :func:`delete_unused_blobs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import campaigns, media, media_blobs, media_variants, messages
from tidings.store.records import _Record


@dataclass(frozen=True, slots=True)
class MediaRecord(_Record):
    id: str
    account_id: str
    sha256: str
    content_type: str
    size: int
    filename: str | None
    source_url: str | None
    width: int | None
    height: int | None
    duration_ms: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MediaVariantRecord(_Record):
    media_id: str
    spec: str
    sha256: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BlobContent:
    sha256: str
    content_type: str
    content: bytes


def _insert(connection: AsyncConnection, table: Any) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def keep_blob(
    connection: AsyncConnection, sha256: str, content: bytes, now: datetime
) -> None:
    """Store ``content`` under its digest unless it is stored already."""
    # Locked (on PostgreSQL) until the caller's transaction ends: the media object or variant
    # the caller is about to add over this blob cannot lose it to a concurrent collection of
    # unused blobs, which waits, then finds it used.
    stored = (
        await connection.execute(
            select(media_blobs.c.sha256)
            .where(media_blobs.c.sha256 == sha256)
            .with_for_update(read=True, key_share=True)
        )
    ).first()
    if stored is not None:
        return
    await connection.execute(
        _insert(connection, media_blobs)
        .values(sha256=sha256, size=len(content), content=content, created_at=now)
        .on_conflict_do_nothing()
    )


async def insert_media_unless_present(
    connection: AsyncConnection, record: MediaRecord
) -> MediaRecord:
    """Add ``record``, or return the account's media object that has the same bytes."""
    await connection.execute(
        _insert(connection, media)
        .values(
            id=record.id,
            account_id=record.account_id,
            sha256=record.sha256,
            content_type=record.content_type,
            size=record.size,
            filename=record.filename,
            source_url=record.source_url,
            width=record.width,
            height=record.height,
            duration_ms=record.duration_ms,
            created_at=record.created_at,
        )
        .on_conflict_do_nothing(index_elements=["account_id", "sha256"])
    )
    found = await find_media_by_digest(connection, record.account_id, record.sha256)
    assert found is not None
    return found


async def find_media(
    connection: AsyncConnection, account_id: str, media_id: str
) -> MediaRecord | None:
    row = (
        await connection.execute(
            select(media).where(media.c.account_id == account_id, media.c.id == media_id)
        )
    ).first()
    return MediaRecord.from_row(row) if row is not None else None


async def find_media_any_account(connection: AsyncConnection, media_id: str) -> MediaRecord | None:
    """A media object by id alone: for the signed-URL endpoint, whose signature is the
    authorisation, and for the dispatcher, which sends for every account."""
    row = (await connection.execute(select(media).where(media.c.id == media_id))).first()
    return MediaRecord.from_row(row) if row is not None else None


async def find_media_by_digest(
    connection: AsyncConnection, account_id: str, sha256: str
) -> MediaRecord | None:
    row = (
        await connection.execute(
            select(media).where(media.c.account_id == account_id, media.c.sha256 == sha256)
        )
    ).first()
    return MediaRecord.from_row(row) if row is not None else None


async def list_media(
    connection: AsyncConnection, account_id: str, *, before: str | None, limit: int
) -> list[MediaRecord]:
    """The account's media, newest first, a page at a time (``before`` an id)."""
    query = select(media).where(media.c.account_id == account_id)
    if before is not None:
        query = query.where(media.c.id < before)
    rows = await connection.execute(query.order_by(media.c.id.desc()).limit(limit))
    return [MediaRecord.from_row(row) for row in rows]


async def read_blob(connection: AsyncConnection, sha256: str) -> bytes | None:
    return (
        await connection.execute(
            select(media_blobs.c.content).where(media_blobs.c.sha256 == sha256)
        )
    ).scalar_one_or_none()


async def find_variant(
    connection: AsyncConnection, media_id: str, spec: str
) -> MediaVariantRecord | None:
    row = (
        await connection.execute(
            select(media_variants).where(
                media_variants.c.media_id == media_id, media_variants.c.spec == spec
            )
        )
    ).first()
    return MediaVariantRecord.from_row(row) if row is not None else None


async def keep_variant(connection: AsyncConnection, record: MediaVariantRecord) -> None:
    """Remember a conversion (a concurrent one of the same media to the same target wins)."""
    await connection.execute(
        _insert(connection, media_variants)
        .values(
            media_id=record.media_id,
            spec=record.spec,
            sha256=record.sha256,
            content_type=record.content_type,
            size=record.size,
            width=record.width,
            height=record.height,
            created_at=record.created_at,
        )
        .on_conflict_do_nothing()
    )


async def find_servable(
    connection: AsyncConnection, media_id: str, sha256: str | None
) -> BlobContent | None:
    """The bytes a signed URL names: the media object's own, or (``sha256`` given) one of its
    converted variants'."""
    if sha256 is None or sha256 == "":
        query = (
            select(media.c.sha256, media.c.content_type, media_blobs.c.content)
            .join(media_blobs, media_blobs.c.sha256 == media.c.sha256)
            .where(media.c.id == media_id)
        )
    else:
        own = (
            select(media.c.sha256, media.c.content_type, media_blobs.c.content)
            .join(media_blobs, media_blobs.c.sha256 == media.c.sha256)
            .where(media.c.id == media_id, media.c.sha256 == sha256)
        )
        row = (await connection.execute(own)).first()
        if row is not None:
            return BlobContent(row.sha256, row.content_type, row.content)
        query = (
            select(media_variants.c.sha256, media_variants.c.content_type, media_blobs.c.content)
            .join(media_blobs, media_blobs.c.sha256 == media_variants.c.sha256)
            .where(media_variants.c.media_id == media_id, media_variants.c.sha256 == sha256)
            .limit(1)
        )
    row = (await connection.execute(query)).first()
    return BlobContent(row.sha256, row.content_type, row.content) if row is not None else None


async def delete_unused_media(connection: AsyncConnection, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` media objects made before ``before`` that no message and no
    campaign of their account names in its content (an MMS sent or received, one a campaign
    will send, or any channel's content that refers to a media id), with their variants;
    return how many.

    A message or campaign names its media by id inside its content's JSON, whatever the
    channel's shape, and ids are 26 characters of one alphabet, so a substring test finds
    every use.
    """
    used = exists().where(
        messages.c.account_id == media.c.account_id, messages.c.content.contains(media.c.id)
    ) | exists().where(
        campaigns.c.account_id == media.c.account_id, campaigns.c.content.contains(media.c.id)
    )
    batch = (
        select(media.c.id)
        .where(media.c.created_at < before, ~used)
        .order_by(media.c.created_at)
        .limit(limit)
        .scalar_subquery()
    )
    # The variants go with their media object (ON DELETE CASCADE).
    result = await connection.execute(delete(media).where(media.c.id.in_(batch), ~used))
    return result.rowcount


async def delete_old_variants(connection: AsyncConnection, *, before: datetime) -> int:
    """Delete conversions made before ``before``: a send that needs one again converts again,
    and no signed link to one outlives the retention period."""
    result = await connection.execute(
        delete(media_variants).where(media_variants.c.created_at < before)
    )
    return result.rowcount


async def delete_unused_blobs(connection: AsyncConnection, *, before: datetime) -> int:
    """Delete blobs stored before ``before`` that no media object and no variant is over."""
    result = await connection.execute(
        delete(media_blobs).where(
            media_blobs.c.created_at < before,
            ~exists().where(media.c.sha256 == media_blobs.c.sha256),
            ~exists().where(media_variants.c.sha256 == media_blobs.c.sha256),
        )
    )
    return result.rowcount
