"""Our asyncio ESME client against independent SMSCs (node-smpp, Perl Net::SMPP) over real TCP.

The peers print the octets they received, so these tests check our encoding on the wire, not our
own decoder's opinion of it; the receipts they send back are parsed by our receipt parser.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.interop.conftest import PEER_PASSWORD, PEER_SYSTEM_ID
from tests.interop.harness import PeerProcess, event_is

esme_module = pytest.importorskip("tidings.net.esme", exc_type=ModuleNotFoundError)

from tidings.smpp.concat import ConcatMethod, outgoing_parts  # noqa: E402
from tidings.smpp.constants import EsmClass, Tag  # noqa: E402
from tidings.smpp.pdu import DeliverSm, SubmitSm  # noqa: E402
from tidings.smpp.receipts import ReceiptState, parse_receipt  # noqa: E402
from tidings.text import plan_text  # noqa: E402

pytestmark = pytest.mark.interop

RECIPIENT = "31600000009"
SENDER = "12345"

# GSM 03.38 unpacked: letters, digits, space and ":" as in ASCII; "€ [ ] { } ^ ~ \\ |" from the
# extension table behind ESC 0x1B; "@" is 0x00 and "£" 0x01 in the basic table.
GSM_EXTENSION_TEXT = "Price: 5€ [ok] {x} ^~\\| @£"
GSM_EXTENSION_OCTETS = bytes.fromhex(
    "50726963653a2035"  # "Price: 5"
    "1b65"  # €
    "20"
    "1b3c"
    "6f6b"
    "1b3e"  # " [ok]"
    "20"
    "1b28"
    "78"
    "1b29"  # " {x}"
    "20"
    "1b14"
    "1b3d"
    "1b2f"
    "1b40"  # " ^~\|"
    "20"
    "0001"  # " @£"
)
EMOJI_TEXT = "Hi 😀"
EMOJI_OCTETS = bytes.fromhex("004800690020d83dde00")  # UCS-2 / UTF-16BE, surrogate pair


class DeliveredLog:
    """Collects what our client hands to its on_deliver callback."""

    def __init__(self) -> None:
        self.delivered: list[DeliverSm] = []

    async def on_deliver(self, pdu: DeliverSm) -> None:
        self.delivered.append(pdu)

    async def receipt_for(self, message_id: str, within: float = 30.0) -> DeliverSm:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for pdu in self.delivered:
                if (
                    pdu.esm_class & EsmClass.MESSAGE_TYPE_MASK == EsmClass.DELIVERY_RECEIPT
                    and pdu.get_str_tlv(Tag.RECEIPTED_MESSAGE_ID) == message_id
                ):
                    return pdu
            await asyncio.sleep(0.02)
        raise AssertionError(f"no receipt for {message_id} within {within}s: {self.delivered}")


def submit_sm_for(text: str, reference: int = 7) -> list[SubmitSm]:
    plan = plan_text(text)
    return [
        SubmitSm(
            source_addr=SENDER,
            destination_addr=RECIPIENT,
            esm_class=EsmClass.UDHI if part.udhi else 0,
            registered_delivery=1,
            data_coding=part.data_coding,
            short_message=part.short_message,
        )
        for part in outgoing_parts(plan, ConcatMethod.UDH8, reference)
    ]


async def send_and_collect_receipts(
    peer: PeerProcess, pdus: list[SubmitSm]
) -> tuple[list[str], list[DeliverSm]]:
    log = DeliveredLog()
    config = esme_module.EsmeConfig(
        host="127.0.0.1",
        port=peer.port,
        system_id=PEER_SYSTEM_ID,
        password=PEER_PASSWORD,
        bind_mode="trx",
        binds=1,
        window=10,
    )
    client = esme_module.EsmeClient(config, on_deliver=log.on_deliver)
    await client.start()
    try:
        message_ids = []
        for pdu in pdus:
            response = await client.submit(pdu)
            assert response.command_status == 0
            message_ids.append(response.message_id)
        receipts = [await log.receipt_for(message_id) for message_id in message_ids]
    finally:
        await client.stop()
    return message_ids, receipts


def assert_delivered_receipts(message_ids: list[str], receipts: list[DeliverSm]) -> None:
    for message_id, pdu in zip(message_ids, receipts, strict=True):
        receipt = parse_receipt(
            pdu.short_message,
            receipted_message_id=pdu.get_str_tlv(Tag.RECEIPTED_MESSAGE_ID),
            message_state=pdu.get_int_tlv(Tag.MESSAGE_STATE),
        )
        assert receipt.message_id == message_id
        assert receipt.state is ReceiptState.DELIVRD
        assert receipt.error_code == 0


async def test_gsm_text_with_extension_characters(smsc_peer: PeerProcess) -> None:
    message_ids, receipts = await send_and_collect_receipts(
        smsc_peer, submit_sm_for(GSM_EXTENSION_TEXT)
    )
    bind = await smsc_peer.wait_for_async(event_is("bind"))
    assert (bind["system_id"], bind["password"]) == (PEER_SYSTEM_ID, PEER_PASSWORD)
    submit = await smsc_peer.wait_for_async(event_is("submit_sm"))
    assert bytes.fromhex(submit["short_message"]) == GSM_EXTENSION_OCTETS
    assert submit["data_coding"] == 0
    assert submit["esm_class"] & EsmClass.UDHI == 0
    assert (submit["source_addr"], submit["destination_addr"]) == (SENDER, RECIPIENT)
    assert submit["message_id"] == message_ids[0]
    assert_delivered_receipts(message_ids, receipts)


async def test_ucs2_text_with_an_emoji(smsc_peer: PeerProcess) -> None:
    message_ids, receipts = await send_and_collect_receipts(smsc_peer, submit_sm_for(EMOJI_TEXT))
    submit = await smsc_peer.wait_for_async(event_is("submit_sm"))
    assert bytes.fromhex(submit["short_message"]) == EMOJI_OCTETS
    assert submit["data_coding"] == 8
    assert_delivered_receipts(message_ids, receipts)


async def test_three_part_message_with_8_bit_reference(smsc_peer: PeerProcess) -> None:
    # 153 septets per part once a 6-octet UDH is present (3GPP TS 23.040 §9.2.3.24.1).
    text = "".join(chr(ord("a") + n % 26) for n in range(400))
    pdus = submit_sm_for(text, reference=0x42)
    assert len(pdus) == 3
    message_ids, receipts = await send_and_collect_receipts(smsc_peer, pdus)

    submits = smsc_peer.events("submit_sm")
    assert len(submits) == 3
    bodies = []
    for number, submit in enumerate(submits, start=1):
        octets = bytes.fromhex(submit["short_message"])
        assert octets[:6] == bytes([0x05, 0x00, 0x03, 0x42, 3, number])
        assert submit["esm_class"] & EsmClass.UDHI
        assert submit["data_coding"] == 0
        bodies.append(octets[6:])
    assert [len(body) for body in bodies] == [153, 153, 94]
    assert b"".join(bodies) == text.encode("ascii")
    assert_delivered_receipts(message_ids, receipts)
