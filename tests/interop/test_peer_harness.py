"""The peers themselves, checked with clients that are not ours: smpplib → each SMSC peer, Kannel →
node-smpp. If these fail, a failure in the tests of our code against the peers says nothing."""

from __future__ import annotations

import pytest

from tests.interop.aiosmpplib_esme import aiosmpplib_esme, receipt_fields
from tests.interop.conftest import PEER_PASSWORD, PEER_SYSTEM_ID, KannelFactory
from tests.interop.harness import HttpSink, PeerProcess, event_is
from tests.interop.smpplib_esme import SmpplibEsme

pytestmark = pytest.mark.interop

# GSM 03.38 default alphabet, unpacked (one septet per octet): "@" is 0x00, "£" 0x01, "é" 0x05;
# "[", "€", "]" are in the extension table behind ESC 0x1B (0x3C, 0x65, 0x3E).
GSM_TEXT_OCTETS = bytes.fromhex("486920000105201b3c1b651b3e")  # "Hi @£é [€]"
UCS2_EMOJI_OCTETS = "Hi 😀".encode("utf-16-be")  # the emoji is a surrogate pair: d83d de00


def esme(peer: PeerProcess) -> SmpplibEsme:
    return SmpplibEsme(peer.port, PEER_SYSTEM_ID, PEER_PASSWORD)


def submit_fields(short_message: bytes, **extra: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "source_addr_ton": 5,
        "source_addr_npi": 0,
        "source_addr": "Tidings",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": "31600000009",
        "registered_delivery": 1,
        "data_coding": 0,
        "short_message": short_message,
    }
    fields.update(extra)
    return fields


def test_bind_carries_credentials(smsc_peer: PeerProcess) -> None:
    with esme(smsc_peer):
        bind = smsc_peer.wait_for(event_is("bind"))
    assert bind["command"] == "bind_transceiver"
    assert (bind["system_id"], bind["password"]) == (PEER_SYSTEM_ID, PEER_PASSWORD)
    assert bind["command_status"] == 0


def test_bind_with_wrong_password_is_refused(smsc_peer: PeerProcess) -> None:
    import smpplib.exceptions

    client = SmpplibEsme(smsc_peer.port, PEER_SYSTEM_ID, "wrong")
    with pytest.raises(smpplib.exceptions.PDUError):
        client.__enter__()
    refused = smsc_peer.wait_for(event_is("bind"))
    assert refused["command_status"] == 0x0E  # ESME_RINVPASWD, SMPP 3.4 §5.1.3


def test_gsm_text_octets_reach_the_peer_and_a_receipt_comes_back(smsc_peer: PeerProcess) -> None:
    with esme(smsc_peer) as client:
        message_id = client.submit(**submit_fields(GSM_TEXT_OCTETS))
        [receipt] = client.wait_receipts(1)

    submit = smsc_peer.wait_for(event_is("submit_sm"))
    assert bytes.fromhex(submit["short_message"]) == GSM_TEXT_OCTETS
    assert submit["data_coding"] == 0
    assert (submit["source_addr_ton"], submit["source_addr"]) == (5, "Tidings")
    assert (submit["dest_addr_ton"], submit["dest_addr_npi"]) == (1, 1)
    assert submit["destination_addr"] == "31600000009"
    assert submit["registered_delivery"] == 1
    assert submit["message_id"] == message_id

    assert receipt.receipted_message_id == message_id
    assert receipt.message_state == 2
    text = receipt.short_message.decode("ascii")
    assert text.startswith(f"id:{message_id} sub:001 dlvrd:001 submit date:")
    assert " stat:DELIVRD err:000 text:Hi " in text
    assert (receipt.source_addr, receipt.destination_addr) == ("31600000009", "Tidings")
    smsc_peer.wait_for(event_is("deliver_sm_resp", receipt_for=message_id, command_status=0))


def test_ucs2_text_with_an_emoji_arrives_as_sent(smsc_peer: PeerProcess) -> None:
    with esme(smsc_peer) as client:
        message_id = client.submit(**submit_fields(UCS2_EMOJI_OCTETS, data_coding=8))
        [receipt] = client.wait_receipts(1)

    submit = smsc_peer.wait_for(event_is("submit_sm"))
    assert bytes.fromhex(submit["short_message"]) == bytes.fromhex("004800690020d83dde00")
    assert submit["data_coding"] == 8
    assert receipt.receipted_message_id == message_id


def test_three_part_udh_message_keeps_its_headers(smsc_peer: PeerProcess) -> None:
    reference = 0x5A
    bodies = [bytes([ord("a") + n]) * 153 for n in range(3)]
    with esme(smsc_peer) as client:
        message_ids = [
            client.submit(
                **submit_fields(
                    # 3GPP TS 23.040 §9.2.3.24.1: IEI 00, 8-bit reference, total, sequence number.
                    bytes([0x05, 0x00, 0x03, reference, 3, n + 1]) + body,
                    esm_class=0x40,  # SMPP 3.4 §5.2.12: UDH indicator
                )
            )
            for n, body in enumerate(bodies)
        ]
        receipts = client.wait_receipts(3)

    submits = smsc_peer.events("submit_sm")
    assert len(submits) == 3
    for n, (submit, body) in enumerate(zip(submits, bodies, strict=True)):
        octets = bytes.fromhex(submit["short_message"])
        assert octets[:6] == bytes([0x05, 0x00, 0x03, reference, 3, n + 1])
        assert octets[6:] == body
        assert submit["esm_class"] & 0x40
    assert len(set(message_ids)) == 3
    assert sorted(r.receipted_message_id or "" for r in receipts) == sorted(message_ids)


def test_sar_tlvs_and_message_payload_are_reported(smsc_peer: PeerProcess) -> None:
    payload = b"x" * 300  # longer than short_message can carry (SMPP 3.4 §5.3.2.32)
    with esme(smsc_peer) as client:
        client.submit(
            **submit_fields(
                b"",
                registered_delivery=0,
                sar_msg_ref_num=0x1234,
                sar_total_segments=2,
                sar_segment_seqnum=1,
                message_payload=payload,
            )
        )
    tlvs = smsc_peer.wait_for(event_is("submit_sm"))["tlvs"]
    assert tlvs["sar_msg_ref_num"] == 0x1234
    assert (tlvs["sar_total_segments"], tlvs["sar_segment_seqnum"]) == (2, 1)
    assert bytes.fromhex(tlvs["message_payload"]) == payload


def test_node_peer_injects_a_mobile_originated_message(node_smsc: PeerProcess) -> None:
    with esme(node_smsc) as client:
        node_smsc.send_command(
            {
                "command": "deliver",
                "source_addr": "31600000001",
                "destination_addr": "12345",
                "short_message": GSM_TEXT_OCTETS.hex(),
            }
        )
        mobile = client.wait_delivered(lambda d: not d.is_receipt)
    assert mobile.short_message == GSM_TEXT_OCTETS
    assert (mobile.source_addr, mobile.destination_addr) == ("31600000001", "12345")
    node_smsc.wait_for(event_is("deliver_sm_resp", command_status=0))


def test_kannel_sends_gsm_unpacked_and_reports_the_receipt(
    node_smsc: PeerProcess, kannel_factory: KannelFactory, http_sink: HttpSink
) -> None:
    kannel = kannel_factory(
        smsc_port=node_smsc.port, system_id=PEER_SYSTEM_ID, password=PEER_PASSWORD
    )
    kannel.wait_ready()

    answer = kannel.sendsms(to="31600000009", text="Hello €", dlr_url=http_sink.url("/dlr"))
    assert answer.status == 202, answer.body

    submit = node_smsc.wait_for(event_is("submit_sm"))
    assert bytes.fromhex(submit["short_message"]) == bytes.fromhex("48656c6c6f201b65")
    assert submit["data_coding"] == 0
    assert (submit["source_addr"], submit["destination_addr"]) == ("12345", "31600000009")
    assert submit["registered_delivery"] == 1

    dlr = http_sink.wait_for("/dlr", lambda query: query["type"] == "1")
    assert "stat:DELIVRD" in dlr.query["answer"]
    assert f"id:{submit['message_id']} " in dlr.query["answer"]
    # msg-id-type 0x03: Kannel read the hex id and reports it in decimal.
    assert dlr.query["smsc_id"] == str(int(submit["message_id"], 16))


def test_kannel_passes_a_mobile_originated_message_to_its_service(
    node_smsc: PeerProcess, kannel_factory: KannelFactory, http_sink: HttpSink
) -> None:
    kannel = kannel_factory(
        smsc_port=node_smsc.port,
        system_id=PEER_SYSTEM_ID,
        password=PEER_PASSWORD,
        mo_url=http_sink.url("/mo"),
    )
    kannel.wait_ready()
    node_smsc.send_command(
        {
            "command": "deliver",
            "source_addr": "31600000001",
            "destination_addr": "12345",
            "short_message": bytes.fromhex("48656c6c6f201b65").hex(),
        }
    )
    mo = http_sink.wait_for("/mo")
    assert mo.query["text"] == "Hello €"
    assert (mo.query["from"], mo.query["to"]) == ("31600000001", "12345")


async def test_aiosmpplib_submits_and_gets_the_receipt(node_smsc: PeerProcess) -> None:
    async with aiosmpplib_esme(node_smsc.port, PEER_SYSTEM_ID, PEER_PASSWORD) as client:
        await client.submit(text="Hello €", source="12345", destination="31600000009", log_id="m1")
        response = await client.submit_response("m1")
        submit = await node_smsc.wait_for_async(event_is("submit_sm"))
        assert response.message_id == submit["message_id"]
        receipt = await client.receipt(response.message_id)
        assert receipt_fields(receipt)["stat"] == "DELIVRD"
    assert bytes.fromhex(submit["short_message"]) == bytes.fromhex("48656c6c6f201b65")
