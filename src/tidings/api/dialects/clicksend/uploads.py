"""ClickSend's "Convert Media File Format": ``POST /v3/uploads?convert=…`` with the file as
base64 ``content``, over the media store.

The file is kept as it is (content-addressed), then converted for what ``convert`` names:
``mms`` fits it to ClickSend's MMS limit (250 kB; images recompressed and scaled, metadata
dropped); ``fax``, ``post`` and ``postcard`` want a PDF (office documents are converted by
LibreOffice when it is installed); ``csv`` wants text. The answer's ``_url`` is a signed URL of
the converted file, valid until ``date_delete``, and is what ``/v3/mms/send`` takes as
``media_file``. ``upload_id`` is an integer alias of the media object.

As ClickSend documents, ``convert`` may also come in the JSON body, and the file may come as
``multipart/form-data`` (any one file field) instead of base64. ClickSend requires
``convert``; an upload without it (the 6.x SDK's ``upload_a_media_file`` has no parameter for
it) is kept as it is, unconverted. ClickSend deletes uploads after 10 minutes; here
``date_delete`` is when the signed URL stops working (``TIDINGS_MEDIA_URL_TTL_SECONDS``).
"""

from __future__ import annotations

import base64
import json
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend.common import clicksend_router
from tidings.api.dialects.clicksend.errors import MissingRequiredField, envelope
from tidings.api.dialects.clicksend.schemas import _Body
from tidings.api.v1.media import base_url
from tidings.core.aliases import AliasKind, number_for
from tidings.events.formats.clicksend import unix
from tidings.media.convert import MMS_CONTENT_TYPES, Target
from tidings.media.errors import UnsupportedMedia

router = clicksend_router()

# ClickSend: "media_file: URL of the image (<= 250 kB)".
CLICKSEND_MMS_MAX_BYTES = 250 * 1000
_PDF = frozenset({"application/pdf"})


class Convert(StrEnum):
    FAX = "fax"
    MMS = "mms"
    CSV = "csv"
    POST = "post"
    POSTCARD = "postcard"


_TARGETS: dict[Convert, Target] = {
    Convert.MMS: Target(CLICKSEND_MMS_MAX_BYTES, MMS_CONTENT_TYPES),
    Convert.FAX: Target(4 * 1024 * 1024, _PDF),
    Convert.POST: Target(10 * 1024 * 1024, _PDF),
    Convert.POSTCARD: Target(10 * 1024 * 1024, _PDF),
    Convert.CSV: Target(5 * 1024 * 1024, frozenset({"text/plain"})),
}


class UploadFile(_Body):
    content: str | None = Field(default=None, description="the file, base64")
    convert: Convert | None = None


def _json_body_schema() -> dict[str, Any]:
    # Pydantic's schema points into its own "$defs", which mean nothing inside the OpenAPI
    # document; it points at the document's components instead, where the operation's
    # ``convert`` query parameter puts Convert.
    schema = UploadFile.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/json": {"schema": _json_body_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        }
    }
}
_NO_CONTENT = "content is required: the file as base64"


async def _file(request: Request, max_bytes: int) -> tuple[bytes, str | None, Convert | None]:
    """The uploaded bytes, their file name, and ``convert`` if the body names it."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        try:
            upload = next((v for v in form.values() if isinstance(v, StarletteUpload)), None)
            if upload is None:
                raise MissingRequiredField("the form holds no file", field="content")
            return await upload.read(max_bytes + 1), upload.filename, None
        finally:
            await form.close()
    try:
        body = UploadFile.model_validate(json.loads(await request.body() or b"{}"))
    except (ValueError, ValidationError):
        raise MissingRequiredField(_NO_CONTENT, field="content") from None
    if not body.content:
        raise MissingRequiredField(_NO_CONTENT, field="content")
    try:
        return base64.b64decode(body.content, validate=True), None, body.convert
    except ValueError:  # binascii.Error, a character beyond ASCII, or not UTF-8
        raise UnsupportedMedia("content is not base64.") from None


@router.post(
    "/uploads",
    summary="Upload a file, converted for a channel (Convert Media File Format)",
    openapi_extra=_BODY,
)
async def upload(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    convert: Annotated[Convert | None, Query()] = None,
) -> JSONResponse:
    data, filename, convert_in_body = await _file(request, found.media.max_bytes)
    convert = convert or convert_in_body
    record = await found.media.keep(account.id, data, filename=filename)
    sha256 = ""
    if convert is not None:
        fitted = await found.media.fitted(record, _TARGETS[convert])
        sha256 = fitted.sha256
    signed = await found.media.signed_url(base_url(request, found), record.id, sha256=sha256)
    return envelope(
        {
            "upload_id": await number_for(found.database, AliasKind.UPLOAD, record.id),
            "file_name": record.filename or f"{record.id}",
            "date_added": unix(record.created_at),
            "date_delete": unix(signed.expires_at),
            "user_id": await number_for(found.database, AliasKind.ACCOUNT, account.id),
            "_url": signed.url,
        },
        msg="Your file has been uploaded.",
    )
