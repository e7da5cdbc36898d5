"""Our SIP user agent and RTP against SIPp, an independent SIP implementation, over UDP.

Each SIPp scenario checks what we send (the INVITE's SDP offer, the ACK, CANCEL and BYE) and
exits non-zero if anything was missing or out of order. The audio test has SIPp echo our RTP
back; what comes back is decoded and compared with the speech we rendered, so a call that
"succeeds" in silence fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.interop.sip_harness import SIPP_DTMF_PCAP, correlation, running_sipp
from tidings.net.rtp import MediaClock
from tidings.net.sip import SipTrunk
from tidings.rtp import g711
from tidings.rtp.ports import PortRange
from tidings.sip.call import CallConfig, Credentials, Outcome
from tidings.voice.caller import CallReport, Script, place_call
from tidings.voice.tts import EspeakEngine, Gender

pytestmark = pytest.mark.interop

ENGINE = EspeakEngine()
TEXT = "Hello, this is a reminder of your appointment tomorrow at ten."


@pytest.fixture
async def clock() -> AsyncIterator[MediaClock]:
    media = MediaClock()
    yield media
    await media.stop()


@pytest.fixture
def speech() -> np.ndarray:
    if not ENGINE.available():
        pytest.skip("espeak-ng is not installed")
    return ENGINE.render(TEXT, "en-us", Gender.FEMALE).samples


async def _call(
    port: int,
    script: Script,
    clock: MediaClock,
    *,
    ring_timeout: float = 30.0,
    credentials: Credentials | None = None,
    transport: str = "UDP",
) -> tuple[CallReport, PortRange]:
    trunk = SipTrunk("127.0.0.1", port, transport=transport)
    await trunk.open()
    ports = PortRange(30000, 30100)
    try:
        config = CallConfig(
            target=f"sip:+61411111111@127.0.0.1:{port}",
            from_uri="sip:+61400000000@tidings.test",
            local_host=trunk.local_host,
            local_port=trunk.local_port,
            ring_timeout=ring_timeout,
            credentials=credentials,
            transport=transport,
        )
        report = await place_call(trunk, config, script, ports=ports, clock=clock)
    finally:
        await trunk.close()
    return report, ports


async def test_an_answered_call_carries_the_speech_to_sipp_and_back(
    tmp_path: Path, clock: MediaClock, speech: np.ndarray
) -> None:
    with running_sipp("answer_echo.xml", tmp_path, rtp_echo=True) as sipp:
        report, ports = await _call(sipp.port, Script(speech, repeat=0, keep_audio=True), clock)
        assert sipp.finish() == 0, sipp.describe()
    assert report.outcome is Outcome.COMPLETED, report
    assert report.plays == 1 and report.codec == "PCMU"
    assert ports.in_use == frozenset()  # the RTP port went back
    heard = report.heard
    assert heard is not None
    # What SIPp received and sent back is our speech: as long, and the same waveform (after
    # G.711 both ways).
    expected = g711.decode(g711.encode(speech, "PCMU"), "PCMU")
    assert -0.3 * 8000 < len(heard) - len(expected) < 1.0 * 8000, (len(heard), len(expected))
    similarity = correlation(expected, heard)
    assert similarity > 0.9, similarity
    # A silent call would not pass: the same check on silence fails.
    assert correlation(expected, np.zeros_like(heard)) < 0.1
    assert report.duration >= len(speech) / 8000


async def test_sip_over_tcp(tmp_path: Path, clock: MediaClock, speech: np.ndarray) -> None:
    with running_sipp("answer_echo.xml", tmp_path, rtp_echo=True, tcp=True) as sipp:
        script = Script(speech, repeat=0, keep_audio=True)
        report, _ = await _call(sipp.port, script, clock, transport="TCP")
        assert sipp.finish() == 0, sipp.describe()
    assert report.outcome is Outcome.COMPLETED and report.plays == 1, report
    assert report.heard is not None
    expected = g711.decode(g711.encode(speech, "PCMU"), "PCMU")
    assert correlation(expected, report.heard) > 0.9


async def test_busy(tmp_path: Path, clock: MediaClock, speech: np.ndarray) -> None:
    with running_sipp("busy.xml", tmp_path) as sipp:
        report, _ = await _call(sipp.port, Script(speech), clock)
        assert sipp.finish() == 0, sipp.describe()
    assert (report.outcome, report.sip_status) == (Outcome.BUSY, 486)


async def test_no_answer_is_cancelled_at_the_ring_timeout(
    tmp_path: Path, clock: MediaClock, speech: np.ndarray
) -> None:
    with running_sipp("no_answer.xml", tmp_path) as sipp:
        report, _ = await _call(sipp.port, Script(speech), clock, ring_timeout=1.5)
        assert sipp.finish() == 0, sipp.describe()
    assert (report.outcome, report.sip_status) == (Outcome.NO_ANSWER, 487)


async def test_digest_authentication(tmp_path: Path, clock: MediaClock, speech: np.ndarray) -> None:
    with running_sipp("auth.xml", tmp_path) as sipp:
        report, _ = await _call(
            sipp.port,
            Script(speech[:8000], repeat=0),
            clock,
            credentials=Credentials("tidings", "secret"),
        )
        assert sipp.finish() == 0, sipp.describe()
    assert report.outcome is Outcome.COMPLETED and report.codec == "PCMA"


async def test_wrong_credentials_fail_with_the_trunks_code(
    tmp_path: Path, clock: MediaClock, speech: np.ndarray
) -> None:
    with running_sipp("auth.xml", tmp_path) as sipp:
        report, _ = await _call(
            sipp.port, Script(speech, repeat=0), clock, credentials=Credentials("tidings", "wrong")
        )
        sipp.finish()
    assert (report.outcome, report.sip_status) == (Outcome.FAILED, 403)


async def test_a_keypress_over_rfc4733(
    tmp_path: Path, clock: MediaClock, speech: np.ndarray
) -> None:
    if not SIPP_DTMF_PCAP.exists():
        pytest.skip(f"{SIPP_DTMF_PCAP} is not installed with SIPp")
    with running_sipp("dtmf.xml", tmp_path, replacements={"__PCAP__": str(SIPP_DTMF_PCAP)}) as sipp:
        script = Script(np.tile(speech, 3), repeat=0, require_input=True, input_timeout=30.0)
        report, _ = await _call(sipp.port, script, clock)
        assert sipp.finish() == 0, sipp.describe()
    assert report.keypress == "5"
    assert report.outcome is Outcome.COMPLETED
    # The key stopped the message: it was not played to its end.
    assert report.plays == 0
    assert report.duration < 3 * len(speech) / 8000


async def test_the_far_end_hangs_up_first(
    tmp_path: Path, clock: MediaClock, speech: np.ndarray
) -> None:
    with running_sipp("far_hangup.xml", tmp_path, replacements={"__HANGUP_MS__": "1500"}) as sipp:
        report, _ = await _call(sipp.port, Script(np.tile(speech, 3), repeat=0), clock)
        assert sipp.finish() == 0, sipp.describe()
    assert report.outcome is Outcome.COMPLETED and report.hung_up_by_remote
    assert report.plays == 0
    assert 1.0 < report.duration < 4.0
