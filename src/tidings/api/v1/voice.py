"""Voice on the native API: the languages the speech engine speaks, and a send's call options."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.v1.schemas import PreviewMessages, SendMessages, VoicePreview
from tidings.core.channels import Channel
from tidings.core.voice import MAX_CHARACTERS, Gender, VoiceContent, units_of
from tidings.errors import InvalidRequest
from tidings.voice.tts import Speech, SpeechEngine, SpeechUnavailable

router = APIRouter(prefix="/v1/voice", tags=["voice"])

_VOICE_FIELDS = ("lang", "voice", "require_input", "machine_detection", "repeat")


def supported_languages(speech: SpeechEngine) -> dict[str, tuple[Gender, ...]]:
    try:
        return {language.code: language.genders for language in speech.languages()}
    except SpeechUnavailable:
        return {}


def voice_options_given(body: SendMessages | PreviewMessages) -> bool:
    return any(getattr(body, name, None) is not None for name in _VOICE_FIELDS)


def channel_content(
    body: SendMessages | PreviewMessages, speech: SpeechEngine
) -> VoiceContent | None:
    """The call's options when a send is for channel voice (None for other channels); voice
    options on another channel are refused, not ignored."""
    fields = [name for name in _VOICE_FIELDS if hasattr(body, name)]
    given = [name for name in fields if getattr(body, name) is not None]
    if body.channel is not Channel.VOICE:
        if given:
            raise InvalidRequest(f"{given[0]} is for channel voice", field=given[0])
        return None
    content = VoiceContent(**{name: getattr(body, name) for name in given})
    return checked_voice(speech, body.body, content)


def checked_voice(speech: SpeechEngine, text: str, content: VoiceContent) -> VoiceContent:
    """A voice message's text and call options as the speech engine can speak them (its
    language code in lower case), or the reason it cannot: the API's and the console's check."""
    if len(text) > MAX_CHARACTERS:
        raise InvalidRequest(
            f"a voice message is at most {MAX_CHARACTERS} characters", field="body"
        )
    languages = supported_languages(speech)
    genders = languages.get(content.lang.lower())
    if genders is None:
        raise InvalidRequest(
            f"the speech engine does not speak {content.lang!r} (see /v1/voice/languages)",
            field="lang",
        )
    if content.voice not in genders:
        raise InvalidRequest(f"no {content.voice} voice for {content.lang}", field="voice")
    return content.model_copy(update={"lang": content.lang.lower()})


@router.get("/languages", summary="The languages voice messages can be spoken in")
async def voice_languages(account: AccountDep, found: ServicesDep) -> dict[str, Any]:
    """The languages the installed speech engine really speaks, under ClickSend's codes, each
    with the voices (female, male) it has: what a voice message's ``lang`` may be."""
    languages = await asyncio.to_thread(found.speech.languages)
    return {
        "engine": found.speech.name,
        "languages": [
            {"code": language.code, "name": language.name, "genders": list(language.genders)}
            for language in languages
        ],
    }


async def speak(speech: SpeechEngine, text: str, options: VoiceContent) -> Speech:
    """The speech of a voice message, rendered off the event loop."""
    try:
        return await asyncio.to_thread(speech.render, text, options.lang, options.voice)
    except SpeechUnavailable as error:
        raise InvalidRequest(error.message, field="lang") from None


def voice_preview(text: str, spoken: Speech) -> VoicePreview:
    return VoicePreview(
        units=units_of(text),
        seconds=round(spoken.seconds, 2),
        language=spoken.language,
        voice=spoken.gender,
    )
