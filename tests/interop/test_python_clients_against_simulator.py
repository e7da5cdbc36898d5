"""Python SMPP clients that are not ours (smpplib, aiosmpplib) against our simulator: bind, submit,
receipts, and a handset's message injected through the control API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.interop.aiosmpplib_esme import aiosmpplib_esme, receipt_fields
from tests.interop.simulator_support import (
    SIMULATOR_PASSWORD,
    SIMULATOR_SYSTEM_ID,
    inbox_message,
    running_simulator,
    standalone_simulator,
)
from tests.interop.smpplib_esme import SmpplibEsme

simulator_module = pytest.importorskip("tidings.simulator", exc_type=ModuleNotFoundError)
if not hasattr(simulator_module, "Simulator"):  # the package exists before the simulator lands
    pytest.skip("tidings.simulator has no Simulator yet", allow_module_level=True)

pytestmark = pytest.mark.interop

HANDSET = "31600000009"
SHORTCODE = "12345"
HELLO_EURO_GSM = bytes.fromhex("48656c6c6f201b65")  # "Hello €", GSM 03.38 unpacked


def test_smpplib_submits_gets_receipts_and_mobile_originated(tmp_path: Path) -> None:
    with (
        standalone_simulator(tmp_path) as simulator,
        SmpplibEsme(simulator.smpp_port, SIMULATOR_SYSTEM_ID, SIMULATOR_PASSWORD) as client,
    ):
        message_id = client.submit(
            source_addr=SHORTCODE,
            destination_addr=HANDSET,
            registered_delivery=1,
            data_coding=0,
            short_message=HELLO_EURO_GSM,
        )
        [receipt] = client.wait_receipts(1)
        assert receipt.receipted_message_id == message_id or f"id:{message_id} ".encode() in (
            receipt.short_message
        )
        assert b"stat:DELIVRD" in receipt.short_message

        handset = httpx.get(f"{simulator.control_url}/handsets/{HANDSET}", timeout=30).json()
        assert [m["text"] for m in handset["messages"]] == ["Hello €"]
        assert handset["messages"][0]["from"] == SHORTCODE

        response = httpx.post(
            f"{simulator.control_url}/inbound",
            json={"from": HANDSET, "to": SHORTCODE, "text": "Hello €"},
            timeout=30,
        )
        assert response.status_code in (200, 201, 202), response.text
        mobile = client.wait_delivered(lambda delivered: not delivered.is_receipt)
        assert mobile.short_message == HELLO_EURO_GSM
        assert mobile.data_coding == 0
        assert mobile.destination_addr == SHORTCODE


def test_smpplib_with_a_wrong_password_is_refused(tmp_path: Path) -> None:
    import smpplib.exceptions

    with standalone_simulator(tmp_path) as simulator:
        client = SmpplibEsme(simulator.smpp_port, SIMULATOR_SYSTEM_ID, "wrong")
        with pytest.raises(smpplib.exceptions.PDUError):
            client.__enter__()


async def test_aiosmpplib_submits_gets_receipts_and_mobile_originated() -> None:
    async with (
        running_simulator() as simulator,
        aiosmpplib_esme(simulator.smpp_port, SIMULATOR_SYSTEM_ID, SIMULATOR_PASSWORD) as client,
    ):
        await client.submit(text="Hello €", source=SHORTCODE, destination=HANDSET, log_id="m1")
        response = await client.submit_response("m1")
        assert response.message_id
        receipt = await client.receipt(response.message_id)
        assert receipt_fields(receipt)["stat"] == "DELIVRD"

        message = await inbox_message(simulator, HANDSET)
        assert message.text == "Hello €"

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{simulator.control_port}") as api:
            posted = await api.post(
                "/inbound", json={"from": HANDSET, "to": SHORTCODE, "text": "Reply ok"}
            )
            assert posted.status_code in (200, 201, 202), posted.text
        mobile = await client.mobile_originated()
        assert mobile.short_message == "Reply ok"
