"""The SIP transport: voice messages as phone calls through a SIP trunk (RFC 3261 + RTP).

A submit renders the text to speech, waits for one of the route's ``max_calls`` call slots
(calls beyond wait there, and the runner's workers with them), sends the INVITE, and returns
once the trunk has taken it (its first response): the message is then ``calling``, found by
its Call-ID. The call goes on in the background (``voice.caller.place_call``) and reports
``ringing``, ``answered`` and its end: ``delivered`` when the message played to its end (or
a key was pressed), ``undelivered`` when the far end hung up before, ``busy``, ``no_answer``,
``rejected`` or ``failed``, the SIP code as the error code. A trunk that never answers the
INVITE is a temporary failure: the message is queued again.

Stopping the route (an edit, a shutdown) lets the calls under way go on for up to
``STOP_GRACE`` seconds, then hangs up the rest, reported ``failed`` (``route-stopped``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar

import structlog

from tidings.core.channels import Channel
from tidings.core.content import load_content
from tidings.core.voice import Answerer, VoiceContent, VoiceResult, units_of
from tidings.dispatch.outcomes import Report, SubmitOutcome
from tidings.dispatch.transport import Claim, Transport, TransportContext
from tidings.dispatch.transports.sip_settings import SipSettings
from tidings.errors import TidingsError
from tidings.lifecycle import MessageStatus
from tidings.net.rtp import MediaClock
from tidings.net.sip import SipTrunk
from tidings.rtp.ports import NoFreePort, PortRange
from tidings.sip.call import CallConfig, Credentials, Outcome
from tidings.store.records import RouteRecord
from tidings.voice.amd import Verdict
from tidings.voice.caller import CallReport, Script, place_call
from tidings.voice.tts import (
    EspeakEngine,
    SpeechEngine,
    SpeechUnavailable,
    UnsupportedLanguage,
)

log = structlog.get_logger("tidings.dispatch")

# How a call ended → the message's final status (a completed call is delivered only if the
# message was heard: see _final_status).
CALL_STATUS: Mapping[Outcome, MessageStatus] = MappingProxyType(
    {
        Outcome.COMPLETED: MessageStatus.DELIVERED,
        Outcome.BUSY: MessageStatus.BUSY,
        Outcome.NO_ANSWER: MessageStatus.NO_ANSWER,
        Outcome.REJECTED: MessageStatus.REJECTED,
        Outcome.FAILED: MessageStatus.FAILED,
    }
)
# How long a stopping route lets its calls under way go on before it hangs them up.
STOP_GRACE = 45.0
PROGRESS_STATUS: Mapping[str, MessageStatus] = MappingProxyType(
    {"ringing": MessageStatus.RINGING, "answered": MessageStatus.ANSWERED}
)


def _now() -> datetime:
    return datetime.now(UTC)


def final_status(report: CallReport) -> MessageStatus:
    status = CALL_STATUS[report.outcome]
    if status is MessageStatus.DELIVERED and report.plays == 0 and report.keypress is None:
        # Answered, then hung up before the message had played once.
        return MessageStatus.UNDELIVERED
    return status


class SipTransport(Transport[SipSettings]):
    kind: ClassVar[str] = "sip"
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.VOICE})
    settings_model: ClassVar[type[SipSettings]] = SipSettings

    def __init__(
        self,
        route: RouteRecord,
        settings: SipSettings,
        context: TransportContext,
        *,
        speech: SpeechEngine | None = None,
    ) -> None:
        super().__init__(route, settings, context)
        self.speech: SpeechEngine = speech or EspeakEngine()
        self.trunk = SipTrunk(
            settings.host,
            settings.port,
            transport=settings.transport.value.upper(),
            local_host=settings.local_address,
        )
        self.clock = MediaClock()
        self.ports = PortRange(settings.rtp_port_low, settings.rtp_port_high)
        self._slots = asyncio.Semaphore(settings.max_calls)
        self._calls: dict[str, asyncio.Task[Any]] = {}
        self._messages: dict[str, str] = {}  # Call-ID → its message's id
        self._open_lock = asyncio.Lock()
        self._opened = False
        self._stopping = False
        # Calls that ended before the trunk took them, for their submit to read.
        self._failures: dict[str, CallReport] = {}

    @property
    def concurrency(self) -> int:
        return self.settings.max_calls

    @property
    def in_flight(self) -> int:
        return len(self._calls)

    @property
    def held(self) -> Collection[str]:
        return list(self._messages.values())

    async def start(self) -> None:
        with contextlib.suppress(OSError):
            await self._open()

    async def _open(self) -> None:
        async with self._open_lock:
            if self._opened and not self.trunk.closed.is_set():
                return
            if self._opened:  # a TCP connection that dropped: a fresh one
                self.trunk = SipTrunk(
                    self.settings.host,
                    self.settings.port,
                    transport=self.settings.transport.value.upper(),
                    local_host=self.settings.local_address,
                )
            await self.trunk.open()
            self._opened = True
            self.context.connections_up(1)

    async def stop(self) -> None:
        # No new calls; the calls under way may end as they would (a route edited in the
        # middle of a call should not cut it), then what is left is hung up.
        self._stopping = True
        under_way = list(self._calls.values())
        if under_way:
            await asyncio.wait(under_way, timeout=STOP_GRACE)
        for task in list(self._calls.values()):
            task.cancel()
        await asyncio.gather(*self._calls.values(), return_exceptions=True)
        await self.clock.stop()
        await self.trunk.close()
        self.context.connections_up(0)

    async def submit(self, claim: Claim) -> SubmitOutcome:
        context = self.context
        message = claim.message
        if message.channel != Channel.VOICE:
            return context.failed(
                claim, "invalid", f"a sip route carries voice, not {message.channel}"
            )
        try:
            options = load_content(VoiceContent, message.content) or VoiceContent()
            speech = await asyncio.to_thread(
                self.speech.render, message.body, options.lang, options.voice
            )
        except UnsupportedLanguage as error:
            return context.failed(claim, "unsupported-language", error.message)
        except SpeechUnavailable as error:
            return context.retry(claim, "speech-unavailable", error.message)
        except (TidingsError, ValueError) as error:
            return context.failed(claim, "invalid", str(error))
        try:
            await self._open()
        except OSError as error:
            return context.retry(claim, "trunk-unreachable", str(error))
        await self._slots.acquire()
        if self._stopping:
            self._slots.release()
            return context.retry(claim, "route-stopping", "the route is stopping")
        taken: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        settings = self.settings
        domain = settings.from_domain or settings.host
        caller = settings.caller_id or message.sender
        config = CallConfig(
            target=f"sip:{message.recipient}@{settings.host}:{settings.port}",
            from_uri=f"sip:{caller}@{domain}",
            local_host=self.trunk.local_host,
            local_port=self.trunk.local_port,
            transport=settings.transport.value.upper(),
            credentials=(
                Credentials(settings.username, settings.password.get_secret_value())
                if settings.username
                else None
            ),
            ring_timeout=settings.ring_timeout,
        )
        script = Script(
            speech.samples,
            repeat=options.repeat,
            require_input=options.require_input,
            input_timeout=settings.input_timeout,
            machine_detection=options.machine_detection,
        )
        task = asyncio.get_running_loop().create_task(
            self._run_call(claim, config, script, taken, units_of(message.body))
        )
        waiting: list[asyncio.Future[Any]] = [taken, task]
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if taken.done() and not taken.cancelled():
            claim.sent.append((1, taken.result()))
            return SubmitOutcome(message, MessageStatus.CALLING, _now(), claim.sent)
        # The call ended before the trunk took it.
        crash = task.exception() if task.done() and not task.cancelled() else None
        report = self._failures.pop(message.id, None)
        if crash is not None or report is None:
            return context.retry(claim, "sip-error", str(crash or "the call did not start"))
        if report.sip_status is None or report.reason == "no response from the trunk":
            return context.retry(claim, "sip-timeout", report.reason)
        return context.failed(claim, f"sip-{report.sip_status}", report.reason)

    async def _run_call(
        self,
        claim: Claim,
        config: CallConfig,
        script: Script,
        taken: asyncio.Future[str],
        units: int,
    ) -> None:
        message = claim.message
        call_ids: list[str] = []

        def progress(stage: str) -> None:
            if stage == "calling":
                if not taken.done() and call_ids:
                    taken.set_result(call_ids[0])
                return
            if not taken.done() and call_ids:
                taken.set_result(call_ids[0])
            status = PROGRESS_STATUS.get(stage)
            if status is not None and call_ids:
                self.context.report(Report(call_ids[0], status, stage, None, _now()))

        def started(call_id: str) -> None:
            call_ids.append(call_id)
            self._calls[call_id] = task
            self._messages[call_id] = message.id

        current = asyncio.current_task()
        assert current is not None
        task: asyncio.Task[Any] = current
        try:
            try:
                report = await place_call(
                    self.trunk,
                    config,
                    script,
                    ports=self.ports,
                    clock=self.clock,
                    progress=progress,
                    on_start=started,
                )
            except NoFreePort as error:
                report = CallReport(Outcome.FAILED, None, error.message, "")
            except asyncio.CancelledError:
                # The route stopped in the middle of the call (it was hung up): say so.
                if taken.done() and call_ids:
                    self.context.report(
                        Report(
                            call_ids[0],
                            MessageStatus.FAILED,
                            "route stopped",
                            "route-stopped",
                            _now(),
                        )
                    )
                raise
            if not taken.done():
                if report.sip_status is not None and report.reason != "no response from the trunk":
                    # A final response straight away (busy without ringing): the trunk took
                    # the call; its end is reported like any other.
                    taken.set_result(report.call_id)
                else:
                    self._failures[message.id] = report
                    return
            self._report_end(report, units)
        finally:
            for call_id in call_ids:
                self._calls.pop(call_id, None)
                self._messages.pop(call_id, None)
            self._slots.release()

    def _report_end(self, report: CallReport, units: int) -> None:
        status = final_status(report)
        answered_by = None
        if report.machine is Verdict.HUMAN:
            answered_by = Answerer.HUMAN
        elif report.machine is Verdict.MACHINE:
            answered_by = Answerer.MACHINE
        result = VoiceResult(
            call_id=report.call_id,
            sip_status=report.sip_status,
            keypress=report.keypress,
            answered_by=answered_by,
            beep=report.beep,
            duration_seconds=round(report.duration, 2),
            plays=report.plays,
            units=units,
        )
        error_code = f"sip-{report.sip_status}" if report.sip_status else None
        if status is MessageStatus.UNDELIVERED:
            error_code = "hung-up-early"
        state = report.reason or report.outcome.value
        self.context.report(
            Report(report.call_id, status, state, error_code, _now(), result=result)
        )
