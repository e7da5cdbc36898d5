"""IPP messages to bytes and back; bytes that are no IPP message never crash the reader."""

from __future__ import annotations

import contextlib
import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.ipp.codec import (
    Attribute,
    AttributeGroup,
    Collection,
    Message,
    Resolution,
    TextWithLanguage,
    decode_message,
    encode_message,
)
from tidings.ipp.constants import GroupTag, Operation, ValueTag
from tidings.ipp.errors import RemoteProtocolError


def sample() -> Message:
    operation = AttributeGroup(GroupTag.OPERATION)
    operation.add("attributes-charset", ValueTag.CHARSET, "utf-8")
    operation.add("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en")
    operation.add("printer-uri", ValueTag.URI, "ipp://127.0.0.1/printers/PDF")
    operation.add("requested-attributes", ValueTag.KEYWORD, "job-state", "job-id")
    job = AttributeGroup(GroupTag.JOB)
    job.add("copies", ValueTag.INTEGER, 2)
    job.add("job-priority", ValueTag.INTEGER, -5)
    job.add("print-color-mode", ValueTag.KEYWORD, "monochrome")
    job.add("last", ValueTag.BOOLEAN, True)
    job.add("printer-resolution", ValueTag.RESOLUTION, Resolution(600, 300, 3))
    job.add("page-ranges", ValueTag.RANGE_OF_INTEGER, (1, 4), (7, 9))
    job.add("job-name", ValueTag.NAME_WITH_LANGUAGE, TextWithLanguage("de", "Brief an Zoë"))
    job.add("job-state", ValueTag.ENUM, 9)
    job.add("printer-up-time", ValueTag.NO_VALUE, None)
    job.add(
        "date-time-at-completed",
        ValueTag.DATE_TIME,
        datetime(2026, 3, 4, 5, 6, 7, 800_000, tzinfo=timezone(timedelta(hours=10))),
    )
    size = Collection(
        (
            Attribute("x-dimension", ValueTag.INTEGER, (21000,)),
            Attribute("y-dimension", ValueTag.INTEGER, (29700,)),
        )
    )
    job.add(
        "media-col",
        ValueTag.BEGIN_COLLECTION,
        Collection(
            (
                Attribute("media-size", ValueTag.BEGIN_COLLECTION, (size,)),
                Attribute("media-type", ValueTag.KEYWORD, ("stationery", "envelope")),
            )
        ),
    )
    return Message((2, 0), Operation.PRINT_JOB, 7, [operation, job], b"%PDF-1.7 data")


def test_a_message_survives_the_round_trip_value_for_value() -> None:
    message = sample()
    decoded = decode_message(encode_message(message))
    assert decoded == message
    media = decoded.attribute(GroupTag.JOB, "media-col")
    assert media is not None and isinstance(media.value, Collection)
    size = media.value.get("media-size")
    assert size is not None and isinstance(size.value, Collection)
    assert size.value.get("y-dimension") == Attribute("y-dimension", ValueTag.INTEGER, (29700,))


def test_the_header_and_first_attribute_are_laid_out_as_rfc_8010_says() -> None:
    data = encode_message(sample())
    assert data[:8] == b"\x02\x00\x00\x02\x00\x00\x00\x07"
    assert data[8] == GroupTag.OPERATION
    # value-tag, name-length, name, value-length, value
    assert data[9:12] == b"\x47\x00\x12"
    assert data[12:30] == b"attributes-charset"
    assert data[30:37] == b"\x00\x05utf-8"
    assert data.endswith(b"\x03%PDF-1.7 data")


def test_additional_values_carry_no_name() -> None:
    group = AttributeGroup(GroupTag.OPERATION).add("k", ValueTag.KEYWORD, "a", "b")
    data = encode_message(Message((1, 1), 0, 1, [group]))
    assert data[9:] == b"\x44\x00\x01k\x00\x01a" + b"\x44\x00\x00\x00\x01b" + b"\x03"


def test_a_datetime_keeps_its_instant() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    group = AttributeGroup(GroupTag.JOB).add("t", ValueTag.DATE_TIME, moment)
    decoded = decode_message(encode_message(Message((1, 1), 0, 1, [group])))
    assert decoded.attribute(GroupTag.JOB, "t") == Attribute("t", ValueTag.DATE_TIME, (moment,))


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"\x01\x01\x00", "the operation or status code"),
        (b"\x01\x01\x00\x00\x00\x00\x00\x01\x01\x44\x00\x05ab", "an attribute name"),
        (
            b"\x01\x01\x00\x00\x00\x00\x00\x01\x44\x00\x01k\x00\x01a\x03",
            "before any attribute group",
        ),
        (b"\x01\x01\x00\x00\x00\x00\x00\x01\x01\x44\x00\x00\x00\x01a\x03", "no attribute before"),
        (b"\x01\x01\x00\x00\x00\x00\x00\x01\x01\x21\x00\x01n\x00\x02ab\x03", "cannot be read"),
        (b"\x01\x01\x00\x00\x00\x00\x00\x01\x01\x44\x00\x01k\x00\x01a", "no end-of-attributes"),
        (b"\x01\x01\x00\x00\x00\x00\x00\x01\x00\x03", "reserved"),
    ],
)
def test_broken_messages_are_refused_with_a_bad_request(data: bytes, complaint: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        decode_message(data)
    assert complaint in caught.value.message
    assert caught.value.status == 0x0400


def test_collections_nested_too_deep_are_refused() -> None:
    begin = struct.pack(">BH", ValueTag.BEGIN_COLLECTION, 0) + b"\x00\x00"
    member = struct.pack(">BHH", ValueTag.MEMBER_ATTR_NAME, 0, 1) + b"m"
    nested = (member + begin) * 20
    data = (
        b"\x01\x01\x00\x00\x00\x00\x00\x01\x02"
        + struct.pack(">BH", ValueTag.BEGIN_COLLECTION, 1)
        + b"c\x00\x00"
        + nested
    )
    with pytest.raises(RemoteProtocolError, match="nested"):
        decode_message(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_read_or_refused_never_crash(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode_message(data)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_a_damaged_message_is_read_or_refused_never_crash(data: st.DataObject) -> None:
    whole = bytearray(encode_message(sample()))
    cut = data.draw(st.integers(0, len(whole)))
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, len(whole) - 1), st.integers(0, 255)), max_size=4)
    )
    for index, value in flips:
        whole[index] = value
    with contextlib.suppress(RemoteProtocolError):
        decode_message(bytes(whole[:cut]))
