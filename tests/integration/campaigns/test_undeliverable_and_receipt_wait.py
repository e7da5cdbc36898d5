"""Campaigns refuse undeliverable contacts (reason 4) like single sends, and complete once
their sent messages have waited for a receipt longer than the receipt wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.campaigns.conftest import (
    Running,
    campaign_settings,
    eventually,
    make_list,
    ok,
    running_service,
)
from tests.integration.events.sink import Sink
from tidings.core import routing

DELIVERABLE = ["+358403000001", "+358403000002"]
UNDELIVERABLE = "+358403000010"  # the simulator's default rule: a number ending in 0
# Long enough that the test sees the campaign still waiting after its messages were sent, even
# when reading that takes seconds on a loaded machine.
RECEIPT_WAIT = 10.0


async def wait_for_status(running: Running, campaign_id: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        nonlocal found
        found = await ok(await running.http.get(f"/v1/campaigns/{campaign_id}"))
        return found["status"] == status

    await eventually(reached, f"campaign {campaign_id} to be {status}")
    return found


async def test_a_campaign_refuses_an_undeliverable_contact_under_its_reason(
    running: Running, sink: Sink
) -> None:
    http = running.http
    events = ["message.invalid_targets", "campaign.completed"]
    await ok(await http.post("/v1/webhooks", json={"url": sink.url, "events": events}), 201)
    audience, _ = await make_list(
        http, "All", [{"phone": p} for p in [*DELIVERABLE, UNDELIVERABLE]]
    )
    for _ in range(3):
        message_id = await running.send_one(UNDELIVERABLE, body="Hei")
        assert (await running.wait_for(message_id))["status"] == "undelivered"

    created = await ok(
        await http.post(
            "/v1/campaigns",
            json={"name": "Spring", "from": "Tidings", "body": "Kevät", "lists": [audience]},
        ),
        201,
    )
    done = await wait_for_status(running, created["id"], "completed")
    assert done["counts"]["invalid"] == {"undeliverable": 1}
    assert (done["counts"]["delivered"], done["counts"]["failed"]) == (2, 0)

    async def invalid_arrived() -> bool:
        return any(json.loads(r.body)["type"] == "message.invalid_targets" for r in sink.received)

    await eventually(invalid_arrived, "the campaign's message.invalid_targets webhook")
    [invalid] = [
        json.loads(r.body)
        for r in sink.received
        if json.loads(r.body)["type"] == "message.invalid_targets"
    ]
    assert invalid["data"]["campaign_id"] == created["id"]
    assert [(t["to"], t["reason"]) for t in invalid["data"]["targets"]] == [(UNDELIVERABLE, 4)]


@pytest.fixture
async def without_receipts(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    """A service with a short receipt wait whose route asks the SMSC for no receipts."""
    settings = campaign_settings(tmp_path, database_url, campaign_receipt_wait_seconds=RECEIPT_WAIT)
    async with running_service(settings) as started:
        await routing.update_route(
            started.service.database,
            started.service.transports,
            routing.SIMULATOR_ROUTE,
            settings={"request_receipts": False},
        )

        # The dispatcher rebinds a changed route when it reloads routes (every few seconds):
        # from then on a message stays sent.
        async def no_more_receipts() -> bool:
            message_id = await started.send_one(DELIVERABLE[0], body="probe")
            await started.wait_for(message_id, {"sent", "delivered"})
            await asyncio.sleep(0.5)
            return (await started.message(message_id))["status"] == "sent"

        await eventually(no_more_receipts, "the route to be rebound without receipts", timeout=60)
        yield started


async def test_a_campaign_without_receipts_completes_after_the_receipt_wait(
    without_receipts: Running,
) -> None:
    running = without_receipts
    created = await ok(
        await running.http.post(
            "/v1/campaigns",
            json={"name": "Silent", "from": "Tidings", "body": "Ei kuittia", "to": DELIVERABLE},
        ),
        201,
    )

    async def all_sent() -> bool:
        found = await ok(await running.http.get(f"/v1/campaigns/{created['id']}"))
        return bool(found["counts"]["sent"] == 2)

    await eventually(all_sent, "the campaign's messages to be sent")
    # Sent but no receipt yet: within the wait the campaign keeps waiting.
    assert (await ok(await running.http.get(f"/v1/campaigns/{created['id']}")))[
        "status"
    ] == "running"
    done = await wait_for_status(running, created["id"], "completed")
    assert (done["counts"]["sent"], done["counts"]["delivered"]) == (2, 0)
    listed = await ok(await running.http.get("/v1/messages", params={"recipient": DELIVERABLE[1]}))
    assert [m["status"] for m in listed["data"]] == ["sent"]
