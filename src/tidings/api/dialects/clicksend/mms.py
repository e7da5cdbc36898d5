"""ClickSend MMS routes: send and price (``/v3/mms/send``, ``/v3/mms/price``), the same path as
SMS with a subject and a media file; the MMS history (``/v3/mms/history``, its CSV export) and
the MMS delivery receipts a client polls (``/v3/mms/receipts``, ``/v3/mms/receipts-read``), each
holding MMS only (SMS have their own under ``/v3/sms``).

``media_file`` is a URL: one of our ``/v3/uploads`` answers' ``_url`` (used without a
download), any other URL (fetched once, under the SSRF guard, when the message is accepted),
or a media id of ``/v1/media``. The route converts it to fit when it sends (ClickSend asks
for files of at most 250 kB; here larger ones are recompressed instead of refused).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import Field

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    DEFAULT_PAGE_SIZE,
    LimitQuery,
    PageQuery,
    clicksend_router,
    page_url,
)
from tidings.api.dialects.clicksend.errors import (
    InvalidMediaFile,
    MissingRequiredField,
    envelope,
)
from tidings.api.dialects.clicksend.history import ChannelRoutes, channel_router
from tidings.api.dialects.clicksend.schemas import (
    MAX_MESSAGES,
    MmsBody,
    SmsMessage,
    _Body,
)
from tidings.api.dialects.clicksend.sms import (
    AsMms,
    default_sender_of,
    history_filter,
    send_answer,
)
from tidings.api.state import Services
from tidings.api.v1.media import base_url
from tidings.core import mailbox, mms
from tidings.core.aliases import AliasKind, number_for
from tidings.core.channels import Channel
from tidings.core.mms import MmsContent, message_media
from tidings.errors import InvalidRequest
from tidings.store.records import AccountRecord, MessageRecord

router = clicksend_router()


class MmsMessage(SmsMessage):
    body: MmsBody  # an MMS body has MMS limits, not SMS ones
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
    # One file for every message: held to each route they take (a message naming no sender
    # goes from the default sender), refused as a whole when it cannot be made to fit one.
    default_sender = (
        await default_sender_of(found, account)
        if any(not item.from_ for item in body.messages)
        else None
    )
    try:
        [media] = await mms.mms_media(
            found.media,
            found.database,
            found.transports,
            account,
            [item.from_ or default_sender or "" for item in body.messages],
            [body.media_file],
            field="media_file",
        )
    except InvalidRequest as error:
        raise InvalidMediaFile(error.message, field="media_file") from None
    content = MmsContent(media=(media,))
    shown_url = (await found.media.signed_url(base_url(request, found), media.id)).url

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


# History and receipts ------------------------------------------------------------------------


async def _history_message(
    message: MessageRecord, user_id: int, found: Services, base: str, username: str
) -> dict[str, Any]:
    """An MMS of the history (6.x ``ViewMmsHistoryDataAllOfDataInner``), which types several
    fields otherwise than an SMS of the SMS history: ``date`` and ``message_parts`` are
    strings, ``contact_id`` an integer; it adds the subject and a signed URL of its file."""
    shown = rendering.history_message(
        message, user_id, price_per_part=found.settings.price_per_part, username=username
    )
    media = message_media(message.channel, message.direction, message.content) or ()
    shown.update(
        date=str(shown["date"]),
        date_added=shown["date"],
        message_parts=f"{message.parts_count:.2f}",
        contact_id=None,
        subject=message.subject,
        _media_file_url=((await found.media.signed_url(base, media[0].id)).url if media else None),
    )
    return shown


@router.get("/mms/history", summary="MMS history")
async def mms_history(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    date_from: int | None = None,
    date_to: int | None = None,
    q: str | None = None,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    where = dataclasses.replace(history_filter(q, date_from, date_to), channel=Channel.MMS)
    numbered = await mailbox.history_page(
        found.database, account, page=page, per_page=limit, where=where, newest_first=False
    )
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    base = base_url(request, found)
    items = [await _history_message(m, user_id, found, base, account.name) for m in numbered.items]
    return envelope(rendering.numbered(numbered, items, page_url(request)), msg="MMS History.")


router.include_router(
    channel_router(
        ChannelRoutes(
            channel=Channel.MMS,
            prefix="/mms",
            name="mms",
            label="MMS",
            export_columns=("subject",),
            export_values=lambda message: [message.subject or ""],
            receipt=rendering.receipt,
            receipts_msg="Receipts.",
            # The SDKs read MMS receipts by page only.
            receipt_by_id=False,
        )
    )
)
