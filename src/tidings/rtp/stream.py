"""One RTP stream each way: a packetiser that paces 20 ms packets, and a receiver.

The sender numbers packets from a random sequence number and timestamp (RFC 3550 §5.1), steps
the timestamp by the samples each packet carries, and sets the marker on the first packet of a
talk spurt. :class:`Pacer` says when each packet is due: packet *n* at ``start + n·ptime`` on
a monotonic clock, so lateness never accumulates. The receiver places audio by timestamp
(late and reordered packets land where they belong, lost ones stay silent), detects RFC 4733
events, and keeps the interarrival jitter of RFC 3550 §6.4.1 / A.8.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tidings.rtp import g711
from tidings.rtp.dtmf import DigitDetector, TelephoneEvent
from tidings.rtp.packet import RtpPacket, decode
from tidings.sip.errors import RemoteProtocolError

CLOCK_RATE = 8000
PTIME = 0.020
SAMPLES_PER_PACKET = int(CLOCK_RATE * PTIME)


class RtpSender:
    def __init__(
        self,
        *,
        payload_type: int,
        ssrc: int | None = None,
        sequence: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc
        self.sequence = secrets.randbits(16) if sequence is None else sequence
        self.timestamp = secrets.randbits(32) if timestamp is None else timestamp
        self._spurt_started = False
        self.packets_sent = 0
        self.octets_sent = 0

    def audio(self, payload: bytes) -> bytes:
        """The next packet of G.711 audio (one octet per sample)."""
        packet = RtpPacket(
            self.payload_type,
            self.sequence,
            self.timestamp,
            self.ssrc,
            payload,
            marker=not self._spurt_started,
        )
        self._spurt_started = True
        self._advance(len(payload))
        return packet.encode()

    def event(
        self, payload_type: int, events: list[TelephoneEvent], at_timestamp: int
    ) -> list[bytes]:
        """The packets of one RFC 4733 event, all stamped with its start (§2.5.1)."""
        packets = []
        for index, event in enumerate(events):
            packets.append(
                RtpPacket(
                    payload_type,
                    self.sequence,
                    at_timestamp,
                    self.ssrc,
                    event.encode(),
                    marker=index == 0,
                ).encode()
            )
            self.sequence = (self.sequence + 1) & 0xFFFF
        return packets

    def _advance(self, samples: int) -> None:
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        self.packets_sent += 1
        self.octets_sent += samples

    def skip(self, samples: int) -> None:
        """Time passes without audio (silence suppressed): the next packet starts a spurt."""
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        self._spurt_started = False


def frames(audio: bytes, codec: str) -> list[bytes]:
    """G.711 audio cut into 20 ms payloads, the last padded with silence."""
    size = SAMPLES_PER_PACKET
    padding = (-len(audio)) % size
    audio += bytes([g711.silence(codec)]) * padding
    return [audio[i : i + size] for i in range(0, len(audio), size)]


@dataclass(slots=True)
class Pacer:
    """When each packet of a stream is due: ``start + n·interval``."""

    start: float
    interval: float = PTIME
    sent: int = 0

    def next_deadline(self) -> float:
        return self.start + self.sent * self.interval

    def due(self, now: float) -> int:
        """How many packets are due by ``now`` and not yet sent (and count them sent)."""
        due = int((now - self.start) / self.interval) + 1 - self.sent
        due = max(due, 0)
        self.sent += due
        return due


@dataclass(slots=True)
class ReceiverStats:
    packets: int = 0
    malformed: int = 0
    # RFC 3550 A.8 interarrival jitter, in timestamp units (divide by the clock rate).
    jitter: float = 0.0
    max_transit_delta: float = 0.0
    _transit: float | None = None

    @property
    def jitter_seconds(self) -> float:
        return self.jitter / CLOCK_RATE


@dataclass(slots=True)
class RtpReceiver:
    """The far end's stream: audio by timestamp, key presses, jitter."""

    codec: str = "PCMU"
    audio_payload_type: int = 0
    event_payload_type: int | None = None
    max_seconds: float = 600.0
    stats: ReceiverStats = field(default_factory=ReceiverStats)
    digits: list[tuple[float, str]] = field(default_factory=list)
    _buffer: bytearray = field(default_factory=bytearray)
    _first_timestamp: int | None = None
    _first_arrival: float = 0.0
    _base: int = 0
    _ssrc: int | None = None
    _detector: DigitDetector = field(default_factory=DigitDetector)

    def receive(self, data: bytes, arrival: float) -> str | None:
        """Take one datagram; returns the digit it starts, if it is a new key press."""
        try:
            packet = decode(data)
        except RemoteProtocolError:
            self.stats.malformed += 1
            return None
        if self._ssrc is None:
            self._ssrc = packet.ssrc
        elif packet.ssrc != self._ssrc:
            # A new source (the far end restarted its stream): follow it from here.
            self._ssrc = packet.ssrc
            self._first_timestamp = None
            self.stats._transit = None
        if self._first_timestamp is None:
            self._first_timestamp = packet.timestamp
            self._first_arrival = arrival
            self._base = len(self._buffer)
        self.stats.packets += 1
        self._jitter(packet.timestamp, arrival)
        if packet.payload_type == self.event_payload_type:
            try:
                digit = self._detector.feed(packet.timestamp, packet.payload)
            except RemoteProtocolError:
                self.stats.malformed += 1
                return None
            if digit is not None:
                self.digits.append((arrival, digit))
            return digit
        if packet.payload_type == self.audio_payload_type:
            self._place(packet.timestamp, packet.payload)
        return None

    def _jitter(self, timestamp: int, arrival: float) -> None:
        # RFC 3550 A.8: D = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16, in timestamp units.
        transit = arrival * CLOCK_RATE - timestamp
        stats = self.stats
        if stats._transit is not None:
            delta = transit - stats._transit
            # A timestamp that wrapped around 2**32 is not a jump in transit time.
            if delta > 2**31:
                delta -= 2**32
            elif delta < -(2**31):
                delta += 2**32
            delta = abs(delta)
            stats.jitter += (delta - stats.jitter) / 16
            stats.max_transit_delta = max(stats.max_transit_delta, delta)
        stats._transit = transit

    def _place(self, timestamp: int, payload: bytes) -> None:
        assert self._first_timestamp is not None
        offset = (timestamp - self._first_timestamp) & 0xFFFFFFFF
        if offset >= 2**31:
            return  # from before the first packet we kept
        position = self._base + offset
        end = position + len(payload)
        if end > self.max_seconds * CLOCK_RATE:
            return
        if end > len(self._buffer):
            self._buffer += bytes([g711.silence(self.codec)]) * (end - len(self._buffer))
        self._buffer[position:end] = payload

    @property
    def samples(self) -> int:
        return len(self._buffer)

    def pcm(self, start: int = 0, end: int | None = None) -> npt.NDArray[np.int16]:
        """What was heard so far as 16-bit linear samples."""
        return g711.decode(bytes(self._buffer[start:end]), self.codec)
