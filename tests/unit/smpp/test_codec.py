"""The PDU codec: exact bytes, round trips of every operation, tolerance and strictness."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.smpp import CommandStatus, FrameReader, RemoteProtocolError, Tag, decode, encode
from tidings.smpp.constants import MAX_COMMAND_LENGTH
from tidings.smpp.errors import LocalProtocolError, ProtocolError
from tidings.smpp.pdu import (
    PDU_CLASSES,
    AlertNotification,
    BindTransceiver,
    BindTransceiverResp,
    CancelSm,
    DataSm,
    DeliverSm,
    DestAddress,
    EnquireLink,
    GenericNack,
    Outbind,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnsuccessSme,
    response_for,
)


def test_enquire_link_is_the_bare_header() -> None:
    assert encode(EnquireLink(sequence_number=7)) == bytes.fromhex(
        "00000010000000150000000000000007"
    )


def test_bind_transceiver_bytes_match_the_spec_layout() -> None:
    pdu = BindTransceiver(sequence_number=1, system_id="tidings", password="secret")
    assert encode(pdu) == (
        bytes.fromhex("00000024000000090000000000000001")
        + b"tidings\x00secret\x00\x00"
        + bytes((0x34, 0, 0))
        + b"\x00"
    )


def test_submit_sm_bytes_and_tlvs() -> None:
    pdu = SubmitSm(
        sequence_number=2,
        source_addr_ton=5,
        source_addr="Tidings",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="358401234567",
        registered_delivery=1,
        data_coding=8,
        short_message="€".encode("utf-16-be"),
    )
    pdu.set_tlv(Tag.USER_MESSAGE_REFERENCE, 0x1234)
    data = encode(pdu)
    body = (
        b"\x00"  # service_type
        + b"\x05\x00Tidings\x00"
        + b"\x01\x01358401234567\x00"
        + b"\x00\x00\x00"  # esm_class, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period
        + b"\x01\x00\x08\x00"  # registered_delivery, replace_if_present, data_coding, default id
        + b"\x02\x20\xac"
        + b"\x02\x04\x00\x02\x12\x34"
    )
    assert data == struct.pack(">IIII", 16 + len(body), 4, 0, 2) + body
    back = decode(data)
    assert back == pdu
    assert back.get_tlv(Tag.USER_MESSAGE_REFERENCE) == 0x1234


EXAMPLES = [
    GenericNack(sequence_number=3, command_status=CommandStatus.ESME_RINVCMDID),
    BindTransceiver(sequence_number=1, system_id="a", password="b", system_type="c"),
    BindTransceiverResp(sequence_number=1, system_id="smsc"),
    Outbind(sequence_number=1, system_id="smsc", password="pw"),
    Unbind(sequence_number=9),
    SubmitSm(sequence_number=4, destination_addr="123", short_message=b"hi"),
    SubmitSmResp(sequence_number=4, message_id="ABCDEF0123"),
    DeliverSm(
        sequence_number=5, source_addr="123", esm_class=4, short_message=b"id:1 stat:DELIVRD"
    ),
    DataSm(sequence_number=6, destination_addr="1" * 64, tlvs={Tag.MESSAGE_PAYLOAD: b"x" * 1000}),
    QuerySm(sequence_number=7, message_id="m1", source_addr="s"),
    QuerySmResp(sequence_number=7, message_id="m1", final_date="", message_state=2, error_code=0),
    CancelSm(sequence_number=8, message_id="m1", source_addr="s", destination_addr="d"),
    ReplaceSm(sequence_number=9, message_id="m1", short_message=b"new"),
    SubmitMulti(
        sequence_number=10,
        dest_addresses=[DestAddress("111", 1, 1), DestAddress("staff", is_distribution_list=True)],
        short_message=b"multi",
    ),
    SubmitMultiResp(
        sequence_number=10, message_id="m2", unsuccess_smes=[UnsuccessSme("111", 1, 1, 0x0B)]
    ),
    AlertNotification(sequence_number=11, source_addr="1", esme_addr="2"),
]


@pytest.mark.parametrize("pdu", EXAMPLES, ids=lambda p: type(p).__name__)
def test_every_operation_round_trips(pdu: object) -> None:
    assert decode(encode(pdu)) == pdu  # type: ignore[arg-type]


def test_every_registered_class_round_trips_with_defaults() -> None:
    for cls in PDU_CLASSES.values():
        pdu = cls(sequence_number=42)
        if isinstance(pdu, SubmitMulti):
            pdu.dest_addresses = [DestAddress("1")]
        assert decode(encode(pdu)) == pdu


def test_failed_response_goes_without_body_and_decodes_with_defaults() -> None:
    resp = response_for(SubmitSm(sequence_number=12), CommandStatus.ESME_RTHROTTLED)
    data = encode(resp)
    assert len(data) == 16
    back = decode(data)
    assert isinstance(back, SubmitSmResp)
    assert back.command_status == CommandStatus.ESME_RTHROTTLED
    assert back.message_id == ""


def test_unknown_status_tlv_and_data_coding_are_kept() -> None:
    pdu = DeliverSm(sequence_number=1, data_coding=0xF5, command_status=0x401)
    pdu.tlvs[0x1400] = b"\xde\xad"  # a vendor tag
    back = decode(encode(pdu))
    assert back.command_status == 0x401
    assert isinstance(back, DeliverSm)
    assert back.data_coding == 0xF5
    assert back.tlvs[0x1400] == b"\xde\xad"
    assert back.get_tlv(0x1400) == b"\xde\xad"


def test_typed_tlvs() -> None:
    pdu = DeliverSm()
    pdu.set_tlv(Tag.RECEIPTED_MESSAGE_ID, "abc")
    pdu.set_tlv(Tag.MESSAGE_STATE, 2)
    pdu.set_tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x0b")
    pdu.set_tlv(Tag.SAR_MSG_REF_NUM, 513)
    assert pdu.tlvs[Tag.RECEIPTED_MESSAGE_ID] == b"abc\x00"
    assert pdu.tlvs[Tag.SAR_MSG_REF_NUM] == b"\x02\x01"
    back = decode(encode(pdu))
    assert back.get_tlv(Tag.RECEIPTED_MESSAGE_ID) == "abc"
    assert back.get_tlv(Tag.MESSAGE_STATE) == 2
    assert back.get_tlv(Tag.NETWORK_ERROR_CODE) == b"\x03\x00\x0b"
    assert back.get_tlv(Tag.SAR_MSG_REF_NUM) == 513


def test_unknown_command_id_is_a_remote_error_answered_by_generic_nack() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode(struct.pack(">IIII", 16, 0x0000_0099, 0, 77))
    assert info.value.command_status == CommandStatus.ESME_RINVCMDID
    assert info.value.sequence_number == 77
    assert not info.value.fatal


def test_overlong_cstring_is_rejected_with_the_field_status() -> None:
    pdu = SubmitSm(sequence_number=1, destination_addr="1" * 20)
    data = bytearray(encode(pdu))
    # Overwrite the NUL after destination_addr so the field runs past its 21-octet maximum.
    nul = data.index(b"1" * 20) + 20
    data[nul] = ord("1")
    with pytest.raises(RemoteProtocolError) as info:
        decode(bytes(data))
    assert info.value.command_status == CommandStatus.ESME_RINVDSTADR


def test_sm_length_past_the_end_is_rejected() -> None:
    data = bytearray(encode(SubmitSm(sequence_number=1, short_message=b"abc")))
    data[-4] = 200  # sm_length
    with pytest.raises(RemoteProtocolError) as info:
        decode(bytes(data))
    assert info.value.command_status == CommandStatus.ESME_RINVMSGLEN


def test_local_errors_for_fields_we_cannot_send() -> None:
    with pytest.raises(LocalProtocolError):
        encode(SubmitSm(destination_addr="1" * 21))
    with pytest.raises(LocalProtocolError):
        encode(SubmitSm(short_message=b"x" * 255))
    with pytest.raises(LocalProtocolError):
        encode(SubmitSm(esm_class=256))
    with pytest.raises(LocalProtocolError):
        encode(SubmitSm(source_addr="Tidings€"))


def test_frame_reader_cuts_a_stream_at_any_split() -> None:
    stream = b"".join(encode(p) for p in EXAMPLES)
    for chunk in (1, 3, 7, 64, len(stream)):
        reader = FrameReader()
        got = []
        for i in range(0, len(stream), chunk):
            reader.feed(stream[i : i + chunk])
            while (pdu := reader.next_pdu()) is not None:
                got.append(pdu)
        assert got == EXAMPLES


def test_frame_reader_rejects_bad_command_length_as_fatal() -> None:
    for length in (0, 15, MAX_COMMAND_LENGTH + 1):
        reader = FrameReader()
        reader.feed(struct.pack(">IIII", length, 4, 0, 1))
        with pytest.raises(RemoteProtocolError) as info:
            reader.next_pdu()
        assert info.value.fatal
        assert info.value.command_status == CommandStatus.ESME_RINVCMDLEN


def test_frame_reader_stays_in_sync_after_a_bad_pdu() -> None:
    reader = FrameReader()
    reader.feed(struct.pack(">IIII", 16, 0x99, 0, 1) + encode(EnquireLink(sequence_number=2)))
    with pytest.raises(RemoteProtocolError) as info:
        reader.next_pdu()
    assert not info.value.fatal
    assert reader.next_pdu() == EnquireLink(sequence_number=2)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_protocol_errors(data: bytes) -> None:
    reader = FrameReader()
    reader.feed(data)
    for _ in range(100):  # bounded: must never loop forever
        try:
            if reader.next_pdu() is None:
                break
        except ProtocolError as exc:
            if exc.fatal:
                break


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(EXAMPLES), st.data())
def test_mutated_valid_pdus_raise_only_protocol_errors(pdu: object, data: st.DataObject) -> None:
    raw = bytearray(encode(pdu))  # type: ignore[arg-type]
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(4, len(raw) - 1)) if len(raw) > 4 else 0
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(16, len(raw)))
    frame = struct.pack(">I", cut) + bytes(raw[4:cut])
    with contextlib.suppress(ProtocolError):
        decode(frame)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=20),
    st.binary(max_size=254),
    st.integers(0, 255),
    st.dictionaries(st.integers(0, 0xFFFF), st.binary(max_size=50), max_size=4),
)
def test_submit_sm_round_trips(
    source: str, message: bytes, dcs: int, tlvs: dict[int, bytes]
) -> None:
    pdu = SubmitSm(
        sequence_number=1, source_addr=source, short_message=message, data_coding=dcs, tlvs=tlvs
    )
    assert decode(encode(pdu)) == pdu


def _outcome(decoder: object, frame: bytes) -> object:
    try:
        return decoder(frame)  # type: ignore[operator]
    except ProtocolError as exc:
        return (type(exc), str(exc), exc.command_status, exc.command_id, exc.sequence_number)


def _from_stream(frame: bytes, after: bytes) -> object:
    # The frame decoded in place from a buffer that holds other bytes right after it.
    reader = FrameReader()
    reader.feed(frame + after)
    return reader.next_pdu()


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(EXAMPLES), st.data())
def test_a_pdu_in_a_stream_decodes_as_it_does_alone(pdu: object, data: st.DataObject) -> None:
    # Decoding from the receive buffer must stop at command_length: fields cut short by it
    # fail the same way whatever bytes follow in the buffer.
    raw = bytearray(encode(pdu))  # type: ignore[arg-type]
    for _ in range(data.draw(st.integers(0, 3))):
        i = data.draw(st.integers(16, len(raw) - 1)) if len(raw) > 16 else 0
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(16, len(raw)))
    frame = struct.pack(">I", cut) + bytes(raw[4:cut])
    # What follows: a NUL-free run (a string cut short must not end in it), or another PDU.
    after = data.draw(
        st.sampled_from([b"A" * 80 + b"\x00" * 8, encode(EnquireLink(sequence_number=9))])
    )
    assert _outcome(lambda f: _from_stream(f, after), frame) == _outcome(decode, frame)


def test_a_pdu_fed_in_pieces_comes_out_when_its_last_octet_arrives() -> None:
    submit = SubmitSm(sequence_number=3, source_addr="Tidings", short_message=b"x" * 200)
    first = encode(submit)
    data = first + encode(EnquireLink(sequence_number=4))
    reader = FrameReader()
    got: list[tuple[int, object]] = []
    for i in range(0, len(data), 5):
        reader.feed(data[i : i + 5])
        while (pdu := reader.next_pdu()) is not None:
            got.append((i + 5, pdu))
    assert got == [
        (-(-len(first) // 5) * 5, submit),
        (-(-len(data) // 5) * 5, EnquireLink(sequence_number=4)),
    ]
    assert reader.buffered == 0


def test_response_for_makes_what_the_dataclass_makes() -> None:
    for request_cls in PDU_CLASSES.values():
        if request_cls.RESPONSE:
            continue
        request = request_cls(sequence_number=5)
        response = response_for(request, CommandStatus.ESME_RTHROTTLED)
        expected_cls = type(response)
        assert response == expected_cls(sequence_number=5, command_status=0x58)
        # Mutable defaults are fresh for every response.
        assert response.tlvs is not response_for(request).tlvs


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=30), st.integers(0, 5))
def test_frame_reader_takes_several_feeds_before_a_read(cuts: list[int], reads: int) -> None:
    stream = b"".join(encode(p) for p in EXAMPLES)
    reader = FrameReader()
    got = []
    pos = 0
    for cut in cuts:
        reader.feed(stream[pos : pos + cut])
        pos += cut
        for _ in range(reads):  # sometimes no read at all between feeds
            if (pdu := reader.next_pdu()) is not None:
                got.append(pdu)
    reader.feed(stream[pos:])
    while (pdu := reader.next_pdu()) is not None:
        got.append(pdu)
    assert got == EXAMPLES
    assert reader.buffered == 0


def test_a_bad_command_length_after_a_partial_pdu_is_fatal() -> None:
    reader = FrameReader()
    enquire = encode(EnquireLink(sequence_number=1))
    reader.feed(enquire[:10])
    assert reader.next_pdu() is None
    reader.feed(enquire[10:] + struct.pack(">IIII", 8, 4, 0, 2))
    assert reader.next_pdu() == EnquireLink(sequence_number=1)
    with pytest.raises(RemoteProtocolError) as info:
        reader.next_pdu()
    assert info.value.fatal
    assert info.value.sequence_number == 2
