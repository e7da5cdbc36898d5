"""baresip, a SIP phone of its own, as the far end: it answers (or only rings), decodes what
we send and records it, and presses keys when told."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.dispatch.conftest import eventually
from tests.interop.sip_harness import Baresip, correlation, running_baresip
from tidings.net.rtp import MediaClock
from tidings.net.sip import SipTrunk
from tidings.rtp import g711
from tidings.rtp.ports import PortRange
from tidings.sip.call import CallConfig, Outcome
from tidings.voice.caller import CallReport, Script, place_call
from tidings.voice.tts import EspeakEngine, Gender

pytestmark = pytest.mark.interop

ENGINE = EspeakEngine()


@pytest.fixture
async def clock() -> AsyncIterator[MediaClock]:
    media = MediaClock()
    yield media
    await media.stop()


@pytest.fixture
def speech() -> np.ndarray:
    if not ENGINE.available():
        pytest.skip("espeak-ng is not installed")
    return ENGINE.render(
        "Your parcel arrives on Thursday between nine and twelve.", "en-gb", Gender.MALE
    ).samples


async def _call(
    port: int, script: Script, clock: MediaClock, *, ring_timeout: float = 30.0
) -> CallReport:
    trunk = SipTrunk("127.0.0.1", port)
    await trunk.open()
    try:
        config = CallConfig(
            target=f"sip:phone@127.0.0.1:{port}",
            from_uri="sip:+61400000000@tidings.test",
            local_host=trunk.local_host,
            local_port=trunk.local_port,
            ring_timeout=ring_timeout,
        )
        return await place_call(trunk, config, script, ports=PortRange(30200, 30300), clock=clock)
    finally:
        await trunk.close()


async def _recording_started(phone: Baresip) -> None:
    """baresip opens its recording when it answers and hears our first RTP."""

    async def started() -> bool:
        return any(phone.recordings.glob("*-dec.wav"))

    await eventually(started, "baresip to answer and hear the call")


async def _recording_closed(phone: Baresip) -> None:
    """baresip writes the recording's length into its header when it closes it, as the call
    ends."""

    async def closed() -> bool:
        for recording in phone.recordings.glob("*-dec.wav"):
            try:
                with wave.open(str(recording), "rb") as reader:
                    return reader.getnframes() > 0
            except (EOFError, wave.Error):
                return False
        return False

    await eventually(closed, "baresip to close its recording")


async def test_baresip_hears_the_speech(
    tmp_path: Path, clock: MediaClock, speech: np.ndarray
) -> None:
    with running_baresip(tmp_path) as phone:
        report = await _call(phone.port, Script(speech, repeat=1, pause_between=0.5), clock)
        await _recording_closed(phone)
        heard = phone.heard()
    assert report.outcome is Outcome.COMPLETED and report.plays == 2, report
    expected = g711.decode(g711.encode(speech, report.codec or "PCMU"), report.codec or "PCMU")
    # Twice the speech, half a second apart, then the half second before the BYE.
    assert abs(len(heard) - (2 * len(expected) + 8000)) < 0.5 * 8000, (len(heard), len(expected))
    first, second = heard[: len(heard) // 2], heard[len(heard) // 2 :]
    assert correlation(expected, first) > 0.85
    assert correlation(expected, second) > 0.85
    assert correlation(expected, np.zeros_like(first)) < 0.1


async def test_a_key_pressed_on_baresip(
    tmp_path: Path, clock: MediaClock, speech: np.ndarray
) -> None:
    with running_baresip(tmp_path) as phone:
        task = asyncio.ensure_future(
            _call(phone.port, Script(np.tile(speech, 4), repeat=0, require_input=True), clock)
        )
        await _recording_started(phone)
        await asyncio.to_thread(phone.press, "7")
        report = await task
    assert report.keypress == "7"
    assert report.outcome is Outcome.COMPLETED and report.plays == 0


async def test_a_phone_nobody_answers(
    tmp_path: Path, clock: MediaClock, speech: np.ndarray
) -> None:
    with running_baresip(tmp_path, auto_answer=False) as phone:
        report = await _call(phone.port, Script(speech), clock, ring_timeout=1.5)
    assert (report.outcome, report.sip_status) == (Outcome.NO_ANSWER, 487)
