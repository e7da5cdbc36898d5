"""The simulator over real TCP on 127.0.0.1: binds, submits, receipts, inboxes, chaos, inbound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tidings.net.connection import BindFailed, ConnectionLost
from tidings.simulator import (
    ChaosConfig,
    NoReceiverBound,
    OutcomeRule,
    Simulator,
    SimulatorConfig,
)
from tidings.smpp.concat import (
    ConcatMethod,
    IncomingFragment,
    OutgoingPart,
    Reassembler,
    outgoing_parts,
)
from tidings.smpp.constants import CommandStatus, EsmClass, Tag
from tidings.smpp.pdu import BindReceiver, BindTransmitter, DataSm, DeliverSm, SubmitSm
from tidings.smpp.receipts import ReceiptState, parse_receipt
from tidings.text import ReferenceSize, decode, plan_text

from .probe import ProbeEsme

SHORTCODE = "12345"


def quick(**overrides: object) -> SimulatorConfig:
    settings: dict[str, object] = {
        "control_port": None,
        "system_id": "probe",
        "password": "secret",
        "receipt_delay_s": 0.01,
        "seed": 1,
    }
    settings.update(overrides)
    return SimulatorConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(quick()) as running:
        yield running


@pytest.fixture
async def esme(simulator: Simulator) -> AsyncIterator[ProbeEsme]:
    probe = await ProbeEsme.bind(simulator.smpp_port)
    yield probe
    await probe.close()


def receipt_of(pdu: DeliverSm) -> tuple[str, ReceiptState, int | None]:
    assert pdu.esm_class & EsmClass.MESSAGE_TYPE_MASK == EsmClass.DELIVERY_RECEIPT
    receipt = parse_receipt(pdu.short_message)
    # The typed TLVs must agree with the Appendix B text.
    assert pdu.get_str_tlv(Tag.RECEIPTED_MESSAGE_ID) == receipt.message_id
    text_only = parse_receipt(pdu.short_message.decode())
    assert text_only.state is receipt.state
    return receipt.message_id, receipt.state, receipt.error_code


# --- binds ---------------------------------------------------------------------------------------


async def test_good_credentials_bind(simulator: Simulator) -> None:
    probe = await ProbeEsme.bind(simulator.smpp_port, "probe", "secret")
    await probe.close()
    assert simulator.stats.binds == 1


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [
        ("probe", "wrong", CommandStatus.ESME_RINVPASWD),
        ("someone", "secret", CommandStatus.ESME_RINVSYSID),
    ],
)
async def test_bad_credentials_are_refused(
    simulator: Simulator, system_id: str, password: str, status: int
) -> None:
    with pytest.raises(BindFailed) as refused:
        await ProbeEsme.bind(simulator.smpp_port, system_id, password)
    assert refused.value.command_status == status
    assert simulator.stats.bind_refusals == 1


async def test_without_configured_credentials_anyone_binds() -> None:
    async with Simulator(quick(system_id=None, password=None)) as open_simulator:
        probe = await ProbeEsme.bind(open_simulator.smpp_port, "anyone", "anything")
        await probe.close()


# --- submits and receipts ------------------------------------------------------------------------


async def test_submit_is_acked_and_its_receipt_says_delivered(esme: ProbeEsme) -> None:
    answer = await esme.submit(
        source_addr=SHORTCODE,
        destination_addr="31600000001",
        registered_delivery=1,
        short_message=b"Hello",
    )
    assert answer.command_status == CommandStatus.ESME_ROK
    message_id = answer.message_id  # type: ignore[attr-defined]
    assert message_id

    receipt = await esme.next_delivered()
    assert receipt_of(receipt) == (message_id, ReceiptState.DELIVRD, 0)
    # The receipt travels from the handset back to the sender.
    assert (receipt.source_addr, receipt.destination_addr) == ("31600000001", SHORTCODE)
    assert receipt.get_int_tlv(Tag.MESSAGE_STATE) == 2  # SMPP 3.4 §5.2.28 DELIVERED
    assert Tag.NETWORK_ERROR_CODE not in receipt.tlvs


async def test_a_number_ending_in_zero_is_undeliverable(esme: ProbeEsme) -> None:
    answer = await esme.submit(
        source_addr=SHORTCODE,
        destination_addr="31600000010",
        registered_delivery=1,
        short_message=b"Hello",
    )
    receipt = await esme.next_delivered()
    assert receipt_of(receipt) == (answer.message_id, ReceiptState.UNDELIV, 1)  # type: ignore[attr-defined]
    assert receipt.get_int_tlv(Tag.MESSAGE_STATE) == 5  # UNDELIVERABLE
    assert receipt.tlvs[Tag.NETWORK_ERROR_CODE] == bytes((3, 0, 1))


async def test_rules_choose_the_outcome_by_prefix() -> None:
    rules = (
        OutcomeRule(state=ReceiptState.EXPIRED, err=27, prefix="44"),
        OutcomeRule(state=ReceiptState.REJECTD, err=11, suffix="9"),
    )
    async with Simulator(quick(rules=rules)) as simulator:
        probe = await ProbeEsme.bind(simulator.smpp_port)
        outcomes = {}
        for number in ("447700900123", "31600000009", "31600000010"):
            answer = await probe.submit(destination_addr=number, registered_delivery=1)
            receipt = await probe.next_delivered()
            message_id, state, err = receipt_of(receipt)
            assert message_id == answer.message_id  # type: ignore[attr-defined]
            outcomes[number] = (state, err)
        await probe.close()
    assert outcomes == {
        "447700900123": (ReceiptState.EXPIRED, 27),
        "31600000009": (ReceiptState.REJECTD, 11),
        # Custom rules replace the defaults: a trailing 0 is no longer special.
        "31600000010": (ReceiptState.DELIVRD, 0),
    }


async def test_receipt_on_failure_only_skips_delivered_messages(esme: ProbeEsme) -> None:
    await esme.submit(destination_addr="31600000001", registered_delivery=2)
    failed = await esme.submit(destination_addr="31600000020", registered_delivery=2)
    receipt = await esme.next_delivered()
    assert receipt_of(receipt)[:2] == (failed.message_id, ReceiptState.UNDELIV)  # type: ignore[attr-defined]


async def test_data_sm_is_acked_and_reaches_the_handset(
    simulator: Simulator, esme: ProbeEsme
) -> None:
    pdu = DataSm(source_addr=SHORTCODE, destination_addr="31600000002", registered_delivery=1)
    pdu.set_tlv(Tag.MESSAGE_PAYLOAD, b"data sm text")
    answer = await esme.request(pdu)
    assert answer.command_status == CommandStatus.ESME_ROK
    receipt = await esme.next_delivered()
    assert receipt_of(receipt)[0] == answer.message_id  # type: ignore[attr-defined]
    assert [m.text for m in simulator.inbox("31600000002")] == ["data sm text"]


async def test_receipts_go_to_the_receiver_of_a_transmitter_receiver_pair(
    simulator: Simulator,
) -> None:
    transmitter = await ProbeEsme.bind(simulator.smpp_port, mode=BindTransmitter)
    receiver = await ProbeEsme.bind(simulator.smpp_port, mode=BindReceiver)
    answer = await transmitter.submit(destination_addr="31600000003", registered_delivery=1)
    receipt = await receiver.next_delivered()
    assert receipt_of(receipt)[0] == answer.message_id  # type: ignore[attr-defined]
    assert transmitter.delivered.empty()
    await transmitter.close()
    await receiver.close()


async def test_receipts_wait_for_a_receiver_to_bind(simulator: Simulator) -> None:
    transmitter = await ProbeEsme.bind(simulator.smpp_port, mode=BindTransmitter)
    ids = []
    for number in ("31600000004", "31600000005", "31600000006"):
        answer = await transmitter.submit(destination_addr=number, registered_delivery=1)
        ids.append(answer.message_id)  # type: ignore[attr-defined]
    with pytest.raises(NoReceiverBound):
        await simulator.inject_inbound("31600000004", SHORTCODE, "hi", timeout=30)

    receiver = await ProbeEsme.bind(simulator.smpp_port, mode=BindReceiver)
    received = [receipt_of(await receiver.next_delivered())[0] for _ in ids]
    assert sorted(received) == sorted(ids)
    await transmitter.close()
    await receiver.close()


async def test_a_receipt_the_esme_does_not_take_is_kept_for_the_next_bind(
    simulator: Simulator,
) -> None:
    refusing = await ProbeEsme.bind(
        simulator.smpp_port, deliver_status=CommandStatus.ESME_RX_T_APPN
    )
    answer = await refusing.submit(destination_addr="31600000007", registered_delivery=1)
    await refusing.next_delivered()  # refused once; the simulator tries again
    await refusing.next_delivered()
    await refusing.close()
    taking = await ProbeEsme.bind(simulator.smpp_port)
    receipt = await taking.next_delivered()
    assert receipt_of(receipt)[0] == answer.message_id  # type: ignore[attr-defined]
    await taking.close()
    assert simulator.stats.receipts_sent == 1


# --- handset inboxes -----------------------------------------------------------------------------

GSM_LONG = "Price list {€5} [offer] ~ ^caret| back\\slash " * 8  # extension characters
UCS2_LONG = "Grüße aus Köln 😀🎉 ¿qué tal? " * 9  # emoji: surrogate pairs


def part_pdu(part: OutgoingPart, destination: str) -> SubmitSm:
    pdu = SubmitSm(
        source_addr=SHORTCODE,
        destination_addr=destination,
        esm_class=EsmClass.UDHI if part.udhi else EsmClass.DEFAULT,
        data_coding=part.data_coding,
        short_message=part.short_message,
    )
    if part.sar is not None:
        pdu.set_tlv(Tag.SAR_MSG_REF_NUM, part.sar[0])
        pdu.set_tlv(Tag.SAR_TOTAL_SEGMENTS, part.sar[1])
        pdu.set_tlv(Tag.SAR_SEGMENT_SEQNUM, part.sar[2])
    if part.message_payload is not None:
        pdu.set_tlv(Tag.MESSAGE_PAYLOAD, part.message_payload)
    return pdu


@pytest.mark.parametrize("method", list(ConcatMethod))
@pytest.mark.parametrize("text", [GSM_LONG, UCS2_LONG], ids=["gsm", "ucs2"])
async def test_long_messages_are_reassembled_in_the_inbox(
    simulator: Simulator, esme: ProbeEsme, method: ConcatMethod, text: str
) -> None:
    reference_size = (
        ReferenceSize.SIXTEEN_BIT if method is ConcatMethod.UDH16 else ReferenceSize.EIGHT_BIT
    )
    plan = plan_text(text, reference_size=reference_size)
    assert plan.parts > 1
    parts = outgoing_parts(plan, method, reference=513)
    ids = []
    # Sent in reverse: a handset reassembles parts in whatever order they arrive.
    for part in reversed(parts):
        answer = await esme.request(part_pdu(part, "+31600000008"))
        assert answer.command_status == CommandStatus.ESME_ROK
        ids.append(answer.message_id)  # type: ignore[attr-defined]

    [message] = simulator.inbox("31600000008")
    assert message.text == text
    assert message.sender == SHORTCODE
    assert message.parts == (1 if method is ConcatMethod.PAYLOAD else plan.parts)
    assert message.data_coding == plan.data_coding
    assert sorted(message.message_ids) == sorted(ids)
    assert simulator.inbox("+31600000008") == [message]


async def test_a_single_part_message_with_extension_characters_is_exact(
    simulator: Simulator, esme: ProbeEsme
) -> None:
    for text in ("Hello €", "Emoji 😀 and ß"):
        [part] = outgoing_parts(plan_text(text), ConcatMethod.UDH8, reference=1)
        await esme.request(part_pdu(part, "31600000011"))
    assert [m.text for m in simulator.inbox("31600000011")] == ["Hello €", "Emoji 😀 and ß"]
    assert simulator.clear_inbox("31600000011") == 2
    assert simulator.inbox("31600000011") == []


# --- chaos ---------------------------------------------------------------------------------------


async def test_chaos_throttles_about_the_configured_fraction_of_submits() -> None:
    chaos = ChaosConfig(reject_fraction=0.3)
    async with Simulator(quick(chaos=chaos, seed=20240601)) as simulator:
        probe = await ProbeEsme.bind(simulator.smpp_port)
        answers = await asyncio.gather(
            *(probe.submit(destination_addr="31600000012") for _ in range(1000))
        )
        await probe.close()
    throttled = sum(a.command_status == CommandStatus.ESME_RTHROTTLED for a in answers)
    accepted = sum(a.command_status == CommandStatus.ESME_ROK for a in answers)
    assert throttled + accepted == 1000
    # Binomial(1000, 0.3): the standard deviation is about 14.5, so this is over 4 sigma wide.
    assert 240 <= throttled <= 360
    assert simulator.stats.submits_rejected == throttled
    assert len(simulator.inbox("31600000012")) == min(accepted, 100)  # the inbox keeps 100


async def test_chaos_answers_with_another_status_when_asked() -> None:
    chaos = ChaosConfig(reject_fraction=1.0, reject_status=CommandStatus.ESME_RMSGQFUL)
    async with Simulator(quick(chaos=chaos)) as simulator:
        probe = await ProbeEsme.bind(simulator.smpp_port)
        answer = await probe.submit(destination_addr="31600000013")
        await probe.close()
    assert answer.command_status == CommandStatus.ESME_RMSGQFUL
    assert simulator.inbox("31600000013") == []


async def test_chaos_drops_the_connection() -> None:
    async with Simulator(quick(chaos=ChaosConfig(drop_probability=1.0))) as simulator:
        probe = await ProbeEsme.bind(simulator.smpp_port)
        with pytest.raises(ConnectionLost):
            await probe.submit(destination_addr="31600000014")
        assert probe.protocol is not None
        await asyncio.wait_for(probe.protocol.closed, 30)
        assert simulator.stats.connections_dropped == 1
        # The simulator keeps serving new binds.
        again = await ProbeEsme.bind(simulator.smpp_port)
        await again.close()


async def test_chaos_delays_responses() -> None:
    async with Simulator(quick(chaos=ChaosConfig(response_delay_s=0.05))) as simulator:
        probe = await ProbeEsme.bind(simulator.smpp_port)
        answer = await probe.submit(destination_addr="31600000015")
        await probe.close()
    assert answer.command_status == CommandStatus.ESME_ROK
    assert len(simulator.inbox("31600000015")) == 1


# --- inbound -------------------------------------------------------------------------------------


async def test_a_long_ucs2_inbound_message_reaches_the_esme_whole(
    simulator: Simulator, esme: ProbeEsme
) -> None:
    text = "Antwort: ja, gerne! 😀 " * 12
    parts = await simulator.inject_inbound("31600000016", SHORTCODE, text, timeout=30)
    assert parts > 1
    reassembler = Reassembler(timeout_s=60)
    complete = None
    for _ in range(parts):
        pdu = await esme.next_delivered()
        assert (pdu.source_addr, pdu.destination_addr) == ("31600000016", SHORTCODE)
        assert pdu.esm_class & EsmClass.MESSAGE_TYPE_MASK == 0  # not a receipt
        complete = reassembler.add(
            IncomingFragment(
                source=pdu.source_addr,
                destination=pdu.destination_addr,
                data_coding=pdu.data_coding,
                short_message=pdu.short_message,
                udhi=bool(pdu.esm_class & EsmClass.UDHI),
            ),
            now=0.0,
        )
    assert complete is not None
    assert complete.data_coding == 8
    assert decode(complete.payload, complete.data_coding) == text
    assert simulator.stats.inbound_sent == 1


async def test_inbound_without_a_receiver_is_an_error(simulator: Simulator) -> None:
    with pytest.raises(NoReceiverBound):
        await simulator.inject_inbound("31600000017", SHORTCODE, "hello", timeout=30)
