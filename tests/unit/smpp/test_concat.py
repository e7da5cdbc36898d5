from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.errors import TidingsError
from tidings.smpp.concat import (
    CompleteMessage,
    ConcatInfo,
    ConcatMethod,
    IncomingFragment,
    InformationElement,
    OutgoingPart,
    Reassembler,
    UdhParseError,
    build_udh,
    outgoing_parts,
    parse_udh,
)
from tidings.text import ReferenceSize, decode, plan_text

UCS2 = 0x08
SOURCE = "31600000001"
DESTINATION = "12345"
# GSM 03.38 national language single shift, Turkish (IEI 0x24, length 1, language 1).
TURKISH_SINGLE_SHIFT = bytes((0x24, 0x01, 0x01))


@dataclass(frozen=True)
class Segment:
    payload: bytes


@dataclass(frozen=True)
class Plan:
    data_coding: int
    segments: Sequence[Segment]
    language_udh: bytes = b""


def plan_of(*payloads: bytes, data_coding: int = 0, language_udh: bytes = b"") -> Plan:
    return Plan(data_coding, [Segment(payload) for payload in payloads], language_udh)


def as_fragment(part: OutgoingPart, source: str = SOURCE) -> IncomingFragment:
    return IncomingFragment(
        source=source,
        destination=DESTINATION,
        data_coding=part.data_coding,
        short_message=part.short_message,
        udhi=part.udhi,
        sar=part.sar,
        message_payload=part.message_payload,
    )


def fragment(short_message: bytes, *, udhi: bool = True, source: str = SOURCE) -> IncomingFragment:
    return IncomingFragment(source, DESTINATION, 0, short_message, udhi=udhi)


# Outgoing


def test_udh8_parts_carry_the_exact_eight_bit_header() -> None:
    parts = outgoing_parts(plan_of(b"abc", b"de", b"f"), ConcatMethod.UDH8, reference=0x2A)
    assert [part.short_message for part in parts] == [
        bytes.fromhex("0500032A0301") + b"abc",
        bytes.fromhex("0500032A0302") + b"de",
        bytes.fromhex("0500032A0303") + b"f",
    ]
    assert all(part.udhi and part.sar is None and part.message_payload is None for part in parts)


def test_udh16_parts_carry_the_exact_sixteen_bit_header() -> None:
    parts = outgoing_parts(plan_of(b"ab", b"cd"), ConcatMethod.UDH16, reference=0x1234)
    assert [part.short_message for part in parts] == [
        bytes.fromhex("060804123402 01") + b"ab",
        bytes.fromhex("060804123402 02") + b"cd",
    ]


def test_udh8_reference_wraps_and_udh16_keeps_sixteen_bits() -> None:
    udh8 = outgoing_parts(plan_of(b"a", b"b"), ConcatMethod.UDH8, reference=0x1FF)
    udh16 = outgoing_parts(plan_of(b"a", b"b"), ConcatMethod.UDH16, reference=0x1_0101)
    assert udh8[0].short_message[3] == 0xFF
    assert udh16[0].short_message[3:5] == b"\x01\x01"


def test_sar_parts_carry_tlv_values_and_no_header() -> None:
    parts = outgoing_parts(plan_of(b"ab", b"cd", data_coding=UCS2), ConcatMethod.SAR, 0x1234)
    assert parts == [
        OutgoingPart(b"ab", udhi=False, data_coding=UCS2, sar=(0x1234, 2, 1)),
        OutgoingPart(b"cd", udhi=False, data_coding=UCS2, sar=(0x1234, 2, 2)),
    ]


def test_payload_method_sends_the_whole_message_in_one_pdu() -> None:
    parts = outgoing_parts(plan_of(b"ab", b"cd"), ConcatMethod.PAYLOAD, reference=9)
    assert parts == [OutgoingPart(b"", udhi=False, data_coding=0, message_payload=b"abcd")]


@pytest.mark.parametrize("method", [ConcatMethod.UDH8, ConcatMethod.UDH16, ConcatMethod.SAR])
def test_a_single_part_gets_no_concatenation(method: ConcatMethod) -> None:
    assert outgoing_parts(plan_of(b"hello"), method, reference=7) == [
        OutgoingPart(b"hello", udhi=False, data_coding=0)
    ]


def test_language_elements_go_in_every_header() -> None:
    plan = plan_of(b"a", b"b", language_udh=TURKISH_SINGLE_SHIFT)
    parts = outgoing_parts(plan, ConcatMethod.UDH8, reference=1)
    assert parts[1].short_message == bytes.fromhex("08 0003010202 240101") + b"b"
    sar = outgoing_parts(plan, ConcatMethod.SAR, reference=1)
    assert sar[0].short_message == bytes.fromhex("03 240101") + b"a"
    assert sar[0].udhi


def test_a_single_part_with_a_language_still_has_a_header() -> None:
    plan = plan_of(b"x", language_udh=TURKISH_SINGLE_SHIFT)
    [part] = outgoing_parts(plan, ConcatMethod.UDH16, reference=1)
    assert part.short_message == bytes.fromhex("03240101") + b"x"
    assert part.udhi
    [whole] = outgoing_parts(plan, ConcatMethod.PAYLOAD, reference=1)
    assert whole.message_payload == bytes.fromhex("03240101") + b"x"
    assert whole.udhi


def test_an_empty_plan_is_one_empty_part() -> None:
    assert outgoing_parts(plan_of(), ConcatMethod.UDH8, 0) == [OutgoingPart(b"", False, 0)]


def test_outgoing_limits() -> None:
    with pytest.raises(ValueError, match="negative"):
        outgoing_parts(plan_of(b"a"), ConcatMethod.UDH8, reference=-1)
    with pytest.raises(ValueError, match="255 parts"):
        outgoing_parts(plan_of(*([b"a"] * 256)), ConcatMethod.SAR, reference=1)
    with pytest.raises(ValueError, match="65535"):
        outgoing_parts(plan_of(b"a" * 40_000, b"b" * 40_000), ConcatMethod.PAYLOAD, reference=1)


# UDH parsing


def test_parse_udh_returns_elements_and_the_rest() -> None:
    header, rest = parse_udh(bytes.fromhex("08 0003AB0201 240101") + b"text")
    assert header.elements == (
        InformationElement(0x00, bytes.fromhex("AB0201")),
        InformationElement(0x24, b"\x01"),
    )
    assert header.concat == ConcatInfo(0xAB, 2, 1, reference_bits=8)
    assert header.other_elements == (InformationElement(0x24, b"\x01"),)
    assert rest == b"text"


def test_parse_udh_reads_sixteen_bit_references_whole() -> None:
    header, rest = parse_udh(bytes.fromhex("060804BEEF0302") + b"x")
    assert header.concat == ConcatInfo(0xBEEF, 3, 2, reference_bits=16)
    assert rest == b"x"


def test_build_udh_and_parse_udh_agree() -> None:
    info = ConcatInfo(0x0102, 9, 4, reference_bits=16)
    encoded = build_udh(info, TURKISH_SINGLE_SHIFT)
    header, rest = parse_udh(encoded + b"z")
    assert header.concat == info
    assert header.encode() == encoded
    assert rest == b"z"
    assert build_udh(None) == b""


@pytest.mark.parametrize(
    "udh",
    [
        "050003010200",  # sequence 0
        "050003010003",  # total 0
        "050003010203",  # sequence above total
    ],
)
def test_unusable_concatenation_elements_are_ignored(udh: str) -> None:
    header, _ = parse_udh(bytes.fromhex(udh))
    assert header.concat is None


def test_the_last_concatenation_element_counts() -> None:
    header, _ = parse_udh(bytes.fromhex("0B 0003010201 080400070302"))
    assert header.concat == ConcatInfo(7, 3, 2, reference_bits=16)


@pytest.mark.parametrize(
    "data",
    [
        "",  # no header at all
        "05000301",  # length past the end
        "0300050102",  # element runs past the header
        "0100",  # element header cut short
        "0400020102",  # 8-bit concatenation element of length 2
        "050803010201",  # 16-bit concatenation element of length 3
    ],
)
def test_malformed_headers_raise_udh_parse_error(data: str) -> None:
    with pytest.raises(UdhParseError):
        parse_udh(bytes.fromhex(data))


def test_udh_parse_error_belongs_to_the_package_root() -> None:
    assert issubclass(UdhParseError, TidingsError)


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_udh_parse_error(data: bytes) -> None:
    try:
        header, rest = parse_udh(data)
    except UdhParseError:
        return
    assert header.encode() + rest == data
    _ = header.concat


# Reassembly


def test_a_plain_message_is_complete_at_once() -> None:
    reassembler = Reassembler(timeout_s=60)
    message = reassembler.add(fragment(b"hello", udhi=False), now=0)
    assert message is not None
    assert (message.reference, message.payload, message.data_coding) == (None, b"hello", 0)
    assert reassembler.next_deadline() is None


def test_parts_out_of_order_reassemble_in_order() -> None:
    reassembler = Reassembler(timeout_s=60)
    assert reassembler.add(fragment(bytes.fromhex("050003070303") + b"C"), now=0) is None
    assert reassembler.add(fragment(bytes.fromhex("050003070301") + b"A"), now=1) is None
    message = reassembler.add(fragment(bytes.fromhex("050003070302") + b"B"), now=2)
    assert message is not None
    assert message.payload == b"ABC"
    assert [part.sequence for part in message.parts] == [1, 2, 3]
    assert message.reference == 7
    assert reassembler.pending_count == 0
    assert reassembler.next_deadline() is None


def test_duplicates_are_ignored_before_and_after_completion() -> None:
    reassembler = Reassembler(timeout_s=60)
    first = fragment(bytes.fromhex("050003090201") + b"A")
    assert reassembler.add(first, now=0) is None
    assert reassembler.add(first, now=1) is None
    assert reassembler.add(fragment(bytes.fromhex("050003090202") + b"B"), now=2) is not None
    # An SMSC resending a part whose response it missed must not start a phantom message.
    assert reassembler.add(first, now=3) is None
    assert reassembler.pending_count == 0
    assert reassembler.expire(now=1000) == []


def test_a_reused_reference_with_new_content_starts_a_new_message() -> None:
    reassembler = Reassembler(timeout_s=60)
    reassembler.add(fragment(bytes.fromhex("050003090201") + b"A"), now=0)
    reassembler.add(fragment(bytes.fromhex("050003090202") + b"B"), now=0)
    assert reassembler.add(fragment(bytes.fromhex("050003090201") + b"X"), now=1) is None
    message = reassembler.add(fragment(bytes.fromhex("050003090202") + b"Y"), now=1)
    assert message is not None
    assert message.payload == b"XY"


def test_sixteen_bit_references_are_not_confused_with_their_low_octet() -> None:
    reassembler = Reassembler(timeout_s=60)
    assert reassembler.add(fragment(bytes.fromhex("0608040105 0201") + b"a"), now=0) is None
    assert reassembler.add(fragment(bytes.fromhex("0608040205 0202") + b"b"), now=0) is None
    assert reassembler.pending_count == 2
    message = reassembler.add(fragment(bytes.fromhex("0608040105 0202") + b"c"), now=0)
    assert message is not None
    assert message.reference == 0x0105
    assert message.payload == b"ac"


def test_sets_are_kept_apart_by_source() -> None:
    reassembler = Reassembler(timeout_s=60)
    udh = bytes.fromhex("050003010201")
    assert reassembler.add(fragment(udh + b"a", source="A"), now=0) is None
    assert reassembler.add(fragment(udh + b"b", source="B"), now=0) is None
    assert reassembler.pending_count == 2


def test_sar_and_payload_fragments_reassemble() -> None:
    reassembler = Reassembler(timeout_s=60)
    for part in outgoing_parts(plan_of(b"12", b"34", b"5"), ConcatMethod.SAR, 300)[:2]:
        assert reassembler.add(as_fragment(part), now=0) is None
    [last] = outgoing_parts(plan_of(b"12", b"34", b"5"), ConcatMethod.SAR, 300)[2:]
    message = reassembler.add(as_fragment(last), now=0)
    assert message is not None
    assert (message.reference, message.payload) == (300, b"12345")

    [whole] = outgoing_parts(plan_of(b"ab", b"cd"), ConcatMethod.PAYLOAD, 1)
    message = reassembler.add(as_fragment(whole), now=0)
    assert message is not None
    assert message.payload == b"abcd"


def test_methods_mix_without_interfering() -> None:
    reassembler = Reassembler(timeout_s=60)
    udh8 = outgoing_parts(plan_of(b"a1", b"a2"), ConcatMethod.UDH8, 5)
    udh16 = outgoing_parts(plan_of(b"b1", b"b2"), ConcatMethod.UDH16, 0x105)
    sar = outgoing_parts(plan_of(b"c1", b"c2"), ConcatMethod.SAR, 0x205)
    completed: list[CompleteMessage] = []
    for part in [udh8[0], udh16[0], sar[0], sar[1], udh16[1], udh8[1]]:
        message = reassembler.add(as_fragment(part), now=0)
        if message is not None:
            completed.append(message)
    assert [message.payload for message in completed] == [b"c1c2", b"b1b2", b"a1a2"]


def test_a_part_may_arrive_with_a_different_method_than_its_siblings() -> None:
    reassembler = Reassembler(timeout_s=60)
    assert reassembler.add(fragment(bytes.fromhex("050003040201") + b"x"), now=0) is None
    sar_part = IncomingFragment(SOURCE, DESTINATION, 0, b"y", sar=(4, 2, 2))
    message = reassembler.add(sar_part, now=0)
    assert message is not None
    assert message.payload == b"xy"


def test_invalid_sar_values_leave_the_fragment_standing_alone() -> None:
    reassembler = Reassembler(timeout_s=60)
    message = reassembler.add(IncomingFragment(SOURCE, DESTINATION, 0, b"z", sar=(1, 2, 3)), 0)
    assert message is not None
    assert message.payload == b"z"


def test_the_udh_of_a_complete_part_is_available() -> None:
    reassembler = Reassembler(timeout_s=60)
    message = reassembler.add(fragment(bytes.fromhex("03240101") + b"x"), now=0)
    assert message is not None
    assert message.payload == b"x"
    header = message.parts[0].header
    assert header is not None
    assert header.other_elements == (InformationElement(0x24, b"\x01"),)


def test_a_malformed_udh_raises_from_add() -> None:
    with pytest.raises(UdhParseError):
        Reassembler(timeout_s=60).add(fragment(bytes.fromhex("09000301")), now=0)


def test_incomplete_sets_expire_with_their_missing_parts() -> None:
    reassembler = Reassembler(timeout_s=30)
    reassembler.add(fragment(bytes.fromhex("050003010402") + b"b"), now=10)
    reassembler.add(fragment(bytes.fromhex("050003020201") + b"x"), now=20)
    assert reassembler.next_deadline() == 40
    assert reassembler.expire(now=39.9) == []
    [expired] = reassembler.expire(now=40)
    assert (expired.reference, expired.total, expired.missing) == (1, 4, (1, 3, 4))
    assert expired.payload == b"b"
    assert expired.first_seen == 10
    assert reassembler.next_deadline() == 50
    [second] = reassembler.expire(now=100)
    assert second.missing == (2,)
    assert reassembler.next_deadline() is None


def test_parts_after_expiry_start_a_new_set() -> None:
    reassembler = Reassembler(timeout_s=5)
    reassembler.add(fragment(bytes.fromhex("050003010201") + b"a"), now=0)
    assert len(reassembler.expire(now=5)) == 1
    assert reassembler.add(fragment(bytes.fromhex("050003010202") + b"b"), now=6) is None
    assert reassembler.pending_count == 1


def test_the_number_of_pending_sets_is_bounded() -> None:
    reassembler = Reassembler(timeout_s=600, max_pending=3)
    for reference in range(5):
        udh = bytes((5, 0, 3, reference, 2, 1))
        assert reassembler.add(fragment(udh + b"p"), now=reference) is None
    assert reassembler.pending_count == 3
    assert reassembler.next_deadline() == 3
    evicted = reassembler.expire(now=4)
    assert [message.reference for message in evicted] == [0, 1]
    assert all(message.missing == (2,) for message in evicted)
    assert reassembler.next_deadline() == 602


def test_pending_octets_are_bounded() -> None:
    reassembler = Reassembler(timeout_s=600, max_pending_octets=250)
    for reference in range(3):
        udh = bytes((5, 0, 3, reference, 3, 1))
        reassembler.add(fragment(udh + b"x" * 100), now=0)
    assert [message.reference for message in reassembler.expire(now=0)] == [0]
    assert reassembler.pending_count == 2


def test_reassembler_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        Reassembler(timeout_s=0)


@given(st.lists(st.binary(max_size=200), max_size=40))
def test_random_fragments_raise_only_udh_parse_error(messages: list[bytes]) -> None:
    reassembler = Reassembler(timeout_s=10, max_pending=5)
    for index, data in enumerate(messages):
        with contextlib.suppress(UdhParseError):
            reassembler.add(fragment(data, udhi=bool(index % 3)), now=index)
        reassembler.expire(now=index)
        assert reassembler.pending_count <= 5


@given(
    payloads=st.lists(st.binary(min_size=1, max_size=20), min_size=1, max_size=12),
    method=st.sampled_from(ConcatMethod),
    reference=st.integers(0, 100_000),
    order=st.randoms(use_true_random=False),
)
def test_outgoing_parts_reassemble_in_any_order(
    payloads: list[bytes], method: ConcatMethod, reference: int, order: random.Random
) -> None:
    parts = outgoing_parts(plan_of(*payloads, data_coding=UCS2), method, reference)
    shuffled = list(parts)
    order.shuffle(shuffled)
    reassembler = Reassembler(timeout_s=60)
    results = [reassembler.add(as_fragment(part), now=0) for part in shuffled]
    complete = [message for message in results if message is not None]
    assert len(complete) == 1
    assert complete[0].payload == b"".join(payloads)
    assert complete[0].data_coding == UCS2
    assert reassembler.pending_count == 0


# End to end with the text planner


_REFERENCE_SIZES = {
    ConcatMethod.UDH8: ReferenceSize.EIGHT_BIT,
    ConcatMethod.UDH16: ReferenceSize.SIXTEEN_BIT,
    ConcatMethod.SAR: ReferenceSize.EIGHT_BIT,
    ConcatMethod.PAYLOAD: ReferenceSize.EIGHT_BIT,
}


@given(
    text=st.one_of(
        st.text(alphabet="abc XYZ 0123 @£$¥èé€[]{}^~|\\\n", max_size=600),
        st.text(alphabet="abc щ€漢😀👍🏽\u0301", max_size=300),
    ),
    method=st.sampled_from(ConcatMethod),
    reference=st.integers(0, 70_000),
    order=st.randoms(use_true_random=False),
)
def test_planned_text_survives_split_and_reassembly(
    text: str, method: ConcatMethod, reference: int, order: random.Random
) -> None:
    plan = plan_text(text, reference_size=_REFERENCE_SIZES[method])
    parts = outgoing_parts(plan, method, reference)
    assert len(parts) == (1 if method is ConcatMethod.PAYLOAD else plan.parts)
    order.shuffle(parts)
    reassembler = Reassembler(timeout_s=60)
    complete = [message for part in parts if (message := reassembler.add(as_fragment(part), 0))]
    assert len(complete) == 1
    assert decode(complete[0].payload, complete[0].data_coding) == text


def test_a_long_gsm_text_gets_exact_udh8_headers() -> None:
    plan = plan_text("x" * 161)
    parts = outgoing_parts(plan, ConcatMethod.UDH8, reference=0xAB)
    assert [part.short_message[:6] for part in parts] == [
        bytes.fromhex("050003AB0201"),
        bytes.fromhex("050003AB0202"),
    ]
    assert [len(part.short_message) - 6 for part in parts] == [153, 8]
