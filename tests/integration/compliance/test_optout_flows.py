"""Opt-out compliance over real components: STOP, START and HELP injected through the
simulator, sends refused through the API, events at a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from tests.integration.dispatch.conftest import Running
from tests.integration.events.sink import Sink
from tidings.core.optout import DEFAULT_STOP_REPLY

from .conftest import (
    HANDSET,
    LONG_CODE,
    OTHER_CODE,
    inbox_message,
    inject,
    simulator_of,
    subscribe,
    webhook_events,
)


async def send(
    running: Running, to: str | list[str], *, sender: str = LONG_CODE, **extra: Any
) -> dict[str, Any]:
    return await running.send(to=to, **{"from": sender}, **extra)


async def test_stop_refuses_sends_until_start(running: Running, sink: Sink) -> None:
    await subscribe(running, sink, "message.invalid_targets", "optout.received", "optin.received")

    await inject(running, "STOP")
    # The confirmation reaches the number that has just opted out.
    await inbox_message(running, DEFAULT_STOP_REPLY)
    [optout_event] = await webhook_events(sink, "optout.received")
    assert optout_event["data"]["from"] == HANDSET
    assert optout_event["data"]["to"] == LONG_CODE

    refused = await send(running, [HANDSET, "+358401112224"], body="Tarjous!")
    assert (refused["accepted"], refused["rejected"]) == (1, 1)
    first, second = refused["messages"]
    assert first["error"]["code"] == "opted_out"
    assert first["error"]["reason"] == 1
    assert "id" not in first
    assert "id" in second
    [invalid] = await webhook_events(sink, "message.invalid_targets")
    assert [(t["to"], t["reason"]) for t in invalid["data"]["targets"]] == [(HANDSET, 1)]

    await inject(running, "Start")
    await webhook_events(sink, "optin.received")
    message_id = await running.send_one(HANDSET, **{"from": LONG_CODE}, body="Tervetuloa takaisin")
    delivered = await running.wait_for(message_id)
    assert delivered["status"] == "delivered"
    await inbox_message(running, "Tervetuloa takaisin")
    # Exactly one invalid_targets event: the later send had none.
    assert len(await webhook_events(sink, "message.invalid_targets")) == 1


async def test_the_stop_confirmation_is_recorded_as_sent_despite_the_optout(
    running: Running,
) -> None:
    await inject(running, "stop")
    await inbox_message(running, DEFAULT_STOP_REPLY)
    listed = await running.http.get("/v1/messages", params={"recipient": HANDSET})
    [reply] = listed.json()["data"]
    detail = await running.message(reply["id"])
    assert "sent although the number opted out" in detail["history"][0]["detail"]
    opt_outs = await running.http.get("/v1/opt-outs")
    [entry] = opt_outs.json()["data"]
    assert (entry["phone"], entry["sender"], entry["source"]) == (HANDSET, None, "inbound")


async def test_help_and_start_are_answered_by_default_in_the_accounts_name(
    running: Running,
) -> None:
    name = running.account.name
    await inject(running, "HELP")
    await inbox_message(running, f"{name}: reply STOP to opt out.")
    await inject(running, "STOP")
    await inbox_message(running, DEFAULT_STOP_REPLY)
    await inject(running, "START")
    await inbox_message(running, f"{name}: you are subscribed again. Reply STOP to opt out.")

    # Each can be changed, and turned off.
    await running.http.patch(
        "/v1/compliance", json={"help_text": "{account} apua: 0800 123", "start_reply": None}
    )
    await inject(running, "info")
    await inbox_message(running, f"{name} apua: 0800 123")
    await inject(running, "STOP")
    await inject(running, "START")
    await send(running, HANDSET, body="marker")
    await inbox_message(running, "marker")
    texts = [m.text for m in simulator_of(running).inbox(HANDSET)]
    assert texts.count(f"{name}: you are subscribed again. Reply STOP to opt out.") == 1


async def test_help_and_a_custom_stop_word_with_its_confirmation(running: Running) -> None:
    changed = await running.http.patch(
        "/v1/compliance",
        json={
            "stop_words": ["lopeta"],
            "stop_reply": "Et saa enää viestejä.",
            "help_text": "Apua: asiakaspalvelu 0800 123",
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["stop_words"] == ["LOPETA"]

    await inject(running, "  help ")
    await inbox_message(running, "Apua: asiakaspalvelu 0800 123")
    # HELP does not opt out.
    assert (await send(running, HANDSET))["accepted"] == 1

    await inject(running, " Lopeta\n")
    await inbox_message(running, "Et saa enää viestejä.")
    refused = await send(running, HANDSET)
    assert refused["messages"][0]["error"]["reason"] == 1


async def test_per_sender_scope_stops_only_the_number_it_was_sent_to(running: Running) -> None:
    changed = await running.http.patch("/v1/compliance", json={"scope": "sender"})
    assert changed.json()["scope"] == "sender"

    await inject(running, "STOP", to=LONG_CODE)
    await inbox_message(running, DEFAULT_STOP_REPLY)
    assert (await send(running, HANDSET, sender=LONG_CODE))["accepted"] == 0
    assert (await send(running, HANDSET, sender=OTHER_CODE))["accepted"] == 1
    opt_outs = (await running.http.get("/v1/opt-outs")).json()["data"]
    assert [(e["phone"], e["sender"]) for e in opt_outs] == [(HANDSET, LONG_CODE)]

    # START to the other number leaves the first one's opt-out in place.
    await inject(running, "START", to=OTHER_CODE)
    assert (await send(running, HANDSET, sender=LONG_CODE))["accepted"] == 0
    await inject(running, "START", to=LONG_CODE)
    assert (await send(running, HANDSET, sender=LONG_CODE))["accepted"] == 1


async def test_account_scope_stops_every_number(running: Running) -> None:
    await inject(running, "QUIT", to=OTHER_CODE)
    await inbox_message(running, DEFAULT_STOP_REPLY, sender=OTHER_CODE)
    assert (await send(running, HANDSET, sender=LONG_CODE))["accepted"] == 0
    assert (await send(running, HANDSET, sender="Tidings"))["accepted"] == 0


async def test_force_opt_in_sends_and_is_recorded(running: Running) -> None:
    added = await running.http.post("/v1/opt-outs", json={"phone": HANDSET})
    assert added.status_code == 201, added.text
    result = await send(running, HANDSET, body="Tärkeä tiedote", force_opt_in=True)
    [entry] = result["messages"]
    delivered = await running.wait_for(entry["id"])
    assert delivered["status"] == "delivered"
    assert "force_opt_in overrides the number's opt-out" in delivered["history"][0]["detail"]
    await inbox_message(running, "Tärkeä tiedote")


async def test_the_blocklist_refuses_with_reason_3(running: Running, sink: Sink) -> None:
    await subscribe(running, sink, "message.invalid_targets")
    blocked = await running.http.post("/v1/blocklist", json={"phone": "0401112223"})
    assert blocked.status_code == 201, blocked.text
    assert blocked.json()["phone"] == HANDSET
    # Blocked, opted out too, invalid and duplicate: every reason is reported once.
    await running.http.post("/v1/opt-outs", json={"phone": HANDSET})
    result = await send(running, [HANDSET, "not a number", "+358401112224", "+358401112224"])
    assert [m.get("error", {}).get("reason") for m in result["messages"]] == [3, 0, None, 2]
    [invalid] = await webhook_events(sink, "message.invalid_targets")
    assert sorted(t["reason"] for t in invalid["data"]["targets"]) == [0, 2, 3]

    # Removed from the blocklist but still opted out: now reason 1.
    await running.http.delete(f"/v1/blocklist/{blocked.json()['id']}")
    assert (await send(running, HANDSET))["messages"][0]["error"]["reason"] == 1
    assert simulator_of(running).inbox(HANDSET) == []


async def test_without_a_stop_reply_a_stop_is_silent(running: Running) -> None:
    await running.http.patch("/v1/compliance", json={"stop_reply": None})
    await inject(running, "STOP")
    assert (await send(running, HANDSET))["accepted"] == 0
    # A message forced through now arrives alone: no confirmation was queued before it.
    await send(running, HANDSET, body="marker", force_opt_in=True)
    await inbox_message(running, "marker")
    assert [m.text for m in simulator_of(running).inbox(HANDSET)] == ["marker"]


async def test_a_blocked_number_gets_no_auto_reply_not_even_help(running: Running) -> None:
    await running.http.patch("/v1/compliance", json={"help_text": "Call 0800 123"})
    await running.http.post("/v1/blocklist", json={"phone": HANDSET})
    await inject(running, "HELP")
    await inject(running, "STOP")
    await send(running, HANDSET, body="marker", force_opt_in=True)
    await inbox_message(running, "marker")
    assert [m.text for m in simulator_of(running).inbox(HANDSET)] == ["marker"]
