"""WhatsApp templates and Meta's review over real HTTP: templates submitted to the embedded
Cloud API's WhatsApp Business Account, its ``message_template_status_update`` webhooks kept as
their status (``core.whatsapp_templates``), and only approved templates sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tidings.core import routing, templates, whatsapp_templates
from tidings.dispatch.transports import whatsapp as whatsapp_transport
from tidings.service import DEMO_WHATSAPP_NUMBER
from tidings.store.services import WhatsAppTemplateRecord
from tidings.whatsapp.templates import Category, Template, TemplateStatus

BUSINESS = DEMO_WHATSAPP_NUMBER.display_phone_number
USER = "+358401234561"


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    async with running_service(service_settings(tmp_path, database_url)) as service:
        registered = await service.http.post("/v1/senders", json={"address": BUSINESS})
        assert registered.status_code == 201, registered.text
        yield service


async def _submitted(running: Running, name: str) -> WhatsAppTemplateRecord:
    """A template submitted for review to the route's WhatsApp Business Account and kept."""
    database = running.service.database
    route = await routing.get_route(database, "whatsapp")
    body = "Your offer: {{1}}"
    review = await whatsapp_transport.submit_template(
        route,
        Template(name=name, language="en_US", category=Category.MARKETING, body=body),
    )
    return await templates.create_template(
        database,
        running.account,
        identity=BUSINESS,
        display_name=name,
        raw_content=body,
        category="Marketing",
        language="en_US",
        submitted=review,
    )


async def _statuses(running: Running) -> dict[str, str | None]:
    listed = await whatsapp_templates.list_templates(running.service.database, running.account)
    return {t.display_name: t.status for t in listed}


def _offer(name: str) -> dict[str, object]:
    return {
        "from": BUSINESS,
        "channel": "whatsapp",
        "body": "Your offer: 20%",
        "template": {"name": name, "language": "en_US", "body": ["20%"]},
    }


async def test_meta_s_review_is_kept_and_only_an_approved_template_is_sent(
    running: Running,
) -> None:
    held = await _submitted(running, "hold_offer")
    await _submitted(running, "spring_offer")
    await _submitted(running, "reject_offer")
    assert held.status == "PENDING"

    async def reviewed() -> bool:
        return await _statuses(running) == {
            "hold_offer": "PENDING",
            "spring_offer": "APPROVED",
            "reject_offer": "REJECTED",
        }

    await eventually(reviewed, "the simulator's reviews, told by webhook")
    database = running.service.database
    approved = await whatsapp_templates.list_templates(
        database, running.account, status=TemplateStatus.APPROVED, sender=BUSINESS
    )
    assert [t.name for t in approved] == ["spring_offer"]
    [rejected] = await whatsapp_templates.list_templates(
        database, running.account, status="rejected"
    )
    assert rejected.status_reason == "INVALID_FORMAT"

    for name, status in (("hold_offer", "PENDING"), ("reject_offer", "REJECTED")):
        refused = await running.http.post("/v1/messages", json={"to": USER, **_offer(name)})
        assert refused.status_code == 422, refused.text
        assert status in refused.json()["detail"] and "approved" in refused.json()["detail"]

    message_id = await running.send_one(USER, **_offer("spring_offer"))
    assert (await running.wait_for(message_id))["status"] == "delivered"

    # Meta pauses the one and approves the other (the simulator's control API, by HTTP).
    for template, status in ((approved[0], "PAUSED"), (held, "APPROVED")):
        changed = await running.http.post(
            f"/v1/simulator/whatsapp/templates/{template.meta_id}/review",
            json={"status": status},
        )
        assert changed.status_code == 200, changed.text

    async def changed() -> bool:
        statuses = await _statuses(running)
        return (statuses["spring_offer"], statuses["hold_offer"]) == ("PAUSED", "APPROVED")

    await eventually(changed, "the pause and the approval, told by webhook")
    paused = await running.http.post("/v1/messages", json={"to": USER, **_offer("spring_offer")})
    assert paused.status_code == 422 and "PAUSED" in paused.text
    message_id = await running.send_one(USER, **_offer("hold_offer"))
    assert (await running.wait_for(message_id))["status"] == "delivered"
