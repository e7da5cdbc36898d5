"""The embedded phone network: a SIP endpoint per simulated number, beside the SMSC.

It listens on one UDP port as a trunk would. An INVITE to ``sip:<number>@…`` reaches that
number's handset, which behaves as the first matching :class:`PhoneRule` says: answers, is
busy, never answers, answers as voicemail (a spoken greeting and a beep, then it records),
answers and presses a key some seconds later, or declines. Every handset records what it hears
from the answer to the hang-up; each call is kept with its recording as a WAV file, served by
the control API (``/handsets/{number}`` lists the calls, ``…/calls/{call_id}.wav`` plays one in
a browser).

The SIP side is :class:`tidings.sip.uas.IncomingCall`, the media our own RTP session: the
simulator is for people and tests to look at; the independent peers that prove the voice
channel are SIPp and baresip.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import structlog

from tidings.core.voice import Gender
from tidings.net.rtp import MediaClock, RtpSession
from tidings.rtp import g711
from tidings.rtp.dtmf import digit_events
from tidings.rtp.ports import PortRange
from tidings.sip import sdp
from tidings.sip.errors import RemoteProtocolError
from tidings.sip.message import Request, SipUri, parse_message, response_to
from tidings.sip.uas import (
    Cancelled,
    Confirmed,
    HungUp,
    IncomingCall,
    Terminated,
    UasEvent,
    UasState,
)
from tidings.voice.tts import SpeechEngine, wav_bytes

log = structlog.get_logger("tidings.simulator")


class Behaviour(StrEnum):
    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    PRESS = "press"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class PhoneRule:
    """A behaviour for the numbers it matches (``prefix``/``suffix``, "+" ignored)."""

    behaviour: Behaviour
    prefix: str | None = None
    suffix: str | None = None
    digit: str = "1"  # for PRESS
    press_after: float = 2.0  # seconds after the answer, for PRESS
    ring_seconds: float = 1.0

    def matches(self, number: str) -> bool:
        if self.prefix is not None and not number.startswith(self.prefix):
            return False
        return self.suffix is None or number.endswith(self.suffix)


# By the last digit, like the SMSC's rules: …1 busy, …2 never answers, …3 voicemail, …4 answers
# and presses 1 after two seconds, …5 declines; every other number answers.
DEFAULT_PHONE_RULES: tuple[PhoneRule, ...] = (
    PhoneRule(Behaviour.BUSY, suffix="1"),
    PhoneRule(Behaviour.NO_ANSWER, suffix="2"),
    PhoneRule(Behaviour.VOICEMAIL, suffix="3"),
    PhoneRule(Behaviour.PRESS, suffix="4"),
    PhoneRule(Behaviour.REJECT, suffix="5"),
)
_ANSWER = PhoneRule(Behaviour.ANSWER)


def choose_behaviour(rules: Sequence[PhoneRule], number: str) -> PhoneRule:
    number = number.removeprefix("+")
    return next((rule for rule in rules if rule.matches(number)), _ANSWER)


@dataclass(frozen=True, slots=True)
class PhoneNetworkConfig:
    host: str = "127.0.0.1"
    sip_port: int = 0
    rtp_ports: tuple[int, int] = (40000, 40999)
    rules: tuple[PhoneRule, ...] = DEFAULT_PHONE_RULES
    calls_per_number: int = 20
    max_call_seconds: float = 600.0
    greeting_language: str = "en-us"


@dataclass(slots=True)
class CallRecord:
    call_id: str
    number: str
    caller: str
    behaviour: Behaviour
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str = "ringing"  # answered, busy, no_answer, rejected, cancelled, completed
    pressed: str | None = None
    hung_up_by: str | None = None  # "caller" or "handset"
    recording: bytes | None = field(default=None, repr=False)
    heard_seconds: float = 0.0
    # RFC 3550 interarrival jitter of the caller's stream, and packets received.
    jitter_ms: float = 0.0
    packets: int = 0

    def as_json(self, handset_path: str) -> dict[str, Any]:
        """``handset_path``: the URL path of this number's handset, where recordings hang."""
        return {
            "call_id": self.call_id,
            "number": self.number,
            "from": self.caller,
            "behaviour": self.behaviour.value,
            "outcome": self.outcome,
            "started_at": self.started_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "pressed": self.pressed,
            "hung_up_by": self.hung_up_by,
            "heard_seconds": round(self.heard_seconds, 2),
            "jitter_ms": round(self.jitter_ms, 3),
            "packets": self.packets,
            "recording_url": (
                f"{handset_path}/calls/{self.call_id}.wav" if self.recording is not None else None
            ),
        }


class _Handset:
    """One call to one simulated number, from INVITE to hang-up."""

    def __init__(
        self, network: PhoneNetwork, call: IncomingCall, rule: PhoneRule, record: CallRecord
    ) -> None:
        self.network = network
        self.call = call
        self.rule = rule
        self.record = record
        self.addr: tuple[str, int] = ("", 0)
        self.events: asyncio.Queue[UasEvent] = asyncio.Queue()
        self.timer: asyncio.TimerHandle | None = None
        self.session: RtpSession | None = None


class PhoneNetwork:
    def __init__(self, config: PhoneNetworkConfig, *, speech: SpeechEngine | None = None) -> None:
        self.config = config
        self.speech = speech
        self.sip_port = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._handsets: dict[str, _Handset] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._calls: dict[str, deque[CallRecord]] = {}
        self._ports = PortRange(*config.rtp_ports)
        self._clock = MediaClock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.running = False

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        # Bound here rather than by create_datagram_endpoint(local_addr=...): uvloop's failure
        # to bind drops the errno (a port in use could not be told apart) and leaves its
        # transport open.
        host = self.config.host
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, self.config.sip_port))
        except OSError:
            sock.close()
            raise
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        self._transport = transport
        self.sip_port = transport.get_extra_info("sockname")[1]
        self.running = True

    async def stop(self) -> None:
        self.running = False
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._clock.stop()
        if self._transport is not None:
            self._transport.close()

    # --- what the control API shows -----------------------------------------------------------

    def calls(self, number: str) -> list[CallRecord]:
        return list(self._calls.get(number.removeprefix("+"), ()))

    def numbers(self) -> list[str]:
        """The numbers that have been called (and not cleared)."""
        return list(self._calls)

    def recording(self, number: str, call_id: str) -> bytes | None:
        for record in self.calls(number):
            if record.call_id == call_id:
                return record.recording
        return None

    def clear(self, number: str) -> None:
        self._calls.pop(number.removeprefix("+"), None)

    # --- SIP ----------------------------------------------------------------------------------

    def datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip(b"\r\n"):
            return
        try:
            message = parse_message(data)
        except RemoteProtocolError as error:
            log.info("phones.malformed", error=error.message)
            return
        handset = self._handsets.get(message.call_id)
        if handset is not None:
            self._drive(handset, handset.call.receive(message, self._now()))
            return
        if isinstance(message, Request) and message.method == "INVITE":
            self._new_call(message, addr)
        elif isinstance(message, Request) and message.method != "ACK":
            self._send(response_to(message, 481).encode(), addr)

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._transport is not None:
            self._transport.sendto(data, addr)

    def _new_call(self, invite: Request, addr: tuple[str, int]) -> None:
        try:
            number = (SipUri.parse(invite.uri).user or "").removeprefix("+")
        except RemoteProtocolError:
            number = ""
        if not number:
            self._send(response_to(invite, 404).encode(), addr)
            return
        contact = f"<sip:{number}@{self.config.host}:{self.sip_port}>"
        call = IncomingCall(invite, contact=contact, reliable=False, now=self._now())
        rule = choose_behaviour(self.config.rules, number)
        record = CallRecord(
            call.call_id,
            number,
            call.caller.uri,
            rule.behaviour,
            datetime.now(UTC),
        )
        calls = self._calls.setdefault(number, deque(maxlen=self.config.calls_per_number))
        calls.appendleft(record)
        handset = _Handset(self, call, rule, record)
        handset.addr = addr
        self._handsets[call.call_id] = handset
        self._drive(handset, [])
        task = asyncio.get_running_loop().create_task(self._behave(handset))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _drive(self, handset: _Handset, events: list[UasEvent]) -> None:
        call = handset.call
        for data in call.take_outgoing():
            self._send(data, handset.addr)
        for event in events:
            handset.events.put_nowait(event)
        if handset.timer is not None:
            handset.timer.cancel()
            handset.timer = None
        deadline = call.next_deadline()
        if deadline is not None and self._loop is not None:
            handset.timer = self._loop.call_at(deadline, self._fire, handset)

    def _fire(self, handset: _Handset) -> None:
        handset.timer = None
        self._drive(handset, handset.call.poll(self._now()))

    # --- behaviours ---------------------------------------------------------------------------

    async def _behave(self, handset: _Handset) -> None:
        call, rule, record = handset.call, handset.rule, handset.record
        try:
            if rule.behaviour is Behaviour.BUSY:
                call.refuse(486, self._now())
                record.outcome = "busy"
            elif rule.behaviour is Behaviour.REJECT:
                call.refuse(603, self._now())
                record.outcome = "rejected"
            else:
                await self._ring_and_answer(handset)
            self._drive(handset, [])
            if call.state is UasState.REFUSED:
                await self._wait_for(handset, (Terminated,), 40.0)
        except Exception:
            log.exception("phones.call_failed", call_id=call.call_id)
        finally:
            await self._finish(handset)

    async def _wait_for(
        self, handset: _Handset, kinds: tuple[type, ...], timeout: float
    ) -> UasEvent | None:
        deadline = self._now() + timeout
        while True:
            remaining = deadline - self._now()
            if remaining <= 0:
                return None
            try:
                event = await asyncio.wait_for(handset.events.get(), remaining)
            except TimeoutError:
                return None
            if isinstance(event, kinds):
                return event

    async def _ring_and_answer(self, handset: _Handset) -> None:
        call, rule, record = handset.call, handset.rule, handset.record
        call.ring()
        self._drive(handset, [])
        ring_for = 120.0 if rule.behaviour is Behaviour.NO_ANSWER else rule.ring_seconds
        if await self._wait_for(handset, (Cancelled,), ring_for) is not None:
            record.outcome = "no_answer" if rule.behaviour is Behaviour.NO_ANSWER else "cancelled"
            return
        if rule.behaviour is Behaviour.NO_ANSWER:
            call.refuse(480, self._now())
            record.outcome = "no_answer"
            return
        session = handset.session = RtpSession(self._ports, self._clock)
        await session.open(self.config.host)
        try:
            answer, caller_media = sdp.answer_offer(
                call.invite.body,
                address=self.config.host,
                port=session.port,
                session_id=secrets.randbits(31),
            )
        except RemoteProtocolError:
            call.refuse(488, self._now())
            record.outcome = "failed"
            return
        call.answer(answer, self._now())
        self._drive(handset, [])
        if await self._wait_for(handset, (Confirmed, HungUp), 40.0) is None:
            return
        if call.state is not UasState.CONFIRMED:
            return
        record.answered_at = datetime.now(UTC)
        record.outcome = "answered"
        session.start(caller_media)
        if rule.behaviour is Behaviour.VOICEMAIL:
            await session.play(g711.encode(self._greeting(record.number), session.codec))
        elif rule.behaviour is Behaviour.PRESS:
            if await self._wait_for(handset, (HungUp,), rule.press_after) is not None:
                record.hung_up_by = "caller"
                return
            self._press(session, rule.digit, caller_media)
            record.pressed = rule.digit
        ended = await self._wait_for(handset, (HungUp,), self.config.max_call_seconds)
        if ended is None:
            self._drive(handset, call.hangup(self._now()))
            record.hung_up_by = "handset"
            await self._wait_for(handset, (HungUp,), 40.0)
        elif isinstance(ended, HungUp):
            record.hung_up_by = "caller" if ended.by_remote else "handset"

    def _press(self, session: RtpSession, digit: str, media: sdp.MediaDescription) -> None:
        sender = session.sender
        if sender is None:
            return
        if media.event_payload_type is None:
            return  # the caller cannot take RFC 4733 events
        packets = sender.event(media.event_payload_type, digit_events(digit), sender.timestamp)
        session.send_packets(packets)

    def _greeting(self, number: str) -> npt.NDArray[np.int16]:
        """Voicemail: a spoken greeting (when a speech engine is there), then a 1 kHz beep."""
        parts: list[npt.NDArray[np.int16]] = []
        if self.speech is not None:
            with contextlib.suppress(Exception):
                spoken = " ".join(number)
                text = f"You have reached {spoken}. Please leave a message after the tone."
                parts.append(
                    self.speech.render(text, self.config.greeting_language, Gender.FEMALE).samples
                )
        if not parts:
            parts.append(np.zeros(8000 * 3, np.int16))
        t = np.arange(int(0.5 * 8000)) / 8000
        beep = (np.sin(2 * np.pi * 1000 * t) * 10000).astype(np.int16)
        return np.concatenate([*parts, np.zeros(2400, np.int16), beep])

    async def _finish(self, handset: _Handset) -> None:
        record = handset.record
        record.ended_at = datetime.now(UTC)
        if record.outcome == "answered":
            record.outcome = "completed"
        session = handset.session
        if session is not None:
            if record.answered_at is not None:
                heard = session.receiver.pcm()
                record.heard_seconds = len(heard) / 8000
                record.recording = wav_bytes(heard)
                record.jitter_ms = session.receiver.stats.jitter_seconds * 1000
                record.packets = session.receiver.stats.packets
            session.close()
        if handset.timer is not None:
            handset.timer.cancel()
        self._handsets.pop(handset.call.call_id, None)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, network: PhoneNetwork) -> None:
        self.network = network

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.network.datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("phones.udp_error", error=str(exc))
