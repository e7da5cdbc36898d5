"""RTP packets, G.711, RFC 4733 events, pacing, the receiver and the port range."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.rtp import g711
from tidings.rtp.dtmf import DigitDetector, digit_events
from tidings.rtp.packet import RtpPacket, decode
from tidings.rtp.ports import NoFreePort, PortRange
from tidings.rtp.stream import Pacer, RtpReceiver, RtpSender, frames
from tidings.sip.errors import RemoteProtocolError

ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)


def _stdlib_g711() -> object:
    # The standard library's G.711 (deprecated, still in 3.11/3.12) is an independent reference.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            pytest.skip("audioop is gone from this Python")
    return audioop


@pytest.mark.parametrize(
    ("codec", "encode", "decode"),
    [("PCMU", "lin2ulaw", "ulaw2lin"), ("PCMA", "lin2alaw", "alaw2lin")],
)
def test_g711_matches_the_reference_for_every_sample_and_code(
    codec: str, encode: str, decode: str
) -> None:
    audioop = _stdlib_g711()
    assert g711.encode(ALL_SAMPLES, codec) == getattr(audioop, encode)(ALL_SAMPLES.tobytes(), 2)
    codes = bytes(range(256))
    assert g711.decode(codes, codec).tobytes() == getattr(audioop, decode)(codes, 2)
    assert g711.encode(np.zeros(1, np.int16), codec)[0] == g711.silence(codec)


def test_packets_round_trip_with_csrc_extension_and_padding() -> None:
    packet = RtpPacket(0, 65535, 2**32 - 1, 0xDEADBEEF, b"\x01" * 160, marker=True)
    assert decode(packet.encode()) == packet
    data = bytearray(packet.encode())
    data[0] |= 0x10 | 0x20 | 0x01  # extension, padding, one CSRC
    body = (
        bytes(data[:12]) + b"CSRC" + b"\xbe\xde\x00\x01" + b"EXT!" + b"\x01" * 160 + b"\x00\x00\x03"
    )
    assert decode(body).payload == b"\x01" * 160


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80" * 11,
        b"\x40" + b"\x00" * 20,
        b"\x8f" + b"\x00" * 20,
        b"\x90" + b"\x00" * 12,
        b"\xa0" + b"\x00" * 12,
    ],
)
def test_malformed_packets_are_refused(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_any_datagram_is_a_packet_or_our_error(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode(data)
    receiver = RtpReceiver(event_payload_type=101)
    receiver.receive(data, 0.0)  # never raises: counted as malformed


def test_the_sender_numbers_and_stamps_packets() -> None:
    sender = RtpSender(payload_type=8, ssrc=7, sequence=65534, timestamp=2**32 - 160)
    packets = [decode(sender.audio(payload)) for payload in frames(b"\x55" * 500, "PCMA")]
    assert [p.sequence for p in packets] == [65534, 65535, 0, 1]
    assert [p.timestamp for p in packets] == [2**32 - 160, 0, 160, 320]
    assert [p.marker for p in packets] == [True, False, False, False]
    assert {p.ssrc for p in packets} == {7}
    assert packets[-1].payload == b"\x55" * 20 + b"\xd5" * 140  # padded with A-law silence


def test_pacing_is_on_absolute_deadlines() -> None:
    pacer = Pacer(start=100.0)
    assert pacer.due(100.0) == 1
    assert pacer.next_deadline() == pytest.approx(100.02)
    assert pacer.due(100.019) == 0
    # Woken 50 ms late: the two packets that fell due go now; the schedule does not slip.
    assert pacer.due(100.07) == 3
    assert pacer.next_deadline() == pytest.approx(100.08)


def test_dtmf_events_are_reported_once_per_key_press() -> None:
    sender = RtpSender(payload_type=0, sequence=1, timestamp=1000)
    packets = sender.event(101, digit_events("5"), 1000) + sender.event(
        101, digit_events("#"), 3000
    )
    receiver = RtpReceiver(event_payload_type=101)
    reported = [receiver.receive(packet, index * 0.02) for index, packet in enumerate(packets)]
    assert [d for d in reported if d is not None] == ["5", "#"]
    assert [d for _, d in receiver.digits] == ["5", "#"]
    # An end packet alone (the start lost) still counts.
    detector = DigitDetector()
    assert detector.feed(9, digit_events("7")[-1].encode()) == "7"


def test_the_receiver_places_audio_by_timestamp_and_measures_jitter() -> None:
    sender = RtpSender(payload_type=0, sequence=10, timestamp=5000)
    packets = [sender.audio(bytes([i]) * 160) for i in range(1, 6)]
    steady = RtpReceiver()
    for index, packet in enumerate(packets):
        steady.receive(packet, 10 + index * 0.02)
    assert steady.stats.jitter_seconds == pytest.approx(0.0, abs=1e-9)
    shaky = RtpReceiver()
    # Reordered, the third lost, the others 0-10 ms late.
    for packet, arrival in [
        (packets[0], 0.0),
        (packets[1], 0.030),
        (packets[3], 0.061),
        (packets[4], 0.080),
    ]:
        shaky.receive(packet, arrival)
    assert shaky.samples == 800
    heard = bytes(shaky._buffer)
    assert heard[160:320] == b"\x02" * 160
    assert heard[320:480] == b"\xff" * 160  # the lost packet is µ-law silence
    assert 0.0005 < shaky.stats.jitter_seconds < 0.01


def test_ports_are_even_released_and_handed_out_round_robin() -> None:
    ports = PortRange(20001, 20009)
    assert ports.ports == (20002, 20004, 20006, 20008)
    first = ports.acquire()
    second = ports.acquire(lambda port: port != 20004)  # 20004 is taken by someone else
    assert (first, second) == (20002, 20006)
    ports.release(first)
    assert ports.acquire() == 20008
    assert ports.acquire() == 20002
    with pytest.raises(NoFreePort):
        ports.acquire(lambda port: False)
    assert ports.in_use == {20002, 20006, 20008}
