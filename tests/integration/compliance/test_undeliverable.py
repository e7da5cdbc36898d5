"""Undeliverable recipients (reason 4) and the START confirmation over real components: the
embedded simulator answers a number ending in 0 with "unknown subscriber" (a hard error),
events arrive at a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from tests.integration.dispatch.conftest import Running
from tests.integration.events.sink import Sink

from .conftest import HANDSET, LONG_CODE, inbox_message, inject, subscribe, webhook_events

UNKNOWN = "+358401112220"  # ends in 0: undeliverable in the simulator


async def send(running: Running, to: str | list[str], **extra: Any) -> dict[str, Any]:
    return await running.send(to=to, **{"from": LONG_CODE}, **extra)


async def contact(running: Running, phone: str) -> dict[str, Any]:
    response = await running.http.post("/v1/contacts", json={"phone": phone})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def fail_times(running: Running, count: int) -> None:
    """Send to the unknown number ``count`` times, each time waiting for its receipt."""
    for _ in range(count):
        message_id = await running.send_one(UNKNOWN, **{"from": LONG_CODE}, body="Hei")
        assert (await running.wait_for(message_id))["status"] == "undelivered"


async def test_three_hard_errors_in_a_row_refuse_the_fourth_send(
    running: Running, sink: Sink
) -> None:
    await subscribe(running, sink, "message.invalid_targets")
    settings = (await running.http.get("/v1/compliance")).json()
    assert settings["hard_error_limit"] == 3
    created = await contact(running, UNKNOWN)
    await fail_times(running, 3)
    health = (await running.http.get(f"/v1/contacts/{created['id']}")).json()["health"]
    assert health["hard_errors_current"] == 3

    refused = await send(running, [UNKNOWN, HANDSET], body="Neljäs")
    assert (refused["accepted"], refused["rejected"]) == (1, 1)
    first, second = refused["messages"]
    assert first["error"]["code"] == "undeliverable"
    assert first["error"]["reason"] == 4
    assert "undeliverable" in first["error"]["detail"]
    assert "id" not in first and "id" in second
    [event] = await webhook_events(sink, "message.invalid_targets")
    assert [(t["to"], t["reason"], t["error"]) for t in event["data"]["targets"]] == [
        (UNKNOWN, 4, "undeliverable")
    ]
    # force_opt_in overrides consent, not a number that cannot receive.
    forced = await send(running, UNKNOWN, force_opt_in=True)
    assert forced["messages"][0]["error"]["reason"] == 4

    # Clearing the contact's current errors lets the number be tried again; totals stay.
    cleared = await running.http.post(f"/v1/contacts/{created['id']}/clear-errors")
    assert cleared.status_code == 200, cleared.text
    after = cleared.json()["health"]
    assert (after["hard_errors_current"], after["hard_errors_total"]) == (0, 3)
    assert (await send(running, UNKNOWN))["accepted"] == 1


async def test_the_limit_is_an_account_setting_and_0_turns_it_off(running: Running) -> None:
    changed = await running.http.patch("/v1/compliance", json={"hard_error_limit": 1})
    assert changed.status_code == 200, changed.text
    assert changed.json()["hard_error_limit"] == 1
    await contact(running, UNKNOWN)
    await fail_times(running, 1)
    assert (await send(running, UNKNOWN))["messages"][0]["error"]["reason"] == 4

    off = await running.http.patch("/v1/compliance", json={"hard_error_limit": 0})
    assert off.json()["hard_error_limit"] == 0
    assert (await send(running, UNKNOWN))["accepted"] == 1
    assert (
        await running.http.patch("/v1/compliance", json={"hard_error_limit": -1})
    ).status_code == 422


async def test_a_number_that_is_no_contact_is_never_refused_as_undeliverable(
    running: Running,
) -> None:
    # Health is kept on contacts only: without one there is no run of errors to go by.
    await fail_times(running, 3)
    assert (await send(running, UNKNOWN))["accepted"] == 1


async def test_start_sends_the_configured_confirmation(running: Running, sink: Sink) -> None:
    default = (await running.http.get("/v1/compliance")).json()["start_reply"]
    assert default == "{account}: you are subscribed again. Reply STOP to opt out."
    changed = await running.http.patch(
        "/v1/compliance", json={"start_reply": "Tervetuloa takaisin! Lopeta: STOP"}
    )
    assert changed.json()["start_reply"] == "Tervetuloa takaisin! Lopeta: STOP"
    await subscribe(running, sink, "optin.received")
    await inject(running, "STOP")
    await inject(running, " start ")
    await webhook_events(sink, "optin.received")
    reply = await inbox_message(running, "Tervetuloa takaisin! Lopeta: STOP")
    assert reply.sender.lstrip("+") == LONG_CODE.lstrip("+")
    listed = (await running.http.get("/v1/messages", params={"recipient": HANDSET})).json()
    texts = [m["body"] for m in listed["data"]]
    assert texts.count("Tervetuloa takaisin! Lopeta: STOP") == 1
