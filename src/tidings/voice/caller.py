"""The script of one voice message call: dial, listen, speak, take a key press, hang up.

``place_call`` opens the call's media port, sends the INVITE through a :class:`SipTrunk`,
reports progress (ringing, answered) as it happens, and once answered:

1. with machine detection, listens to the first seconds (``voice.amd``); on a machine, waits
   for its greeting to end (a pause or the beep) before speaking;
2. plays the speech, then again ``repeat`` times after a short pause;
3. with ``require_input``, listens for a key press (RFC 4733 events, or SIP INFO) while it
   speaks and for ``input_timeout`` seconds after; the first key stops the playback;
4. hangs up (or notices that the far end did) and returns what happened.

The port goes back to the range whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tidings.net.rtp import MediaClock, RtpSession
from tidings.net.sip import SipTrunk
from tidings.rtp import g711
from tidings.rtp.ports import PortRange
from tidings.sip import sdp
from tidings.sip.call import (
    Answered,
    Call,
    CallConfig,
    CallEvent,
    Ended,
    InfoDigit,
    Outcome,
    Proceeding,
    Ringing,
)
from tidings.voice.amd import AmdSettings, Detector, GreetingEnd, Verdict

_FRAME = 160  # samples in 20 ms


@dataclass(frozen=True, slots=True)
class Script:
    speech: npt.NDArray[np.int16]  # 8 kHz linear samples
    repeat: int = 1
    pause_between: float = 1.0
    require_input: bool = False
    input_timeout: float = 8.0
    machine_detection: bool = False
    amd: AmdSettings = field(default_factory=AmdSettings)
    # Before the BYE: the far end's jitter buffer still holds the last words.
    linger: float = 0.5
    keep_audio: bool = False  # keep what the far end sent (the simulator's and tests' ear)


@dataclass(slots=True)
class CallReport:
    outcome: Outcome
    sip_status: int | None
    reason: str
    call_id: str
    duration: float = 0.0  # seconds from answer to hang-up
    keypress: str | None = None
    machine: Verdict | None = None
    beep: bool = False
    plays: int = 0  # how many times the speech was played to its end
    codec: str | None = None
    hung_up_by_remote: bool = False
    heard: npt.NDArray[np.int16] | None = None


Progress = Callable[[str], None]  # "calling" (the trunk took it), "ringing", "answered"


@dataclass(slots=True)
class _Waiters:
    answered: asyncio.Future[sdp.MediaDescription]
    ended: asyncio.Future[Ended]
    digit: asyncio.Future[str]


async def place_call(
    trunk: SipTrunk,
    config: CallConfig,
    script: Script,
    *,
    ports: PortRange,
    clock: MediaClock,
    progress: Progress | None = None,
    on_start: Callable[[str], None] | None = None,
) -> CallReport:
    """Run one call to its end; ``on_start`` hears its Call-ID before the INVITE goes out."""
    loop = asyncio.get_running_loop()
    session = RtpSession(ports, clock)
    await session.open(trunk.local_host)
    waiters = _Waiters(loop.create_future(), loop.create_future(), loop.create_future())
    keypress: list[str] = []

    def on_digit(digit: str) -> None:
        if not keypress:
            keypress.append(digit)
        if not waiters.digit.done():
            waiters.digit.set_result(digit)

    def on_event(call: Call, event: CallEvent) -> None:
        if isinstance(event, Proceeding) and progress is not None:
            progress("calling")
        elif isinstance(event, Ringing) and progress is not None:
            progress("ringing")
        elif isinstance(event, Answered):
            session.start(event.media)
            if not waiters.answered.done():
                waiters.answered.set_result(event.media)
        elif isinstance(event, InfoDigit):
            on_digit(event.digit)
        elif isinstance(event, Ended):
            for waiter in (waiters.answered, waiters.digit):
                if not waiter.done():
                    waiter.cancel()
            if not waiters.ended.done():
                waiters.ended.set_result(event)

    session.on_digit = on_digit
    offer = sdp.build_offer(
        address=trunk.local_host, port=session.port, session_id=secrets.randbits(31)
    )
    call = Call(config, offer=offer, now=loop.time())
    report = CallReport(Outcome.FAILED, None, "", call.call_id)
    try:
        if on_start is not None:
            on_start(call.call_id)
        trunk.place(call, on_event)
        try:
            media = await waiters.answered
        except asyncio.CancelledError:
            if not waiters.ended.done():
                raise
            media = None
        if media is not None:
            report.codec = media.codec.name
            if progress is not None:
                progress("answered")
            await _converse(session, script, waiters, report)
            if call.ended is None:
                trunk.hangup(call)
        ended = await waiters.ended
        report.outcome = ended.outcome
        report.sip_status = ended.status
        report.reason = ended.reason
        report.hung_up_by_remote = ended.by_remote
        report.duration = call.duration
        report.keypress = keypress[0] if keypress else None
        if script.keep_audio:
            report.heard = session.receiver.pcm()
        return report
    finally:
        if call.ended is None:
            trunk.hangup(call)
        session.close()


async def _converse(
    session: RtpSession, script: Script, waiters: _Waiters, report: CallReport
) -> None:
    ended = waiters.ended
    if script.machine_detection:
        verdict, beep = await _listen_for_machine(session, script.amd, ended)
        report.machine, report.beep = verdict, beep
        if ended.done():
            return
    audio = g711.encode(script.speech, session.codec)
    for play in range(1 + script.repeat):
        if ended.done() or (script.require_input and waiters.digit.done()):
            break
        if play:
            await _wait_any(script.pause_between, ended, waiters.digit)
            if ended.done() or (script.require_input and waiters.digit.done()):
                break
        playing = asyncio.ensure_future(session.play(audio))
        stops: list[asyncio.Future[Any]] = [playing, ended]
        if script.require_input:
            stops.append(waiters.digit)
        await asyncio.wait(stops, return_when=asyncio.FIRST_COMPLETED)
        if not playing.done():
            session.stop_playing()
        finished = await playing
        if finished:
            report.plays += 1
    if script.require_input and not ended.done() and not waiters.digit.done():
        await _wait_any(script.input_timeout, ended, waiters.digit)
    if not ended.done():
        await _wait_any(script.linger, ended)


async def _wait_any(delay: float, *futures: asyncio.Future[Any]) -> None:
    """Until ``delay`` has passed or one of ``futures`` is done."""
    timer = asyncio.ensure_future(asyncio.sleep(delay))
    try:
        await asyncio.wait([timer, *futures], return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer


async def _listen_for_machine(
    session: RtpSession, settings: AmdSettings, ended: asyncio.Future[Ended]
) -> tuple[Verdict, bool]:
    """Feed the detector 20 ms at a time as time passes; then wait out a machine's greeting.

    Audio is read by its place in time, 60 ms behind the clock so late packets have landed;
    what never arrived counts as silence (a far end that sends nothing is silent).
    """
    loop = asyncio.get_running_loop()
    detector = Detector(settings)
    greeting = GreetingEnd(settings)
    receiver = session.receiver
    started = loop.time()
    position = 0
    verdict: Verdict | None = None
    while not ended.done():
        await _wait_any(0.1, ended)
        target = int((loop.time() - started - 0.06) * 8000)
        target -= (target - position) % _FRAME
        if target <= position:
            continue
        pcm = receiver.pcm(position, target)
        if len(pcm) < target - position:
            pcm = np.concatenate([pcm, np.zeros(target - position - len(pcm), np.int16)])
        position = target
        for offset in range(0, len(pcm), _FRAME):
            frame = pcm[offset : offset + _FRAME]
            if verdict is None:
                verdict = detector.feed(frame)
                if verdict is Verdict.HUMAN:
                    return verdict, False
            elif greeting.feed(frame):
                return verdict, greeting.beep
    return verdict or Verdict.HUMAN, False
