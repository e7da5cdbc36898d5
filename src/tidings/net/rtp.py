"""asyncio around ``tidings.rtp``: one UDP socket per call's media, paced by a shared clock.

:class:`MediaClock` is one task per process that wakes every 20 ms on the loop's monotonic
clock (tick *k* at ``start + k·20 ms``, so lateness never accumulates) and sends each playing
stream's due packets: the speech queued to play, else silence, so each call's stream runs
unbroken from the answer to the hang-up. One timer for all calls, rather than one per packet,
is what lets a single core hold a hundred calls. :class:`RtpSession` binds an even port from the
:class:`~tidings.rtp.ports.PortRange`, sends to the far end's address from the SDP answer,
and feeds what it receives to an :class:`~tidings.rtp.stream.RtpReceiver`; closing it hands the
port back.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
from collections import deque
from collections.abc import Callable

import structlog

from tidings.rtp import g711
from tidings.rtp.ports import NoFreePort, PortRange
from tidings.rtp.stream import PTIME, SAMPLES_PER_PACKET, Pacer, RtpReceiver, RtpSender, frames
from tidings.sip.sdp import MediaDescription

log = structlog.get_logger("tidings.net")


class _Stream:
    """One call's outgoing audio: what is queued to play, else silence, every 20 ms."""

    def __init__(self, session: RtpSession, clock: MediaClock, now: float) -> None:
        self.session = session
        self.pacer = Pacer(clock.aligned_start(now))
        self.queue: deque[bytes] = deque()
        self.queued = 0  # frames ever queued
        # (frames that must have gone out, future) for each play() still under way
        self.waiting: deque[tuple[int, asyncio.Future[bool]]] = deque()
        self.silence = bytes([g711.silence(session.codec)]) * SAMPLES_PER_PACKET

    def enqueue(self, payloads: list[bytes]) -> asyncio.Future[bool]:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.queue.extend(payloads)
        self.queued += len(payloads)
        self.waiting.append((self.pacer.sent + len(self.queue), done))
        return done

    def clear(self) -> None:
        self.queue.clear()
        while self.waiting:
            _, done = self.waiting.popleft()
            if not done.done():
                done.set_result(False)


class MediaClock:
    """Sends every call's packets when they are due."""

    def __init__(self, interval: float = PTIME) -> None:
        self.interval = interval
        self._streams: dict[int, _Stream] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._grid = 0.0  # tick k of the current run is at _grid + k·interval
        self.ticks = 0
        self.late_ticks = 0  # ticks that woke more than one interval after their time
        # How late each tick woke (what the packets it sends carry as jitter), in seconds.
        self.lateness_total = 0.0
        self.lateness_max = 0.0
        self.ticks_over_5ms = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for stream in self._streams.values():
            stream.clear()
        self._streams.clear()

    def aligned_start(self, now: float) -> float:
        """A stream's first deadline: half an interval before the clock's next tick.

        Every packet of the stream then falls due midway between two ticks, so a tick that
        wakes a little early or late still sends the same packets: the stream keeps its 20 ms
        spacing exactly instead of slipping a whole tick now and then.
        """
        if not self._streams:
            self._grid = now
        ticks = math.ceil((now - self._grid) / self.interval)
        return self._grid + ticks * self.interval - self.interval / 2

    def add(self, stream: _Stream) -> None:
        self._streams[id(stream)] = stream
        self.start()
        self._wake.set()

    def remove(self, stream: _Stream) -> None:
        self._streams.pop(id(stream), None)
        stream.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval
        while True:
            if not self._streams:
                self._wake.clear()
                await self._wake.wait()
            grid = self._grid
            tick = max(math.ceil((loop.time() - grid) / interval), 0)
            while self._streams:
                now = loop.time()
                lateness = now - (grid + tick * interval)
                if lateness > interval:
                    self.late_ticks += 1
                if lateness > 0:
                    self.lateness_total += lateness
                    self.lateness_max = max(self.lateness_max, lateness)
                    if lateness > 0.005:
                        self.ticks_over_5ms += 1
                self.ticks += 1
                for stream in list(self._streams.values()):
                    self._send_due(stream, now)
                # A timer may fire a little early: the next tick is never this one again.
                tick = max(tick + 1, int((now - grid) / interval) + 1)
                await asyncio.sleep(max(grid + tick * interval - loop.time(), 0))

    @staticmethod
    def _send_due(stream: _Stream, now: float) -> None:
        session = stream.session
        queue = stream.queue
        for _ in range(stream.pacer.due(now)):
            session.send_audio(queue.popleft() if queue else stream.silence)
        sent = stream.pacer.sent
        waiting = stream.waiting
        while waiting and waiting[0][0] <= sent:
            _, done = waiting.popleft()
            if not done.done():
                done.set_result(True)


class RtpSession(asyncio.DatagramProtocol):
    """One call's media socket."""

    def __init__(self, ports: PortRange, clock: MediaClock) -> None:
        self.ports = ports
        self.clock = clock
        self.port = 0
        self.local_host = ""
        self.remote: tuple[str, int] | None = None
        self.sender: RtpSender | None = None
        self.receiver = RtpReceiver()
        self.on_digit: Callable[[str], None] | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._stream: _Stream | None = None
        self._media: MediaDescription | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def open(self, host: str) -> None:
        """Bind an even port of the range on ``host``."""
        loop = self._loop = asyncio.get_running_loop()
        sock: socket.socket | None = None

        def try_bind(port: int) -> bool:
            nonlocal sock
            candidate = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                candidate.bind((host, port))
            except OSError:
                candidate.close()
                return False
            sock = candidate
            return True

        self.port = self.ports.acquire(try_bind)
        assert sock is not None
        sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(lambda: self, sock=sock)
        self._transport = transport
        self.local_host = host

    def start(self, media: MediaDescription) -> None:
        """The answer came: send to the far end (silence until something plays, so the
        stream never stops: trunks hang up calls whose media stops), expect its codec and
        events."""
        self._media = media
        self.remote = (media.address, media.port)
        self.sender = RtpSender(payload_type=media.codec.payload_type)
        self.receiver.codec = media.codec.name
        self.receiver.audio_payload_type = media.codec.payload_type
        self.receiver.event_payload_type = media.event_payload_type
        assert self._loop is not None
        self._stream = _Stream(self, self.clock, self._loop.time())
        self.clock.add(self._stream)

    @property
    def codec(self) -> str:
        return self._media.codec.name if self._media is not None else "PCMU"

    def send_audio(self, payload: bytes) -> None:
        if self._transport is None or self.remote is None or self.sender is None:
            return
        self._transport.sendto(self.sender.audio(payload), self.remote)

    def send_packets(self, packets: list[bytes]) -> None:
        if self._transport is None or self.remote is None:
            return
        for packet in packets:
            self._transport.sendto(packet, self.remote)

    async def play(self, audio: bytes) -> bool:
        """Send G.711 ``audio`` (in this session's codec) paced at 20 ms; False if stopped."""
        self.stop_playing()
        if self._stream is None:
            return False
        return await self._stream.enqueue(frames(audio, self.codec))

    def stop_playing(self) -> None:
        if self._stream is not None:
            self._stream.clear()

    def close(self) -> None:
        if self._stream is not None:
            self.clock.remove(self._stream)
            self._stream = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self.port:
            self.ports.release(self.port)
            self.port = 0

    # --- asyncio.DatagramProtocol -------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.remote is None or self._loop is None:
            return  # media before the answer (early media) is not listened to
        # Arrival on the monotonic clock itself: uvloop's loop.time() is the start of the
        # current loop pass, shared by every datagram read in it.
        digit = self.receiver.receive(data, time.monotonic())
        if digit is not None and self.on_digit is not None:
            self.on_digit(digit)

    def error_received(self, exc: Exception) -> None:
        log.debug("rtp.udp_error", error=str(exc))


__all__ = ["MediaClock", "NoFreePort", "RtpSession"]
