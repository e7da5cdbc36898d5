"""ClickSend voice routes (send, price, languages, history, receipts): ClickSend's request →
the core call ``POST /v1/messages`` with ``channel: "voice"`` makes → ClickSend's answer.

Each 300 characters is one voice message (``message_parts``), up to 1,200; a language the
speech engine does not speak is ``INVALID_LANG`` for that message, a voice other than male
or female ``INVALID_VOICE``, and the rest of the request goes on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    clicksend_router,
)
from tidings.api.dialects.clicksend.errors import envelope, message_status_for, recipient_status
from tidings.api.dialects.clicksend.history import ChannelRoutes, channel_router, send_at_of
from tidings.api.dialects.clicksend.schemas import (
    SmsMessage,
    VoiceMessage,
    VoiceMessages,
)
from tidings.api.dialects.clicksend.sms import default_sender_of, recipients_of
from tidings.api.state import Services
from tidings.api.v1.voice import supported_languages
from tidings.core import messaging
from tidings.core.accounts import utcnow
from tidings.core.aliases import AliasKind, number_for
from tidings.core.channels import Channel
from tidings.core.content import load_content
from tidings.core.voice import MAX_CHARACTERS, Gender, VoiceContent, VoiceResult, units_of
from tidings.errors import TidingsError
from tidings.events.formats.clicksend import gateway_status, unix
from tidings.store.records import AccountRecord, MessageRecord

router = clicksend_router()


@dataclass(frozen=True, slots=True)
class _Outgoing:
    item: VoiceMessage
    to: str
    status: str
    message_id: str | None = None
    units: int = 0


async def _send(
    found: Services, account: AccountRecord, item: VoiceMessage, sender: str, *, store: bool
) -> list[_Outgoing]:
    settings = found.settings
    as_sms = SmsMessage(body=item.body, to=item.to, list_id=item.list_id)
    to = (await recipients_of(found, account, as_sms)).to
    if not to:
        return [_Outgoing(item, item.to or "", "INVALID_RECIPIENT")]
    languages = await asyncio.to_thread(supported_languages, found.speech)
    lang = item.lang.strip().lower()
    if lang not in languages:
        return [_Outgoing(item, number, "INVALID_LANG") for number in to]
    if item.voice.strip().lower() not in {gender.value for gender in languages[lang]}:
        return [_Outgoing(item, number, "INVALID_VOICE") for number in to]
    if len(item.body) > MAX_CHARACTERS:
        return [_Outgoing(item, number, "INVALID_MESSAGE") for number in to]
    content = VoiceContent(
        lang=lang,
        voice=Gender(item.voice.strip().lower()),
        require_input=bool(item.require_input),
        machine_detection=bool(item.machine_detection),
    )
    try:
        request = messaging.SendRequest(
            to=to,
            sender=sender,
            body=item.body,
            send_at=send_at_of(item.schedule),
            customer_data=item.custom_string,
            channel=Channel.VOICE,
            content=content,
        )
        if store:
            prepared = messaging.prepare_send(
                account,
                request,
                max_recipients=settings.max_recipients,
                default_max_parts=settings.default_max_parts,
            )
            results = (await found.intake.submit(prepared)).recipients
        else:
            results = messaging.preview_messages(
                account,
                request,
                price_per_part=settings.voice_price_per_unit,
                currency=settings.currency,
                max_recipients=settings.max_recipients,
                default_max_parts=settings.default_max_parts,
            ).recipients
    except TidingsError as error:
        return [_Outgoing(item, number, message_status_for(error)) for number in to]
    units = units_of(item.body)
    return [
        _Outgoing(
            item,
            result.address or result.to,
            recipient_status(result.error),
            message_id=result.id,
            units=units if result.error is None else 0,
        )
        for result in results
    ]


def _voice_message(
    sent: _Outgoing, *, at: datetime, user_id: int, username: str, found: Services
) -> dict[str, Any]:
    """A message of a send or price answer (6.x ``VoiceMessage``: its field types)."""
    item = sent.item
    date = unix(at) or 0
    return {
        "date": str(date),
        "date_added": date,
        "list_id": None if item.list_id is None else str(item.list_id),
        "to": sent.to,
        "to_type": "mobile",
        "body": item.body,
        "from": None,
        "lang": item.lang.lower(),
        "voice": item.voice.lower(),
        "schedule": item.schedule or 0,
        "message_id": sent.message_id,
        "message_parts": sent.units,
        "message_price": rendering.price(found.settings.voice_price_per_unit * sent.units),
        "custom_string": item.custom_string or "",
        "user_id": user_id,
        "subaccount_id": user_id,
        "country": rendering.country_of(sent.to),
        "require_input": item.require_input,
        "machine_detection": item.machine_detection,
        "carrier": "",
        "status": sent.status,
        "_api_username": username,
    }


async def _answer(
    found: Services, account: AccountRecord, body: VoiceMessages, *, store: bool
) -> JSONResponse:
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    # ClickSend's voice messages name no sender: the account's default sender calls.
    sender = await default_sender_of(found, account)
    answers = await asyncio.gather(
        *(_send(found, account, item, sender, store=store) for item in body.messages)
    )
    shaped = [sent for answer in answers for sent in answer]
    good = [sent for sent in shaped if sent.status == "SUCCESS"]
    now = utcnow()
    data = {
        "total_price": float(found.settings.voice_price_per_unit * sum(s.units for s in good)),
        "total_count": len(shaped),
        "queued_count": len(good),
        "messages": [
            _voice_message(s, at=now, user_id=user_id, username=account.name, found=found)
            for s in shaped
        ],
        "_currency": rendering.currency(found.settings.currency),
    }
    msg = "Messages queued for delivery." if store else "Here are some results."
    return envelope(data, msg=msg)


@router.post("/voice/send", summary="Send voice messages")
async def send_voice(body: VoiceMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    return await _answer(found, account, body, store=True)


@router.post("/voice/price", summary="Calculate the price of voice messages")
async def price_voice(body: VoiceMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    return await _answer(found, account, body, store=False)


@router.get("/voice/lang", summary="The languages voice messages can be spoken in")
async def voice_languages(account: AccountDep, found: ServicesDep) -> JSONResponse:
    languages = await asyncio.to_thread(found.speech.languages)
    data = [
        {"code": language.code, "country": language.name, "gender": list(language.genders)}
        for language in languages
    ]
    return envelope(data, msg="Here are the possible languages.")


def _history_message(
    message: MessageRecord, user_id: int, username: str, found: Services
) -> dict[str, Any]:
    options = load_content(VoiceContent, message.content) or VoiceContent()
    result = load_content(VoiceResult, message.result)
    gateway = gateway_status(message.status)
    units = units_of(message.body)
    return {
        "date": str(unix(message.created_at) or 0),
        "date_added": unix(message.created_at) or 0,
        "list_id": None,
        "to": message.recipient,
        "to_type": "mobile",
        "body": message.body,
        "from": None,
        "lang": options.lang,
        "voice": options.voice.value,
        "schedule": unix(message.send_at) or 0,
        "message_id": message.id,
        "message_parts": units,
        "message_price": rendering.price(found.settings.voice_price_per_unit * units),
        "custom_string": message.customer_data or "",
        "user_id": user_id,
        "subaccount_id": user_id,
        "country": rendering.country_of(message.recipient),
        "require_input": int(options.require_input),
        "machine_detection": int(options.machine_detection),
        "machine_detected": int(result is not None and result.answered_by == "machine"),
        "digits": None if result is None else result.keypress,
        "carrier": "",
        "status_code": str(gateway.status_code),
        "status_text": gateway.error_text,
        "status": gateway.status,
        "_api_username": username,
    }


def _receipt(message: MessageRecord) -> dict[str, Any]:
    """A voice delivery receipt (6.x ``VoiceReceipt``: every field a string)."""
    result = load_content(VoiceResult, message.result)
    gateway = gateway_status(message.status)
    return {
        "timestamp_send": str(unix(message.created_at) or 0),
        "timestamp": str(unix(message.status_at) or 0),
        "message_id": message.id,
        "status_code": str(gateway.status_code),
        "status_text": gateway.error_text,
        "error_code": str(gateway.error_code) if gateway.status_code != 201 else None,
        "error_text": message.error_detail if gateway.status_code != 201 else None,
        "custom_string": message.customer_data or "",
        "message_type": "voice",
        "digits": (result.keypress if result is not None else None) or "",
    }


router.include_router(
    channel_router(
        ChannelRoutes(
            channel=Channel.VOICE,
            prefix="/voice",
            name="voice",
            label="Voice",
            history=lambda account, found: (
                lambda message, user_id: _history_message(message, user_id, account.name, found)
            ),
            export_columns=(),
            receipt=lambda message, _user_id: _receipt(message),
            # The SDKs read voice receipts by page only.
            receipt_by_id=False,
        )
    )
)
