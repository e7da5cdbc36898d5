"""Keywords and inbound rules over real components: inbound messages injected through the
simulator, auto-replies read from the handset inbox, URL actions at a real receiver."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from tests.integration.dispatch.conftest import Running, eventually
from tests.integration.events.sink import Sink

from .conftest import (
    HANDSET,
    LONG_CODE,
    OTHER_CODE,
    inbox_message,
    inject,
    settle,
    simulator_of,
    subscribe,
    webhook_events,
)


async def test_a_keyword_replies_adds_to_a_list_and_emits_its_event(
    running: Running, sink: Sink
) -> None:
    await subscribe(running, sink, "keyword.received")
    members = (await running.http.post("/v1/lists", json={"name": "Pizza club"})).json()
    created = await running.http.post(
        "/v1/keywords",
        json={
            "number": LONG_CODE,
            "keyword": "pizza",
            "reply": "Tervetuloa pizzaklubiin!",
            "add_to_list_id": members["id"],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["keyword"] == "PIZZA"

    await inject(running, "Pizza please, a large one")
    await inbox_message(running, "Tervetuloa pizzaklubiin!")
    [event] = await webhook_events(sink, "keyword.received")
    assert (event["data"]["keyword"], event["data"]["from"]) == ("PIZZA", HANDSET)
    # The number had no contact: one was made, and it is in the list.
    listed = (await running.http.get(f"/v1/lists/{members['id']}/members")).json()["data"]
    assert [c["phone"] for c in listed] == [HANDSET]


async def test_a_keyword_only_matches_the_first_word_on_its_own_number(running: Running) -> None:
    members = (await running.http.post("/v1/lists", json={"name": "Leavers"})).json()
    contact = (await running.http.post("/v1/contacts", json={"phone": HANDSET})).json()
    await running.http.post(
        f"/v1/lists/{members['id']}/members", json={"contact_ids": [contact["id"]]}
    )
    await running.http.post(
        "/v1/keywords",
        json={"number": LONG_CODE, "keyword": "LEAVE", "remove_from_list_id": members["id"]},
    )
    await inject(running, "leave", to=OTHER_CODE)
    await inject(running, "please leave", to=LONG_CODE)
    assert len((await running.http.get(f"/v1/lists/{members['id']}/members")).json()["data"]) == 1
    await inject(running, "LEAVE now", to=LONG_CODE)
    assert (await running.http.get(f"/v1/lists/{members['id']}/members")).json()["data"] == []


async def test_a_stop_message_triggers_no_keyword(running: Running, sink: Sink) -> None:
    await subscribe(running, sink, "keyword.received", "optout.received")
    await running.http.patch("/v1/compliance", json={"stop_words": ["LOPETA"]})
    await running.http.post(
        "/v1/keywords", json={"number": LONG_CODE, "keyword": "LOPETA", "reply": "never"}
    )
    await inject(running, "lopeta")
    await webhook_events(sink, "optout.received")
    await inject(running, "lopeta kaikki")  # not the bare word: a keyword, not a STOP
    await webhook_events(sink, "keyword.received")
    [keyword_event] = await webhook_events(sink, "keyword.received")
    assert keyword_event["data"]["body"] == "lopeta kaikki"
    # Its auto-reply is not sent: the number has opted out.
    await running.http.post(
        "/v1/messages",
        json={"to": HANDSET, "from": LONG_CODE, "body": "marker", "force_opt_in": True},
    )
    await inbox_message(running, "marker")
    assert "never" not in [m.text for m in simulator_of(running).inbox(HANDSET)]


async def test_url_rules_post_matching_messages_as_json_or_form(
    running: Running, sink: Sink
) -> None:
    rules = [
        {
            "rule_name": "orders",
            "dedicated_number": LONG_CODE,
            "message_search_type": 1,
            "message_search_term": "order",
            "action": "URL",
            "action_address": f"{sink.url}/orders",
        },
        {
            "rule_name": "refunds",
            "dedicated_number": "*",
            "message_search_type": 2,
            "message_search_term": "refund",
            "action": "URL",
            "action_address": f"{sink.url}/refunds",
            "webhook_type": "post",
        },
        {
            "rule_name": "not spam",
            "dedicated_number": "*",
            "message_search_type": 3,
            "message_search_term": "spam",
            "action": "URL",
            "action_address": f"{sink.url}/clean",
        },
        {
            "rule_name": "off",
            "dedicated_number": "*",
            "message_search_type": 0,
            "action": "URL",
            "action_address": f"{sink.url}/off",
            "enabled": False,
        },
    ]
    for rule in rules:
        created = await running.http.post("/v1/inbound-rules", json=rule)
        assert created.status_code == 201, created.text

    await inject(running, "Order 42 please")
    await inject(running, "I want a REFUND", to=OTHER_CODE)
    await inject(running, "buy spam")

    async def all_arrived() -> bool:
        return len(sink.received) >= 4

    await eventually(all_arrived, "four rule posts")
    by_path: dict[str, list[bytes]] = {}
    for request in sink.received:
        assert request.method == "POST"
        by_path.setdefault(request.target, []).append(request.body)
    assert sorted((path, len(bodies)) for path, bodies in by_path.items()) == [
        ("/clean", 2),
        ("/orders", 1),
        ("/refunds", 1),
    ]
    order = json.loads(by_path["/orders"][0])
    assert (order["from"], order["to"], order["body"]) == (HANDSET, LONG_CODE, "Order 42 please")
    refund = parse_qs(by_path["/refunds"][0].decode())
    assert refund["body"] == ["I want a REFUND"]
    assert refund["rule_name"] == ["refunds"]
    assert {json.loads(b)["body"] for b in by_path["/clean"]} == {
        "Order 42 please",
        "I want a REFUND",
    }


async def test_an_auto_reply_rule_answers_on_its_number(running: Running) -> None:
    created = await running.http.post(
        "/v1/inbound-rules",
        json={
            "rule_name": "ack",
            "dedicated_number": OTHER_CODE,
            "message_search_type": 0,
            "action": "AUTO_REPLY",
            "action_address": "Kiitos viestistäsi",
        },
    )
    assert created.status_code == 201, created.text
    await inject(running, "hei", to=OTHER_CODE)
    await inbox_message(running, "Kiitos viestistäsi", sender=OTHER_CODE)
    await inject(running, "hei", to=LONG_CODE)
    await settle(running)
    replies = [m for m in simulator_of(running).inbox(HANDSET) if m.text == "Kiitos viestistäsi"]
    assert [m.sender.lstrip("+") for m in replies] == [OTHER_CODE.lstrip("+")]
