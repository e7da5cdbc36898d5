"""The simulator's phone network, called by our own user agent over real UDP on 127.0.0.1."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest

from tests.integration.dispatch.conftest import eventually
from tests.interop.sip_harness import correlation
from tidings.net.rtp import MediaClock
from tidings.net.sip import SipTrunk
from tidings.rtp import g711
from tidings.rtp.ports import PortRange
from tidings.simulator import Simulator, SimulatorConfig
from tidings.simulator.phones import CallRecord, PhoneNetworkConfig
from tidings.sip.call import CallConfig, Outcome
from tidings.voice.amd import Verdict
from tidings.voice.caller import CallReport, Script, place_call
from tidings.voice.tts import EspeakEngine, Gender

ENGINE = EspeakEngine()
pytestmark = pytest.mark.skipif(not ENGINE.available(), reason="espeak-ng is not installed")
SPEECH = "This is the pharmacy. Your prescription is ready to collect."


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    config = SimulatorConfig(
        phones=PhoneNetworkConfig(rtp_ports=(31000, 31200)), control_port=0, smpp_port=0
    )
    async with Simulator(config) as running:
        yield running


@pytest.fixture
async def clock() -> AsyncIterator[MediaClock]:
    media = MediaClock()
    yield media
    await media.stop()


async def _call(
    simulator: Simulator, number: str, script: Script, clock: MediaClock, ring_timeout: float = 30.0
) -> tuple[CallReport, PortRange]:
    assert simulator.phones is not None
    port = simulator.phones.sip_port
    trunk = SipTrunk("127.0.0.1", port)
    await trunk.open()
    ports = PortRange(31400, 31500)
    try:
        config = CallConfig(
            target=f"sip:{number}@127.0.0.1:{port}",
            from_uri="sip:+61400000000@tidings.test",
            local_host=trunk.local_host,
            local_port=trunk.local_port,
            ring_timeout=ring_timeout,
        )
        return await place_call(trunk, config, script, ports=ports, clock=clock), ports
    finally:
        await trunk.close()


async def _ended(simulator: Simulator, number: str) -> CallRecord:
    """The number's latest call once the handset has hung up its side (it records then)."""
    phones = simulator.phones
    assert phones is not None

    async def ended() -> bool:
        calls = phones.calls(number)
        return bool(calls) and calls[0].ended_at is not None

    await eventually(ended, f"the call to {number} to end")
    return phones.calls(number)[0]


def _speech() -> np.ndarray:
    return ENGINE.render(SPEECH, "en-au", Gender.FEMALE).samples


async def test_an_answered_call_is_recorded_and_served_as_wav(
    simulator: Simulator, clock: MediaClock
) -> None:
    speech = _speech()
    report, ports = await _call(simulator, "+61411111110", Script(speech, repeat=0), clock)
    assert report.outcome is Outcome.COMPLETED and report.plays == 1
    assert ports.in_use == frozenset()
    await _ended(simulator, "61411111110")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{simulator.control_port}") as http:
        handset = (await http.get("/handsets/61411111110")).json()
        [call] = handset["calls"]
        assert call["outcome"] == "completed" and call["hung_up_by"] == "caller"
        assert call["behaviour"] == "answer"
        recording = await http.get(call["recording_url"])
    assert recording.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(recording.content)) as reader:
        assert reader.getframerate() == 8000
        heard = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    expected = g711.decode(g711.encode(speech, report.codec or "PCMU"), report.codec or "PCMU")
    assert correlation(expected, heard) > 0.85
    assert correlation(expected, np.zeros_like(heard)) < 0.1


@pytest.mark.parametrize(
    ("number", "outcome", "status"),
    [
        ("+61411111111", Outcome.BUSY, 486),
        ("+61411111115", Outcome.REJECTED, 603),
        ("+61411111112", Outcome.NO_ANSWER, 487),
    ],
)
async def test_busy_rejected_and_unanswered_handsets(
    simulator: Simulator, clock: MediaClock, number: str, outcome: Outcome, status: int
) -> None:
    # Only the unanswered call waits out its ring timeout; busy and rejected answer at once,
    # however slowly that comes on a loaded machine.
    ring_timeout = 1.5 if outcome is Outcome.NO_ANSWER else 30.0
    report, _ = await _call(simulator, number, Script(_speech()), clock, ring_timeout=ring_timeout)
    assert (report.outcome, report.sip_status) == (outcome, status)
    call = await _ended(simulator, number)
    assert call.recording is None and call.answered_at is None


async def test_a_handset_that_presses_a_key(simulator: Simulator, clock: MediaClock) -> None:
    script = Script(np.tile(_speech(), 3), repeat=0, require_input=True)
    report, _ = await _call(simulator, "+61411111114", script, clock)
    assert report.keypress == "1" and report.plays == 0
    assert (await _ended(simulator, "61411111114")).pressed == "1"


async def test_voicemail_is_detected_and_the_message_left_after_the_beep(
    simulator: Simulator, clock: MediaClock
) -> None:
    speech = _speech()
    script = Script(speech, repeat=0, machine_detection=True)
    report, _ = await _call(simulator, "+61411111113", script, clock)
    assert report.outcome is Outcome.COMPLETED
    assert report.machine is Verdict.MACHINE and report.beep
    assert report.plays == 1
    call = await _ended(simulator, "61411111113")
    assert call.recording is not None
    with wave.open(io.BytesIO(call.recording)) as reader:
        heard = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    # The message was left whole after the greeting: it is in the recording, late.
    expected = g711.decode(g711.encode(speech, report.codec or "PCMU"), report.codec or "PCMU")
    assert correlation(expected, heard, max_lag=len(heard)) > 0.8
    assert len(heard) > len(speech) + 3 * 8000


async def test_a_person_is_detected_as_human(simulator: Simulator, clock: MediaClock) -> None:
    script = Script(_speech(), repeat=0, machine_detection=True)
    report, _ = await _call(simulator, "+61411111110", script, clock)
    # The simulated person says nothing: 3 s of silence is a person, and the message plays.
    assert report.machine is Verdict.HUMAN and report.plays == 1
