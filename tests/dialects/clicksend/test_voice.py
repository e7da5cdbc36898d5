"""ClickSend's voice API from both SDK generations, unmodified: languages, price, send, the
call placed through the sip route to the phone network simulator, history and receipts."""

from __future__ import annotations

import ast
from types import ModuleType
from typing import Any

import httpx

from tests.dialects.clicksend.conftest import ClickSend, eventually
from tests.dialects.clicksend.test_sdks import sdk5_client, sdk6_client

ANSWERS = "+358401234560"  # the simulator's handsets answer unless the number says otherwise
BUSY = "+358401234561"
PRESSES_ONE = "+358401234564"


def parsed(answer: str) -> dict[str, Any]:
    result: dict[str, Any] = ast.literal_eval(answer)
    return result


async def test_sdk6_languages_price_send_history_and_receipts(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    voice = sdk6.VoiceMessagingApi(sdk6_client(sdk6, clicksend))
    languages = await clicksend.call(voice.view_voice_languages)
    codes = {language.code for language in languages.data}
    assert {"en-us", "en-au", "en-gb", "de-de", "fr-fr"} <= codes

    inner = sdk6.SendVoiceMessageRequestMessagesInner
    request = sdk6.SendVoiceMessageRequest(
        messages=[
            inner(body="Your order has shipped.", to=ANSWERS, voice="female", lang="en-au"),
            inner(body="Press one to confirm.", to=PRESSES_ONE, voice="male", lang="en-us"),
            inner(body="Busy line.", to=BUSY, voice="female", lang="en-gb"),
            inner(body="Nope.", to=ANSWERS, voice="female", lang="xx-yy"),
        ]
    )
    price = await clicksend.call(
        voice.calculate_voice_price,
        calculate_voice_price_request=sdk6.CalculateVoicePriceRequest.from_dict(request.to_dict()),
    )
    assert price.data.total_count == 4 and price.data.queued_count == 3

    sent = await clicksend.call(voice.send_voice_message, send_voice_message_request=request)
    assert (sent.http_code, sent.response_code) == (200, "SUCCESS")
    statuses = [m.status for m in sent.data.messages]
    assert statuses == ["SUCCESS", "SUCCESS", "SUCCESS", "INVALID_LANG"]
    first, pressed, busy = sent.data.messages[:3]
    assert (first.lang, first.voice, first.message_parts.actual_instance) == ("en-au", "female", 1)

    async def finished() -> bool:
        history = await clicksend.call(voice.get_voice_history)
        done = {m.message_id: m for m in history.data.data if m.status_code != "200"}
        return len(done) == 3

    await eventually(finished, "the three calls to end", timeout=90)
    history = {m.message_id: m for m in (await clicksend.call(voice.get_voice_history)).data.data}
    assert history[first.message_id].status == "Delivered"
    assert history[pressed.message_id].digits == "1"
    assert history[busy.message_id].status == "Failed"
    assert history[busy.message_id].status_text == "Failed: busy"
    receipts = await clicksend.call(voice.view_voice_receipts)
    by_id = {r.message_id: r for r in receipts.data.data}
    assert by_id[pressed.message_id].digits == "1"
    assert by_id[pressed.message_id].message_type == "voice"
    assert by_id[first.message_id].status_code == "201"


async def test_sdk5_voice_send_languages_and_history(
    clicksend: ClickSend, sdk5: ModuleType
) -> None:
    voice = sdk5.VoiceApi(sdk5_client(sdk5, clicksend))
    languages = parsed(await clicksend.call(voice.voice_lang_get))
    assert any(language["code"] == "de-de" for language in languages["data"])
    messages = sdk5.VoiceMessageCollection(
        messages=[
            sdk5.VoiceMessage(
                to=ANSWERS,
                body="Guten Tag.",
                voice="male",
                lang="de-de",
                custom_string="ref-voice",
                country="FI",
                machine_detection=1,
            )
        ]
    )
    sent = parsed(await clicksend.call(voice.voice_send_post, messages))
    [message] = sent["data"]["messages"]
    assert message["status"] == "SUCCESS" and message["machine_detection"] == 1

    async def delivered() -> bool:
        history = parsed(await clicksend.call(voice.voice_history_get))
        return any(
            m["message_id"] == message["message_id"] and m["status"] == "Delivered"
            for m in history["data"]["data"]
        )

    await eventually(delivered, "the call to be delivered", timeout=60)
    history = parsed(await clicksend.call(voice.voice_history_get))
    [entry] = [m for m in history["data"]["data"] if m["message_id"] == message["message_id"]]
    assert entry["custom_string"] == "ref-voice" and entry["machine_detected"] == 0
    # The SDK's export gives a link to the calls as CSV; receipts-read marks them all read.
    exported = parsed(await clicksend.call(voice.voice_history_export_get, "calls.csv"))
    async with httpx.AsyncClient(auth=clicksend.http.auth, timeout=30) as http:
        csv_file = await http.get(exported["data"]["url"])
    assert csv_file.status_code == 200 and message["message_id"] in csv_file.text
    await clicksend.call(
        voice.voice_receipts_read_put, date_before=sdk5.DateBefore(date_before=4e9)
    )
    assert parsed(await clicksend.call(voice.voice_receipts_get))["data"]["total"] == 0


async def test_voice_is_priced_per_300_characters_at_the_voice_price(
    clicksend: ClickSend,
) -> None:
    settings = clicksend.running.service.settings
    assert settings.voice_price_per_unit != settings.price_per_part
    body = "Your appointment is confirmed for Tuesday at nine. " * 14  # 714 characters
    answer = await clicksend.http.post(
        "/voice/price",
        json={"messages": [{"to": ANSWERS, "body": body, "voice": "female", "lang": "en-us"}]},
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    [priced] = data["messages"]
    assert priced["message_parts"] == 3
    assert float(priced["message_price"]) == float(settings.voice_price_per_unit * 3)
    assert data["total_price"] == float(settings.voice_price_per_unit * 3)
