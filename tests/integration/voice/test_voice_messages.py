"""Voice messages through the whole service: the API, the dispatcher's sip route, the phone
network simulator, the statuses and what the call told."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.integration.events.sink import Sink
from tidings.cli import app
from tidings.core import routing
from tidings.lifecycle import FINAL_STATUSES
from tidings.voice.tts import EspeakEngine

pytestmark = pytest.mark.skipif(not EspeakEngine().available(), reason="espeak-ng is missing")

FINAL = frozenset(status.value for status in FINAL_STATUSES)
TEXT = "Hello. Your table for two is booked for eight tonight. Press one to confirm."


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    async with running_service(service_settings(tmp_path, database_url)) as started:
        yield started


async def _send(running: Running, to: str, **options: Any) -> str:
    return await running.send_one(to, channel="voice", body=TEXT, **options)


async def _history(running: Running, message_id: str) -> list[str]:
    message = await running.message(message_id)
    return [entry["status"] for entry in message.get("history", [])]


async def test_an_answered_call_is_delivered_after_calling_ringing_answered(
    running: Running,
) -> None:
    message_id = await _send(running, "+61411111110", repeat=0)
    message = await running.wait_for(message_id, FINAL)
    assert message["status"] == "delivered", message
    assert message["channel"] == "voice"
    assert message["voice"] == {
        "lang": "en-us",
        "voice": "female",
        "require_input": False,
        "machine_detection": False,
        "repeat": 0,
    }
    call = message["call"]
    assert call["plays"] == 1 and call["units"] == 1 and call["duration_seconds"] > 3
    statuses = await _history(running, message_id)
    assert statuses[:1] == ["queued"] and statuses[-1] == "delivered"
    for progress in ("calling", "ringing", "answered"):
        assert progress in statuses, statuses
    # The handset heard it: its call is in the simulator with a recording.
    handset = (await running.http.get("/v1/simulator/handsets/61411111110")).json()
    [heard] = handset["calls"]
    assert heard["outcome"] == "completed" and heard["recording_url"]
    recording = await running.http.get(heard["recording_url"])
    assert recording.headers["content-type"] == "audio/wav"


@pytest.mark.parametrize(
    ("to", "status", "error_code"),
    [("+61411111111", "busy", "sip-486"), ("+61411111115", "rejected", "sip-603")],
)
async def test_busy_and_declined_calls(
    running: Running, to: str, status: str, error_code: str
) -> None:
    message = await running.wait_for(await _send(running, to), FINAL)
    assert (message["status"], message["error_code"]) == (status, error_code)
    assert message["call"]["sip_status"] == int(error_code.removeprefix("sip-"))


async def test_a_key_press_is_stored_on_the_message(running: Running) -> None:
    message_id = await _send(running, "+61411111114", require_input=True)
    message = await running.wait_for(message_id, FINAL)
    assert message["status"] == "delivered"
    assert message["call"]["keypress"] == "1"


async def test_a_key_press_is_a_voice_keypress_webhook(tmp_path: Path, database_url: str) -> None:
    settings = service_settings(tmp_path, database_url, webhook_allow_loopback=True)
    async with running_service(settings) as running:
        sink = Sink()
        await sink.start()
        try:
            subscribed = await running.http.post(
                "/v1/webhooks", json={"url": f"{sink.url}/keys", "events": ["voice.keypress"]}
            )
            assert subscribed.status_code == 201, subscribed.text
            message_id = await _send(running, "+61411111114", require_input=True)
            message = await running.wait_for(message_id, FINAL)
            # The call heard the key first: otherwise no keypress event is due, and a missing
            # webhook would say nothing of the webhooks.
            assert message["call"]["keypress"] == "1", message

            async def arrived() -> bool:
                return bool(sink.received)

            await eventually(arrived, "the voice.keypress webhook")
        finally:
            await sink.stop()
    [request] = sink.received  # the subscription hears key presses, not every status
    event = json.loads(request.body)
    assert event["type"] == "voice.keypress"
    assert event["data"]["message_id"] == message_id
    assert event["data"]["keypress"] == "1"
    assert event["data"]["to"] == "+61411111114"
    assert event["data"]["call_id"] == message["call"]["call_id"]


async def test_voicemail_is_detected(running: Running) -> None:
    message_id = await _send(running, "+61411111113", machine_detection=True, repeat=0)
    message = await running.wait_for(message_id, FINAL)
    assert message["status"] == "delivered"
    assert message["call"]["answered_by"] == "machine" and message["call"]["beep"] is True


async def test_voice_options_are_checked(running: Running) -> None:
    unsupported = await running.http.post(
        "/v1/messages",
        json={
            "to": "+61411111110",
            "from": "Tidings",
            "body": "hi",
            "channel": "voice",
            "lang": "xx-yy",
        },
    )
    assert unsupported.status_code == 422 and "xx-yy" in unsupported.text
    on_sms = await running.http.post(
        "/v1/messages",
        json={"to": "+61411111110", "from": "Tidings", "body": "hi", "lang": "en-us"},
    )
    assert on_sms.status_code == 422 and "lang" in on_sms.text
    too_long = await running.http.post(
        "/v1/messages",
        json={"to": "+61411111110", "from": "Tidings", "body": "x" * 1201, "channel": "voice"},
    )
    assert too_long.status_code == 422
    languages = (await running.http.get("/v1/voice/languages")).json()
    codes = {language["code"] for language in languages["languages"]}
    assert {"en-us", "en-au", "de-de", "fr-fr"} <= codes
    assert languages["engine"] == "espeak-ng"


async def test_tidings_send_voice(tmp_path: Path, database_url: str) -> None:
    settings = service_settings(tmp_path, database_url)
    async with running_service(settings, demo_account=True) as running:
        demo = running.service.demo
        assert demo is not None
        env = {
            "TIDINGS_URL": f"http://127.0.0.1:{running.service.http_port}",
            "TIDINGS_API_SECRET": demo.secret,
            "COLUMNS": "200",
        }
        args = [
            "send",
            "--voice",
            "--lang",
            "en-gb",
            "--gender",
            "male",
            "--require-input",
            "--from",
            "Tidings",
            "--to",
            "+61411111114",
            "--wait",
            "60",
            "Press a key.",
        ]
        result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
        refused = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            ["send", "--lang", "en-gb", "--from", "T", "--to", "+61411111114", "hi"],
            env=env,
        )
    assert result.exit_code == 0, result.output
    assert "(a call)" in result.stdout
    lines = result.stdout.strip().splitlines()
    assert lines[-2].strip() == "delivered"
    assert "key pressed: 1" in lines[-1]
    assert refused.exit_code == 2 and "--voice" in refused.output


async def test_a_preview_gives_the_speech(running: Running) -> None:
    body = {
        "to": "+61411111110",
        "from": "Tidings",
        "body": TEXT * 5,
        "channel": "voice",
        "lang": "en-au",
        "voice": "male",
    }
    preview = await running.http.post("/v1/messages/preview", json=body)
    assert preview.status_code == 200, preview.text
    voice = preview.json()["voice"]
    assert voice["units"] == 2 and voice["language"] == "en-au" and voice["voice"] == "male"
    # Billed per 300 characters at the voice price, not per SMS part.
    settings = running.service.settings
    assert Decimal(preview.json()["price"]) == settings.voice_price_per_unit * 2
    assert voice["seconds"] > 20
    audio = await running.http.post(
        "/v1/messages/preview", json=body, headers={"Accept": "audio/wav"}
    )
    assert audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as reader:
        assert reader.getframerate() == 8000
        assert reader.getnframes() / 8000 == pytest.approx(voice["seconds"], abs=0.01)


async def test_calls_beyond_the_routes_limit_wait(running: Running) -> None:
    service = running.service
    await routing.update_route(
        service.database, service.transports, "voice", settings={"max_calls": 1}
    )
    dispatcher = service.dispatcher
    assert dispatcher is not None

    async def edited() -> bool:
        # The dispatcher takes the edit at its next look at the routes: a new runner.
        runners = dispatcher._runners.values()
        return any(getattr(r.transport.settings, "max_calls", None) == 1 for r in runners)

    await eventually(edited, "the route's runner to take max_calls 1")
    first = await _send(running, "+61411111120", repeat=0)
    second = await _send(running, "+61411111130", repeat=0)
    for message_id in (first, second):
        assert (await running.wait_for(message_id, FINAL))["status"] == "delivered"
    phones = service.simulator.phones if service.simulator else None
    assert phones is not None
    [one], [two] = phones.calls("61411111120"), phones.calls("61411111130")
    earlier, later = sorted([one, two], key=lambda call: call.started_at)
    assert earlier.ended_at is not None
    assert later.started_at >= earlier.ended_at  # one call at a time
