"""/v1/campaigns over the running service: draft, run, completion event, schedule, cancel."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.campaigns.conftest import Running, eventually, make_list, ok
from tests.integration.events.sink import Sink

DELIVERABLE = ["+358402000001", "+358402000002", "+358402000003"]
UNDELIVERABLE = "+358402000010"  # the simulator's default rule: a number ending in 0
TARGET = "+358402000004"


async def campaign(running: Running, campaign_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await ok(await running.http.get(f"/v1/campaigns/{campaign_id}"))
    return result


async def wait_for_status(running: Running, campaign_id: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        nonlocal found
        found = await campaign(running, campaign_id)
        return found["status"] == status

    await eventually(reached, f"campaign {campaign_id} to be {status}")
    return found


async def test_a_draft_runs_to_completion_with_counts_and_one_completed_event(
    running: Running, sink: Sink
) -> None:
    http = running.http
    await ok(
        await http.post("/v1/webhooks", json={"url": sink.url, "events": ["campaign.completed"]}),
        201,
    )
    members = [
        {"phone": phone, "first_name": f"N{i}"}
        for i, phone in enumerate([*DELIVERABLE, UNDELIVERABLE])
    ]
    audience, _ = await make_list(http, "Everyone", members)

    draft = await ok(
        await http.post(
            "/v1/campaigns",
            json={
                "name": "Winter sale",
                "from": "Tidings",
                "body": "Hello {first_name}",
                # A valid target, one that is also a member, and one that is no number.
                "to": [TARGET, DELIVERABLE[0], "12"],
                "lists": [audience],
                "execute": False,
            },
        ),
        201,
    )
    assert draft["status"] == "draft"
    assert draft["counts"]["targets"] == 0
    # A draft writes no message, however long it waits.
    await asyncio.sleep(0.6)
    assert (await ok(await http.get("/v1/messages")))["data"] == []

    started = await ok(await http.post(f"/v1/campaigns/{draft['id']}/run"))
    assert started["status"] == "running"
    done = await wait_for_status(running, draft["id"], "completed")

    assert done["counts"] == {
        "targets": 7,
        "invalid": {"duplicate": 1, "invalid_number": 1, "missing_placeholder": 1},
        "queued": 0,
        "sent": 0,
        "delivered": 3,
        "failed": 1,
        "cancelled": 0,
    }
    assert done["completed_at"] is not None
    simulator = running.service.simulator
    assert simulator is not None
    # A target that is no contact has no value for its placeholder and gets nothing (never
    # "Hello {first_name}"); one that is a contact (and a member too) gets one message, with
    # its contact's fields.
    assert simulator.inbox(TARGET) == []
    assert [m.text for m in simulator.inbox(DELIVERABLE[0])] == ["Hello N0"]
    assert [m.text for m in simulator.inbox(DELIVERABLE[1])] == ["Hello N1"]

    async def event_arrived() -> bool:
        return len(sink.received) >= 1

    await eventually(event_arrived, "the campaign.completed webhook")
    # Several more runner rounds: the event is not emitted again.
    await asyncio.sleep(1.0)
    [request] = sink.received
    assert request.method == "POST"
    event = json.loads(request.body)
    assert event["type"] == "campaign.completed"
    assert event["data"]["campaign_id"] == draft["id"]
    assert event["data"]["counts"]["delivered"] == 3
    assert event["data"]["counts"]["failed"] == 1
    assert "webhook-signature" in request.headers


async def test_a_scheduled_campaign_starts_at_its_time(running: Running) -> None:
    http = running.http
    # Far enough ahead that the create and the read answer before it, even with the suite's two
    # workers sharing the cores beside other suites (2 s was not, once).
    send_at = datetime.now(UTC) + timedelta(seconds=10)
    created = await ok(
        await http.post(
            "/v1/campaigns",
            json={
                "name": "Later",
                "from": "Tidings",
                "body": "On time",
                "to": DELIVERABLE[:2],
                "send_at": send_at.isoformat(),
            },
        ),
        201,
    )
    assert created["status"] == "scheduled"
    assert (await ok(await http.get("/v1/messages")))["data"] == []

    done = await wait_for_status(running, created["id"], "completed")
    assert datetime.fromisoformat(done["started_at"]) >= send_at
    messages = (await ok(await http.get("/v1/messages")))["data"]
    assert len(messages) == 2
    assert all(datetime.fromisoformat(m["created_at"]) >= send_at for m in messages)
    assert done["counts"]["delivered"] == 2


async def test_a_cancelled_campaign_sends_nothing_and_cannot_run_again(running: Running) -> None:
    http = running.http
    # Cancelled well before it comes: the create and the cancel answer first, however slowly.
    send_at = datetime.now(UTC) + timedelta(seconds=10)
    later = send_at.isoformat()
    created = await ok(
        await http.post(
            "/v1/campaigns",
            json={"name": "Oops", "from": "Tidings", "body": "x", "to": [TARGET], "send_at": later},
        ),
        201,
    )
    cancelled = await ok(await http.post(f"/v1/campaigns/{created['id']}/cancel"))
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelled_at"] is not None

    again = await http.post(f"/v1/campaigns/{created['id']}/cancel")
    assert again.status_code == 409, again.text
    run = await http.post(f"/v1/campaigns/{created['id']}/run")
    assert run.status_code == 409, run.text
    assert "cancelled" in run.json()["detail"]
    # Past its send_at, still nothing.
    await asyncio.sleep((send_at - datetime.now(UTC)).total_seconds() + 0.5)
    assert (await campaign(running, created["id"]))["status"] == "cancelled"
    assert (await ok(await http.get("/v1/messages")))["data"] == []


async def test_a_draft_run_before_its_send_at_is_scheduled(running: Running) -> None:
    http = running.http
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    draft = await ok(
        await http.post(
            "/v1/campaigns",
            json={
                "name": "Planned",
                "from": "Tidings",
                "body": "x",
                "to": [TARGET],
                "send_at": later,
                "execute": False,
            },
        ),
        201,
    )
    assert draft["status"] == "draft"
    run = await ok(await http.post(f"/v1/campaigns/{draft['id']}/run"))
    assert (run["status"], run["started_at"]) == ("scheduled", None)
    again = await http.post(f"/v1/campaigns/{draft['id']}/run")
    assert again.status_code == 409, again.text


async def test_drafts_are_listed_and_only_drafts_deleted(running: Running) -> None:
    http = running.http
    body = {"from": "Tidings", "body": "x", "to": [TARGET]}
    first = await ok(
        await http.post("/v1/campaigns", json={**body, "name": "One", "execute": False}), 201
    )
    second = await ok(await http.post("/v1/campaigns", json={**body, "name": "Two"}), 201)

    listed = await ok(await http.get("/v1/campaigns"))
    assert [c["name"] for c in listed["data"]] == ["Two", "One"]
    drafts = await ok(await http.get("/v1/campaigns", params={"status": "draft"}))
    assert [c["id"] for c in drafts["data"]] == [first["id"]]
    paged = await ok(await http.get("/v1/campaigns", params={"limit": 1}))
    assert [c["id"] for c in paged["data"]] == [second["id"]]
    rest = await ok(
        await http.get("/v1/campaigns", params={"limit": 1, "cursor": paged["next_cursor"]})
    )
    assert [c["id"] for c in rest["data"]] == [first["id"]]

    refused = await http.delete(f"/v1/campaigns/{second['id']}")
    assert refused.status_code == 409, refused.text
    deleted = await http.delete(f"/v1/campaigns/{first['id']}")
    assert deleted.status_code == 204, deleted.text
    gone = await http.get(f"/v1/campaigns/{first['id']}")
    assert gone.status_code == 404, gone.text


async def test_invalid_campaigns_are_refused_with_the_field(running: Running) -> None:
    http = running.http
    base = {"name": "Bad", "from": "Tidings", "body": "x", "to": [TARGET]}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"to": []}, "to"),
        ({"lists": ["01NOSUCHLIST0000000000000"]}, "lists"),
        ({"exclude_lists": ["01NOSUCHLIST0000000000000"]}, "exclude_lists"),
        ({"name": "   "}, "name"),
        ({"from": "This sender is too long"}, "from"),
        ({"send_at": "2026-12-01T12:00:00"}, "send_at"),
        ({"execute": "sometimes"}, "execute"),
    ]
    for change, field in cases:
        response = await http.post("/v1/campaigns", json={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert [e["path"] for e in response.json()["errors"]] == [field], response.text
    assert (await ok(await http.get("/v1/campaigns")))["data"] == []
    missing = await http.post("/v1/campaigns/01NOSUCHCAMPAIGN000000000/run")
    assert missing.status_code == 404, missing.text


async def test_a_campaign_skips_opted_out_and_blocked_members_and_says_why(
    running: Running, sink: Sink
) -> None:
    http = running.http
    await ok(
        await http.post(
            "/v1/webhooks", json={"url": sink.url, "events": ["message.invalid_targets"]}
        ),
        201,
    )
    opted_out, blocked = "+358402000005", "+358402000006"
    members = [{"phone": phone} for phone in [*DELIVERABLE, opted_out, blocked]]
    audience, _ = await make_list(http, "Members", members)
    await ok(await http.post("/v1/opt-outs", json={"phone": opted_out}), 201)
    await ok(await http.post("/v1/blocklist", json={"phone": blocked}), 201)

    created = await ok(
        await http.post(
            "/v1/campaigns",
            json={"name": "News", "from": "Tidings", "body": "News", "lists": [audience]},
        ),
        201,
    )
    done = await wait_for_status(running, created["id"], "completed")

    assert done["counts"]["targets"] == 5
    assert done["counts"]["invalid"] == {"blocked": 1, "opted_out": 1}
    assert done["counts"]["delivered"] == len(DELIVERABLE)
    simulator = running.service.simulator
    assert simulator is not None
    assert simulator.inbox(opted_out) == [] and simulator.inbox(blocked) == []

    async def reported() -> bool:
        return bool(sink.received)

    await eventually(reported, "the message.invalid_targets webhook")
    event = json.loads(sink.received[0].body)
    assert event["data"]["campaign_id"] == created["id"]
    assert sorted((t["to"], t["reason"]) for t in event["data"]["targets"]) == [
        (opted_out, 1),
        (blocked, 3),
    ]
