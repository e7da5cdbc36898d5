"""SmartDialog over the WhatsApp channel: the New Message trigger says protocol WhatsApp for a
message from a handset's WhatsApp (through the embedded Cloud API and our webhook endpoint); a
template created is submitted for review and listed with Meta's status; Send WhatsApp Message
sends it over WhatsApp, and as SMS only where WhatsApp cannot reach the number."""

from __future__ import annotations

import json
from typing import Any

from tests.dialects.smartdialog.conftest import BASE, Signed
from tests.dialects.smartdialog.test_bad_input import send_headers
from tests.integration.dispatch.conftest import Running, eventually
from tests.integration.events.sink import Sink
from tidings.core import routing, services
from tidings.core.services import ServiceKind
from tidings.service import DEMO_WHATSAPP_NUMBER

BUSINESS = DEMO_WHATSAPP_NUMBER.display_phone_number
HANDSET = "+358401112231"
NO_WHATSAPP = "+358401112238"  # the simulator's rule: a number ending in 8 has no WhatsApp


async def test_the_new_message_trigger_says_whatsapp(running: Running, signed: Signed) -> None:
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS)
    chat = await services.create_service(
        database, signed.account, "WhatsApp chat", ServiceKind.TWO_WAY, senders=[BUSINESS]
    )
    sink = Sink()
    await sink.start()
    try:
        subscribe = await signed.http.post(
            f"{BASE}/service/{chat.id}/pipelines/actions",
            headers={**signed.auth, "Customer": signed.account.id},
            json={
                "name": "PowerAutomate (Auto Created Webhook)",
                "actionType": "HttpRequest",
                "description": "PowerAutomate auto-created webhook.",
                "options": {"endpointUrl": f"{sink.url}/flow", "httpVerb": "POST"},
            },
        )
        assert subscribe.status_code == 201, subscribe.text
        cloud = running.service.cloud_api
        assert cloud is not None
        cloud.inject(HANDSET, BUSINESS, text="Hei WhatsAppista")

        async def called() -> bool:
            return bool(sink.received)

        await eventually(called, "the New Message callback")
        event = json.loads(sink.received[0].body)
        assert (event["protocol"], event["sender"], event["recipient"], event["content"]) == (
            "WhatsApp",
            HANDSET,
            BUSINESS,
            "Hei WhatsAppista",
        )
    finally:
        await sink.stop()


async def test_a_template_is_reviewed_then_sent_over_whatsapp_or_as_sms_instead(
    running: Running, signed: Signed
) -> None:
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS, route_name="whatsapp")
    created = await signed.http.post(
        f"{BASE}/whatsapp/templates/{signed.account.id}/{BUSINESS}",
        headers=signed.auth,
        json={
            "DisplayName": "Order ready",
            "RawContent": "Order {{1}} is ready",
            "Category": "Utility",
            "Language": "en_US",
            "Buttons": [{"Type": "QuickReply", "Label": "On my way"}],
        },
    )
    assert created.status_code == 204, created.text
    listed: list[dict[str, Any]] = []

    async def approved() -> bool:
        nonlocal listed
        answer = await signed.http.get(
            f"{BASE}/whatsapp/templates/{signed.account.id}", headers=signed.auth
        )
        listed = answer.json()
        return [t["extensionParameters"].get("status") for t in listed] == ["APPROVED"]

    await eventually(approved, "Meta's review to approve the template")
    [template] = listed
    sent = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": template["id"],
            "Recipients": [{"Address": HANDSET}, {"Address": NO_WHATSAPP}],
            "BodyParameters": ["A-17"],
            "Buttons": [{"Type": "QuickReply", "Label": "On my way", "Data": "coming-A-17"}],
            "UseSmsFallback": True,
        },
    )
    assert sent.status_code == 200, sent.text
    cloud = running.service.cloud_api
    simulator = running.service.simulator
    assert cloud is not None and simulator is not None

    async def arrived() -> bool:
        return bool(cloud.inbox(HANDSET)) and bool(simulator.inbox(NO_WHATSAPP))

    await eventually(arrived, "the WhatsApp message and the SMS instead")
    [bubble] = cloud.inbox(HANDSET)
    assert (bubble.template, bubble.body) == ("order_ready", "Order A-17 is ready")
    assert [label for _, label, _ in bubble.buttons] == ["On my way"]
    assert simulator.inbox(HANDSET) == []  # no SMS where WhatsApp delivered
    assert [m.text for m in simulator.inbox(NO_WHATSAPP)] == ["Order A-17 is ready"]
