"""Kannel, an independent ESME, bound to our simulator: sendsms → handset inbox → receipt → dlr-url,
and a handset's reply → Kannel's service URL."""

from __future__ import annotations

import httpx
import pytest

from tests.interop.conftest import KannelFactory
from tests.interop.harness import HttpSink
from tests.interop.simulator_support import (
    SIMULATOR_PASSWORD,
    SIMULATOR_SYSTEM_ID,
    inbox_message,
    running_simulator,
)

simulator_module = pytest.importorskip("tidings.simulator", exc_type=ModuleNotFoundError)
if not hasattr(simulator_module, "Simulator"):  # the package exists before the simulator lands
    pytest.skip("tidings.simulator has no Simulator yet", allow_module_level=True)

pytestmark = pytest.mark.interop

HANDSET = "31600000009"
SHORTCODE = "12345"


async def test_sendsms_reaches_the_handset_and_kannel_gets_the_receipt(
    kannel_factory: KannelFactory, http_sink: HttpSink
) -> None:
    async with running_simulator() as simulator:
        kannel = kannel_factory(
            smsc_port=simulator.smpp_port,
            system_id=SIMULATOR_SYSTEM_ID,
            password=SIMULATOR_PASSWORD,
        )
        await kannel.wait_ready_async()

        answer = await kannel.sendsms_async(
            to=HANDSET, text="Hello €", sender=SHORTCODE, dlr_url=http_sink.url("/dlr")
        )
        assert answer.status == 202, answer.body

        message = await inbox_message(simulator, HANDSET)
        assert message.text == "Hello €"
        assert message.sender == SHORTCODE
        assert message.parts == 1

        dlr = await http_sink.wait_for_async("/dlr", lambda query: query["type"] == "1")
        assert "stat:DELIVRD" in dlr.query["answer"]
        # Kannel fills %p/%P from the receipt, which travels handset → shortcode.
        assert (dlr.query["from"].lstrip("+"), dlr.query["to"]) == (HANDSET, SHORTCODE)


async def test_a_long_unicode_message_is_reassembled_in_the_inbox(
    kannel_factory: KannelFactory, http_sink: HttpSink
) -> None:
    # UCS-2, more than one part: Kannel splits it with a UDH. Kannel 1.4.5 converts to UCS-2
    # through iconv's UCS-2BE, which has no surrogate pairs, so it turns an emoji into "????";
    # the text stays within the BMP to test our side, not that limit of Kannel's.
    text = "Grüße ☺ Привет " * 10
    async with running_simulator() as simulator:
        kannel = kannel_factory(
            smsc_port=simulator.smpp_port,
            system_id=SIMULATOR_SYSTEM_ID,
            password=SIMULATOR_PASSWORD,
        )
        await kannel.wait_ready_async()
        answer = await kannel.sendsms_async(
            to=HANDSET, text=text, sender=SHORTCODE, dlr_url=http_sink.url("/dlr"), coding=2
        )
        assert answer.status == 202, answer.body

        message = await inbox_message(simulator, HANDSET)
        assert message.text == text
        assert message.parts > 1


async def test_a_handset_reply_reaches_kannels_service(
    kannel_factory: KannelFactory, http_sink: HttpSink
) -> None:
    async with running_simulator() as simulator:
        kannel = kannel_factory(
            smsc_port=simulator.smpp_port,
            system_id=SIMULATOR_SYSTEM_ID,
            password=SIMULATOR_PASSWORD,
            mo_url=http_sink.url("/mo"),
        )
        await kannel.wait_ready_async()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{simulator.control_port}") as api:
            response = await api.post(
                "/inbound", json={"from": HANDSET, "to": SHORTCODE, "text": "Yes please €"}
            )
            assert response.status_code in (200, 201, 202), response.text

        mo = await http_sink.wait_for_async("/mo")
        assert mo.query["text"] == "Yes please €"
        assert mo.query["from"].lstrip("+") == HANDSET
        assert mo.query["to"] == SHORTCODE
