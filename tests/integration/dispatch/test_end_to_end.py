"""Messages through the HTTP API to the embedded simulator and back: real TCP, real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.integration.dispatch.conftest import Running, eventually
from tidings.text import plan_text

DELIVERABLE = "+358401234567"
UNDELIVERABLE = "+358401234560"  # the simulator's default rule: a number ending in 0
OTHER = "+358401234568"


async def test_a_message_is_delivered_with_its_history_and_parts(running: Running) -> None:
    message_id = await running.send_one(DELIVERABLE)
    message = await running.wait_for(message_id)

    assert message["status"] == "delivered"
    assert message["error_code"] is None
    history = message["history"]
    assert [entry["status"] for entry in history] == ["queued", "sent", "delivered"]
    times = [datetime.fromisoformat(entry["at"]) for entry in history]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)
    [part] = message["parts"]
    assert part["seq"] == 1
    assert part["status"] == "delivered"
    assert part["smsc_message_id"]
    # The SMSC's id is what the handset's copy of the message is known by.
    [received] = running.service.simulator.inbox(DELIVERABLE)  # type: ignore[union-attr]
    assert received.text == "Hei maailma"
    assert received.sender == "Tidings"
    assert received.message_ids == (part["smsc_message_id"],)
    assert part["smsc_message_id"] in history[1]["detail"]


async def test_a_number_ending_in_0_is_undelivered_with_the_receipt_error(
    running: Running,
) -> None:
    message_id = await running.send_one(UNDELIVERABLE)
    message = await running.wait_for(message_id)

    assert message["status"] == "undelivered"
    assert message["error_code"] == "1"  # the receipt's err: field
    assert "UNDELIV" in message["error_detail"]
    assert [entry["status"] for entry in message["history"]] == ["queued", "sent", "undelivered"]
    [part] = message["parts"]
    assert (part["status"], part["error_code"]) == ("undelivered", "1")


async def test_a_long_ucs2_message_arrives_whole(running: Running) -> None:
    text = ("Hyvää huomenta 👋 " * 10).rstrip()
    plan = plan_text(text)
    assert (plan.encoding.value, plan.parts) == ("ucs2", 3)  # what this test is about

    accepted = (await running.send(to=DELIVERABLE, body=text))["messages"][0]
    assert (accepted["encoding"], accepted["parts"]) == ("ucs2", 3)
    message = await running.wait_for(accepted["id"])

    assert message["status"] == "delivered"
    parts = message["parts"]
    assert [p["seq"] for p in parts] == [1, 2, 3]
    assert all(p["status"] == "delivered" for p in parts)
    smsc_ids = [p["smsc_message_id"] for p in parts]
    assert len(set(smsc_ids)) == 3
    handset = await running.http.get(f"/v1/simulator/handsets/{DELIVERABLE}")
    [received] = handset.json()["messages"]
    assert received["text"] == text
    assert received["parts"] == 3
    assert received["data_coding"] == 8
    assert sorted(received["message_ids"]) == sorted(smsc_ids)


async def test_a_scheduled_message_waits_for_its_time_and_a_cancelled_one_is_never_sent(
    running: Running,
) -> None:
    # Far enough ahead that both sends, the read and the cancel answer before it, even with two
    # workers sharing the cores.
    send_at = datetime.now(UTC) + timedelta(seconds=10)
    accepted = (await running.send(to=DELIVERABLE, send_at=send_at.isoformat()))["messages"][0]
    cancelled_id = await running.send_one(OTHER, send_at=send_at.isoformat())
    assert accepted["status"] == "scheduled"
    assert (await running.message(accepted["id"]))["status"] == "scheduled"

    response = await running.http.post(f"/v1/messages/{cancelled_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"

    message = await running.wait_for(accepted["id"])

    assert message["status"] == "delivered"
    statuses = [entry["status"] for entry in message["history"]]
    assert statuses == ["scheduled", "queued", "sent", "delivered"]
    queued_at = datetime.fromisoformat(message["history"][1]["at"])
    assert queued_at >= send_at
    # The schedule has run past the cancelled message's time, and it stayed where it was.
    cancelled = await running.message(cancelled_id)
    assert cancelled["status"] == "cancelled"
    assert cancelled["parts"] == []
    assert [entry["status"] for entry in cancelled["history"]] == ["scheduled", "cancelled"]
    assert running.service.simulator.inbox(OTHER) == []  # type: ignore[union-attr]
    again = await running.http.post(f"/v1/messages/{cancelled_id}/cancel")
    assert again.status_code == 409


async def test_a_sent_message_cannot_be_cancelled(running: Running) -> None:
    message_id = await running.send_one(DELIVERABLE)
    await running.wait_for(message_id)
    response = await running.http.post(f"/v1/messages/{message_id}/cancel")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await running.message(message_id))["status"] == "delivered"


async def test_many_recipients_in_one_request_each_reach_their_outcome(running: Running) -> None:
    numbers = [f"+35840123{n:04d}" for n in range(1, 41)]
    accepted = (await running.send(to=numbers))["messages"]
    ids = {entry["address"]: entry["id"] for entry in accepted}

    async def all_final() -> bool:
        page = await running.http.get("/v1/messages", params={"limit": 1000})
        return all(m["status"] in ("delivered", "undelivered") for m in page.json()["data"])

    await eventually(all_final, "every message to reach its final status")
    outcomes = await asyncio.gather(*(running.message(i) for i in ids.values()))
    for number, message in zip(ids, outcomes, strict=True):
        expected = "undelivered" if number.endswith("0") else "delivered"
        assert message["status"] == expected, (number, message["history"])
