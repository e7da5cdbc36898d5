"""``/v1/media``: upload a file or name one by URL, read it back, see it fitted to a route, and
the signed content URL that carriers, handsets and webhook receivers fetch."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError
from starlette.datastructures import UploadFile

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.state import Services
from tidings.core import mms
from tidings.errors import InvalidRequest
from tidings.media.convert import DEFAULT_MAX_BYTES, MMS_CONTENT_TYPES, Target
from tidings.media.errors import MediaTooLarge
from tidings.store.media import MediaRecord
from tidings.store.records import AccountRecord

router = APIRouter(prefix="/v1/media", tags=["media"])

_SAFE_INLINE = ("image/", "audio/", "video/")


class FetchMedia(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl | None = Field(
        default=None, description="fetched once, under the same address rules as webhooks"
    )
    content: str | None = Field(default=None, description="or the file itself, base64")
    filename: str | None = Field(default=None, max_length=255, description="with `content`")


class MediaView(BaseModel):
    id: str
    content_type: str = Field(description="detected from the bytes")
    size: int
    sha256: str
    filename: str | None
    width: int | None
    height: int | None
    duration_ms: int | None
    source_url: str | None
    created_at: datetime
    url: str = Field(description="signed; works without an API key until url_expires_at")
    url_expires_at: datetime


class FittedView(BaseModel):
    media_id: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    max_bytes: int
    url: str
    url_expires_at: datetime


class MediaPage(BaseModel):
    media: list[MediaView]
    next_before: str | None


def base_url(request: Request, found: Services) -> str:
    return found.settings.public_url or str(request.base_url).rstrip("/")


async def media_view(request: Request, found: Services, record: MediaRecord) -> MediaView:
    signed = await found.media.signed_url(base_url(request, found), record.id)
    return MediaView(
        id=record.id,
        content_type=record.content_type,
        size=record.size,
        sha256=record.sha256,
        filename=record.filename,
        width=record.width,
        height=record.height,
        duration_ms=record.duration_ms,
        source_url=record.source_url,
        created_at=record.created_at,
        url=signed.url,
        url_expires_at=signed.expires_at,
    )


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                },
                "example": {"file": "(the bytes of photo.jpg)"},
            },
            "application/json": {
                "schema": FetchMedia.model_json_schema(),
                "example": {"url": "https://www.example.com/photos/table-for-two.jpg"},
            },
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=MediaView,
    summary="Upload a media file (multipart field `file`) or fetch one from a URL (JSON `url`)",
    openapi_extra=_UPLOAD_BODY,
    responses={
        413: {
            "description": "The file is larger than TIDINGS_MEDIA_MAX_BYTES, or than the limit "
            "of the route an MMS `from` that sender takes."
        },
        415: {"description": "The file's type, read from its bytes, is not one tidings takes."},
    },
)
async def upload_media(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=32,
            description="the sender it is for: the file must be within the size limit of the "
            "route an MMS from it takes",
        ),
    ] = None,
) -> MediaView:
    """Keep a media file for MMS and other channels: upload it (multipart field `file`) or
    name it by URL (JSON `url`, fetched under the same address rules as webhooks). Stored once
    per content; the answer has its type, size and a signed URL that expires. With `from`,
    the file must fit the size limit of the route an MMS from that sender takes."""
    if from_ is None:
        return await media_view(request, found, await _kept(request, account, found, None))
    # Kept only within the limit of the route an MMS from that sender takes, and only if it
    # can be made to fit that route's messages (as the send will hold it: core.mms.mms_media).
    sender = mms.check_sender(from_)
    routes = await mms.mms_routes(found.database, found.transports, account, [sender])
    try:
        record = await _kept(request, account, found, routes.max_media_bytes)
    except MediaTooLarge as error:
        raise routes.over_limit(error) from None
    await mms.mms_media(
        found.media, found.database, found.transports, account, [sender], [record.id], field="file"
    )
    return await media_view(request, found, record)


async def _kept(
    request: Request, account: AccountRecord, found: Services, limit: int | None
) -> MediaRecord:
    """The file the request uploads or names, kept (within ``limit``, else the server's)."""
    max_bytes = found.media.max_bytes if limit is None else limit
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidRequest("Send the file in the multipart field `file`.", field="file")
            data = await upload.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise MediaTooLarge(f"The file is larger than {max_bytes:,} bytes.", field="file")
            record = await found.media.keep(
                account.id, data, filename=upload.filename, max_bytes=max_bytes
            )
        finally:
            await form.close()
    elif content_type.startswith("application/json"):
        try:
            body = FetchMedia.model_validate(json.loads(await request.body()))
        except (ValueError, ValidationError):
            body = FetchMedia()
        if (body.url is None) == (body.content is None):
            raise InvalidRequest(
                'The JSON body is {"url": "https://..."} or {"content": "<base64>"}.', field="url"
            )
        if body.url is not None:
            record = await found.media.fetch(account.id, str(body.url), max_bytes=max_bytes)
        else:
            try:
                data = base64.b64decode(body.content or "", validate=True)
            except ValueError:  # binascii.Error, a character beyond ASCII, or not UTF-8
                raise InvalidRequest("content is not base64.", field="content") from None
            record = await found.media.keep(
                account.id, data, filename=body.filename, max_bytes=max_bytes
            )
    else:
        raise InvalidRequest("Send multipart/form-data with a `file` field, or JSON with a `url`.")
    return record


@router.get("", response_model=MediaPage, summary="The account's media, newest first")
async def list_media(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[str | None, Query(max_length=26)] = None,
) -> MediaPage:
    """The account's media files, newest first, each with a fresh signed URL; pass
    `next_before` as `before` for the next page."""
    records = await found.media.page(account.id, before=before, limit=limit)
    return MediaPage(
        media=[await media_view(request, found, record) for record in records],
        next_before=records[-1].id if len(records) == limit else None,
    )


@router.get("/{media_id}", response_model=MediaView, summary="One media file, with a fresh URL")
async def get_media(
    media_id: str, request: Request, account: AccountDep, found: ServicesDep
) -> MediaView:
    """One media file: its type, size, dimensions and a fresh signed URL."""
    return await media_view(request, found, await found.media.get(account.id, media_id))


@router.get(
    "/{media_id}/fitted",
    response_model=FittedView,
    summary="The file as an MMS route sends it: converted to fit max_bytes",
)
async def fitted_media(
    media_id: str,
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    max_bytes: Annotated[int, Query(ge=1024, le=10 * 1024 * 1024)] = DEFAULT_MAX_BYTES,
) -> FittedView:
    """The file as an MMS route would send it: converted (scaled, recompressed) to fit
    `max_bytes` and the types handsets take, once, then kept; with a signed URL to it."""
    record = await found.media.get(account.id, media_id)
    fitted = await found.media.fitted(record, Target(max_bytes, MMS_CONTENT_TYPES))
    signed = await found.media.signed_url(base_url(request, found), record.id, sha256=fitted.sha256)
    return FittedView(
        media_id=record.id,
        content_type=fitted.content_type,
        size=fitted.size,
        width=fitted.width,
        height=fitted.height,
        max_bytes=max_bytes,
        url=signed.url,
        url_expires_at=signed.expires_at,
    )


@router.get(
    "/{media_id}/content",
    summary="The bytes, for a signed URL (no API key: the signature is the permission)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {}},
)
async def media_content(
    media_id: str,
    found: ServicesDep,
    expires: Annotated[int, Query()],
    sig: Annotated[str, Query(max_length=64)],
    variant: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The file's bytes behind a signed URL: no API key, the signature and its expiry are the
    permission (for carriers, handsets and webhook receivers). A wrong or expired signature is
    404."""
    now = time.time()
    blob = await found.media.open_signed(
        media_id, expires=expires, signature=sig, variant=variant, now=now
    )
    disposition = "inline" if blob.content_type.startswith(_SAFE_INLINE) else "attachment"
    return Response(
        blob.content,
        media_type=blob.content_type,
        headers={
            "Cache-Control": f"private, max-age={max(0, min(3600, int(expires - now)))}",
            "ETag": f'"{blob.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Content-Disposition": disposition,
        },
    )
