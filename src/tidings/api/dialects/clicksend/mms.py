"""ClickSend MMS routes: send and price (``/v3/mms/send``, ``/v3/mms/price``), the same path as
SMS with a subject and a media file.

``media_file`` is a URL: one of our ``/v3/uploads`` answers' ``_url`` (used without a
download), any other URL (fetched once, under the SSRF guard, when the message is accepted),
or a media id of ``/v1/media``. The route converts it to fit when it sends (ClickSend asks
for files of at most 250 kB; here larger ones are recompressed instead of refused).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import Field

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend.common import clicksend_router
from tidings.api.dialects.clicksend.errors import InvalidMediaFile, MissingRequiredField
from tidings.api.dialects.clicksend.schemas import MAX_MESSAGES, SmsMessage, _Body
from tidings.api.dialects.clicksend.sms import AsMms, send_answer
from tidings.api.state import Services
from tidings.api.v1.media import base_url
from tidings.core.content import MediaRef
from tidings.core.errors import InvalidRequest, NotFound
from tidings.core.mms import MmsContent
from tidings.store.records import AccountRecord

router = clicksend_router()


class MmsMessage(SmsMessage):
    subject: str | None = None


class MmsMessages(_Body):
    media_file: str | None = Field(default=None, max_length=2000)
    messages: list[MmsMessage] = Field(min_length=1, max_length=MAX_MESSAGES)


async def _answer(
    request: Request, found: Services, account: AccountRecord, body: MmsMessages, *, store: bool
) -> JSONResponse:
    if not body.media_file:
        raise MissingRequiredField(
            "media_file is required: the URL of the file", field="media_file"
        )
    try:
        record = await found.media.resolve(account.id, body.media_file)
    except (NotFound, InvalidRequest) as error:
        raise InvalidMediaFile(f"media_file: {error.message}", field="media_file") from None
    content = MmsContent(
        media=(
            MediaRef(
                id=record.id,
                content_type=record.content_type,
                size=record.size,
                name=record.filename,
            ),
        )
    )
    shown_url = (await found.media.signed_url(base_url(request, found), record.id)).url

    def subject_of(item: SmsMessage) -> str | None:
        return item.subject if isinstance(item, MmsMessage) else None

    def as_mms(item: SmsMessage) -> AsMms:
        return AsMms(subject_of(item), content)

    def shape(shown: dict[str, Any], item: SmsMessage) -> None:
        # ClickSend's MMS answer (6.x ``Mms``) types two fields otherwise than its SMS answer.
        shown["schedule"] = str(shown["schedule"])
        contact_id = shown.get("contact_id")
        shown["contact_id"] = None if contact_id is None else int(contact_id)
        shown["subject"] = subject_of(item)
        shown["_media_file_url"] = shown_url

    return await send_answer(found, account, body.messages, store=store, mms=as_mms, shape=shape)


@router.post("/mms/send", summary="Send MMS")
async def send_mms(
    request: Request, body: MmsMessages, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    return await _answer(request, found, account, body, store=True)


@router.post("/mms/price", summary="Calculate the price of MMS")
async def price_mms(
    request: Request, body: MmsMessages, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    return await _answer(request, found, account, body, store=False)
