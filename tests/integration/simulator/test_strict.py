"""The simulator refuses malformed submits as a strict SMSC does, unless it is told to be
lenient. The submits are written byte by byte over a raw TCP connection: our own encoder would
refuse to produce some of them."""

from __future__ import annotations

import asyncio
import struct

import pytest

from tidings.simulator import Simulator, SimulatorConfig
from tidings.simulator.strict import valid_data_coding
from tidings.smpp.codec import encode
from tidings.smpp.constants import CommandStatus, EsmClass, Tag
from tidings.smpp.pdu import BindTransmitter

SUBMIT_SM = 0x00000004
DATA_SM = 0x00000103


def submit_body(
    short_message: bytes,
    *,
    data_coding: int = 0,
    esm_class: int = 0,
    sm_length: int | None = None,
    tlvs: bytes = b"",
) -> bytes:
    """A submit_sm body (SMPP 3.4 §4.4.1) with whatever sm_length it is given."""
    return (
        b"\x00"  # service_type
        + bytes((1, 1))
        + b"12345\x00"
        + bytes((1, 1))
        + b"358401234567\x00"
        + bytes((esm_class, 0, 0))  # esm_class, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period
        + bytes((1, 0, data_coding, 0))  # registered_delivery, replace, data_coding, default id
        + bytes((len(short_message) if sm_length is None else sm_length,))
        + short_message
        + tlvs
    )


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


async def answer_to(port: int, command_id: int, body: bytes) -> int:
    """Bind, send one request with ``body``, and return the command_status of its answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(encode(BindTransmitter(sequence_number=1, system_id="probe", password="x")))
        header = await asyncio.wait_for(reader.readexactly(16), 30)
        length, _, status, _ = struct.unpack(">IIII", header)
        await reader.readexactly(length - 16)
        assert status == 0
        writer.write(struct.pack(">IIII", 16 + len(body), command_id, 0, 2) + body)
        header = await asyncio.wait_for(reader.readexactly(16), 30)
        length, _, status, sequence = struct.unpack(">IIII", header)
        await reader.readexactly(length - 16)
        assert sequence == 2
        return status
    finally:
        writer.close()


UCS2 = 0x08
UDHI = int(EsmClass.UDHI)
MALFORMED = [
    ("sm_length 255", SUBMIT_SM, submit_body(b"a" * 255), CommandStatus.ESME_RINVMSGLEN),
    (
        "data_coding 0xFF",
        SUBMIT_SM,
        submit_body(b"hello", data_coding=0xFF),
        CommandStatus.ESME_RINVDCS,
    ),
    (
        "odd-length UCS-2",
        SUBMIT_SM,
        submit_body("hi".encode("utf-16-be") + b"\x00", data_coding=UCS2),
        CommandStatus.ESME_RINVMSGLEN,
    ),
    (
        "odd-length UCS-2 after a UDH",
        SUBMIT_SM,
        submit_body(b"\x05\x00\x03\x07\x02\x01" + b"\x00h\x00", data_coding=UCS2, esm_class=UDHI),
        CommandStatus.ESME_RINVMSGLEN,
    ),
    (
        "UDH longer than the message",
        SUBMIT_SM,
        submit_body(b"\x0a\x00\x03\x07\x02\x01hi", esm_class=UDHI),
        CommandStatus.ESME_RINVESMCLASS,
    ),
    (
        "part 3 of 2",
        SUBMIT_SM,
        submit_body(b"\x05\x00\x03\x07\x02\x03hello", esm_class=UDHI),
        CommandStatus.ESME_RINVESMCLASS,
    ),
    (
        "16-bit reference, part 0",
        SUBMIT_SM,
        submit_body(b"\x06\x08\x04\x01\x02\x02\x00hello", esm_class=UDHI),
        CommandStatus.ESME_RINVESMCLASS,
    ),
    (
        "SAR part 3 of 2",
        SUBMIT_SM,
        submit_body(
            b"hello",
            tlvs=tlv(Tag.SAR_MSG_REF_NUM, b"\x00\x07")
            + tlv(Tag.SAR_TOTAL_SEGMENTS, b"\x02")
            + tlv(Tag.SAR_SEGMENT_SEQNUM, b"\x03"),
        ),
        CommandStatus.ESME_RINVOPTPARAMVAL,
    ),
    (
        "data_sm payload of odd-length UCS-2",
        DATA_SM,
        b"\x00\x01\x0112345\x00\x01\x01358401234567\x00"
        + bytes((0, 1, UCS2))  # esm_class, registered_delivery, data_coding
        + tlv(Tag.MESSAGE_PAYLOAD, b"\x00h\x00"),
        CommandStatus.ESME_RINVMSGLEN,
    ),
]


@pytest.mark.parametrize(
    ("command_id", "body", "status"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
async def test_a_strict_simulator_refuses_malformed_submits(
    command_id: int, body: bytes, status: int
) -> None:
    async with Simulator(SimulatorConfig(control_port=None)) as simulator:
        assert await answer_to(simulator.smpp_port, command_id, body) == status
        assert simulator.stats.submits_refused == 1
        assert simulator.inbox("358401234567") == []


@pytest.mark.parametrize(
    ("command_id", "body"),
    [case[1:3] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
async def test_a_lenient_simulator_accepts_them(command_id: int, body: bytes) -> None:
    async with Simulator(SimulatorConfig(control_port=None, strict=False)) as simulator:
        assert await answer_to(simulator.smpp_port, command_id, body) == CommandStatus.ESME_ROK
        assert simulator.stats.submits_refused == 0


async def test_well_formed_submits_are_accepted_by_a_strict_simulator() -> None:
    async with Simulator(SimulatorConfig(control_port=None)) as simulator:
        port = simulator.smpp_port
        for body in (
            submit_body(b"a" * 254),
            submit_body("hi".encode("utf-16-be"), data_coding=UCS2),
            submit_body(
                b"\x05\x00\x03\x07\x02\x02" + "h".encode("utf-16-be"),
                data_coding=UCS2,
                esm_class=UDHI,
            ),
            submit_body(b"flash", data_coding=0xF0),
            submit_body(b"class 1, 8-bit", data_coding=0xF5),
        ):
            assert await answer_to(port, SUBMIT_SM, body) == CommandStatus.ESME_ROK


def test_data_coding_table() -> None:
    valid = [dcs for dcs in range(256) if valid_data_coding(dcs)]
    assert valid[:14] == [*range(0x0B), 0x0D, 0x0E, 0x10]
    for refused in (0x0B, 0x0C, 0x0F, 0x1C, 0x80, 0xBF, 0xC4, 0xF8, 0xFF):
        assert refused not in valid
    for accepted in (0x00, 0x03, 0x08, 0x10, 0x18, 0x40, 0xC0, 0xD8, 0xE3, 0xF0, 0xF7):
        assert accepted in valid
