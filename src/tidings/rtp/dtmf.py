"""RFC 4733 telephone events: DTMF digits carried in RTP instead of audio.

A key press is one event: packets with the same RTP timestamp, the duration growing, the last
three marked "end". A receiver reports each event once, by its timestamp, whichever of its
packets arrives first (an end packet alone is enough: the start may be lost).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tidings.sip.errors import RemoteProtocolError

# RFC 4733 §3.2 Table 7: events 0-15 are the DTMF keys.
DIGITS = "0123456789*#ABCD"
_EVENT = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    event: int
    end: bool
    volume: int  # -dBm0, 0-63
    duration: int  # in timestamp units

    @property
    def digit(self) -> str | None:
        return DIGITS[self.event] if self.event < len(DIGITS) else None

    def encode(self) -> bytes:
        return _EVENT.pack(
            self.event, (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration & 0xFFFF
        )


def decode_event(payload: bytes) -> TelephoneEvent:
    if len(payload) < _EVENT.size:
        raise RemoteProtocolError("telephone-event payload shorter than 4 octets")
    event, flags, duration = _EVENT.unpack_from(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


def digit_events(
    digit: str, *, duration_ms: int = 160, packet_ms: int = 20, volume: int = 10
) -> list[TelephoneEvent]:
    """The payloads for one key press: one per packet interval, then the end three times."""
    event = DIGITS.index(digit.upper())
    step = 8 * packet_ms
    total = 8 * duration_ms
    events = [TelephoneEvent(event, False, volume, d) for d in range(step, total, step)]
    events += [TelephoneEvent(event, True, volume, total)] * 3
    return events


class DigitDetector:
    """Telephone events in, key presses out, each once."""

    def __init__(self, *, remembered: int = 32) -> None:
        self._seen: list[int] = []
        self._remembered = remembered

    def feed(self, timestamp: int, payload: bytes) -> str | None:
        event = decode_event(payload)
        if timestamp in self._seen:
            return None
        self._seen.append(timestamp)
        del self._seen[: -self._remembered]
        return event.digit
