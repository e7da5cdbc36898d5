"""TrueDialog media for MMS: the upload a push's ``MediaId`` names, and its resolution."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import Body

from tidings.api.auth import ServicesDep
from tidings.api.dialects.truedialog.common import (
    AccountDep,
    integer_id,
    tidings_id,
    truedialog_router,
    wire_time,
)
from tidings.api.dialects.truedialog.schemas import PushCampaignRequest
from tidings.api.state import Services
from tidings.core import mms
from tidings.core import truedialog as ids
from tidings.errors import InvalidRequest, NotFound
from tidings.store.records import AccountRecord

router = truedialog_router()


async def push_media(
    found: Services, account: AccountRecord, body: PushCampaignRequest, senders: list[str]
) -> mms.MmsContent:
    """The media a push's MediaId names: a TrueDialog id handed out by
    ``POST /account/{accountId}/media`` (an integer alias of one of the account's media),
    held to every route the push's MMS take from ``senders`` (``core.mms.mms_media``)."""
    try:
        target = await tidings_id(found, ids.MEDIA, str(body.MediaId), account)
        record = await found.media.get(account.id, target)
    except NotFound:
        raise InvalidRequest(f"No media {body.MediaId}.", field="MediaId") from None
    media = await mms.mms_media(
        found.media,
        found.database,
        found.transports,
        account,
        senders,
        [record.id],
        field="MediaId",
    )
    return mms.MmsContent(media=media)


@router.post("/account/{accountId}/media", status_code=201, summary="Upload media for MMS")
async def upload_media(
    account: AccountDep,
    found: ServicesDep,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """A media file for pushes' MediaId: ``{"Url": ...}`` (fetched once) or ``{"Content":
    base64, "FileName": ...}``. Answers its TrueDialog id."""
    url, content = body.get("Url"), body.get("Content")
    if isinstance(url, str) and url:
        record = await found.media.fetch(account.id, url)
    elif isinstance(content, str) and content:
        try:
            data = base64.b64decode(content, validate=True)
        except ValueError:  # binascii.Error, a character beyond ASCII, or not UTF-8
            raise InvalidRequest("Content is not base64.", field="Content") from None
        name = body.get("FileName")
        record = await found.media.keep(
            account.id, data, filename=name if isinstance(name, str) else None
        )
    else:
        raise InvalidRequest("Give Url, or Content (base64) and FileName.", field="Url")
    return {
        "id": await integer_id(found, ids.MEDIA, account.id, record.id),
        "accountId": await integer_id(found, ids.ACCOUNT, account.id, account.id),
        "fileName": record.filename,
        "mimeType": record.content_type,
        "size": record.size,
        "created": wire_time(record.created_at),
    }
