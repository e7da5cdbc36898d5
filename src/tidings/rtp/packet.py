"""The RTP fixed header (RFC 3550 §5.1), encoded and decoded with every length checked."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tidings.sip.errors import RemoteProtocolError

_HEADER = struct.Struct("!BBHII")
VERSION = 2
MAX_PACKET_BYTES = 1500


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def encode(self) -> bytes:
        first = VERSION << 6
        second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        return (
            _HEADER.pack(
                first,
                second,
                self.sequence & 0xFFFF,
                self.timestamp & 0xFFFFFFFF,
                self.ssrc & 0xFFFFFFFF,
            )
            + self.payload
        )


def decode(data: bytes) -> RtpPacket:
    """One RTP packet; anything malformed raises :class:`RemoteProtocolError`."""
    if len(data) < _HEADER.size:
        raise RemoteProtocolError("RTP packet shorter than its header")
    if len(data) > MAX_PACKET_BYTES:
        raise RemoteProtocolError("RTP packet too large")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != VERSION:
        raise RemoteProtocolError("not RTP version 2")
    offset = _HEADER.size + 4 * (first & 0x0F)  # CSRC list
    if first & 0x10:  # header extension (§5.3.1)
        if len(data) < offset + 4:
            raise RemoteProtocolError("RTP extension header cut short")
        words = struct.unpack_from("!H", data, offset + 2)[0]
        offset += 4 + 4 * words
    end = len(data)
    if first & 0x20:  # padding: the last octet counts the padding octets, itself included
        padding = data[-1]
        if padding == 0:
            raise RemoteProtocolError("RTP padding of zero octets")
        end -= padding
    if offset > end:
        raise RemoteProtocolError("RTP header longer than the packet")
    return RtpPacket(
        second & 0x7F, sequence, timestamp, ssrc, data[offset:end], bool(second & 0x80)
    )
