"""SmartDialog over the WhatsApp channel: the New Message trigger says protocol WhatsApp for a
message from a handset's WhatsApp (through the embedded Cloud API and our webhook endpoint)."""

from __future__ import annotations

import json

from tests.dialects.smartdialog.conftest import BASE, Signed
from tests.integration.dispatch.conftest import Running, eventually
from tests.integration.events.sink import Sink
from tidings.core import routing, services
from tidings.core.services import ServiceKind
from tidings.service import DEMO_WHATSAPP_NUMBER

BUSINESS = DEMO_WHATSAPP_NUMBER.display_phone_number
HANDSET = "+358401112231"


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
