"""Inbound messages, threads and replies, driven through the simulator's inbound injection."""

from __future__ import annotations

import json

from sqlalchemy import select
from standardwebhooks import Webhook

from tests.integration.dispatch.conftest import eventually
from tests.ports import free_port
from tidings.core import routing
from tidings.store.models import messages

from .conftest import HANDSET, LONG_CODE, Conversation


async def test_an_inbound_message_is_listed_with_its_contact_and_thread_and_sent_as_a_webhook(
    conversation: Conversation,
) -> None:
    http = conversation.running.http
    subscribed = await http.post(
        "/v1/webhooks",
        json={"url": f"{conversation.sink.url}/hooks", "events": ["message.received"]},
    )
    assert subscribed.status_code == 201, subscribed.text

    await conversation.inbound("Onko pöytä vapaana huomenna?")

    [inbound] = (await conversation.get("/v1/inbound"))["data"]
    assert (inbound["from"], inbound["to"], inbound["direction"]) == (HANDSET, LONG_CODE, "in")
    assert inbound["body"] == "Onko pöytä vapaana huomenna?"
    assert inbound["contact_id"] == conversation.contact_id
    assert inbound["thread_id"] is not None

    [thread] = (await conversation.get("/v1/threads"))["data"]
    assert thread["id"] == inbound["thread_id"]
    assert (thread["number"], thread["contact_number"]) == (LONG_CODE, HANDSET)
    assert thread["contact"] == {
        "id": conversation.contact_id,
        "first_name": "Aino",
        "last_name": None,
    }
    assert (thread["message_count"], thread["inbound_count"]) == (1, 1)
    assert thread["last_preview"] == "Onko pöytä vapaana huomenna?"

    sink = conversation.sink

    async def delivered() -> bool:
        return len(sink.received) >= 1

    await eventually(delivered, "the message.received webhook")
    [request] = sink.received
    payload = Webhook(subscribed.json()["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "message.received"
    assert payload["data"]["message_id"] == inbound["id"]
    assert payload["data"]["thread_id"] == inbound["thread_id"]
    assert payload["data"]["contact_id"] == conversation.contact_id
    assert (payload["data"]["from"], payload["data"]["to"]) == (HANDSET, LONG_CODE)


async def test_a_reply_goes_out_swapped_on_the_route_it_came_in_on_and_stays_in_the_thread(
    conversation: Conversation,
) -> None:
    running = conversation.running
    database = running.service.database
    # Sends from the long code would normally take this route, which leads nowhere; a reply
    # must take the route the message arrived on (the simulator) instead.
    await routing.create_route(
        database,
        running.service.transports,
        name="elsewhere",
        settings={"host": "127.0.0.1", "port": free_port(), "system_id": "none", "password": "x"},
    )
    senders = (await running.http.get("/v1/senders")).json()
    [long_code] = [s for s in senders if s["address"] == LONG_CODE]
    # Assigning routes is the operator's (here: as the CLI does it).
    await routing.set_sender_route(database, running.account, long_code["id"], "elsewhere")

    await conversation.inbound("Hei! Onko teillä auki lauantaina?")
    [inbound] = (await conversation.get("/v1/inbound"))["data"]

    replied = await running.http.post(
        f"/v1/messages/{inbound['id']}/reply", json={"body": "Kyllä, 10-16."}
    )
    assert replied.status_code == 202, replied.text
    [outcome] = replied.json()["messages"]
    assert replied.json()["thread_id"] == inbound["thread_id"]
    reply = await running.wait_for(outcome["id"])
    assert reply["status"] == "delivered"
    assert (reply["from"], reply["to"]) == (LONG_CODE, HANDSET)
    # The handset got it from our number.
    [(from_number, text)] = await conversation.handset_texts(HANDSET, 1)
    assert (from_number.lstrip("+"), text) == (LONG_CODE.lstrip("+"), "Kyllä, 10-16.")
    async with database.read() as connection:
        routes = dict(
            (
                await connection.execute(
                    select(messages.c.id, messages.c.route_id).where(
                        messages.c.id.in_([inbound["id"], outcome["id"]])
                    )
                )
            ).all()
        )
    assert routes[outcome["id"]] == routes[inbound["id"]] is not None

    await conversation.inbound("Kiitos, tulemme!")
    listed = (await conversation.get("/v1/inbound"))["data"]
    assert [m["body"] for m in listed] == ["Kiitos, tulemme!", "Hei! Onko teillä auki lauantaina?"]
    assert {m["thread_id"] for m in listed} == {inbound["thread_id"]}

    thread = await conversation.get(f"/v1/threads/{inbound['thread_id']}")
    assert [(m["direction"], m["body"]) for m in thread["messages"]] == [
        ("in", "Hei! Onko teillä auki lauantaina?"),
        ("out", "Kyllä, 10-16."),
        ("in", "Kiitos, tulemme!"),
    ]
    assert (thread["message_count"], thread["inbound_count"]) == (3, 2)
    assert (thread["last_direction"], thread["last_preview"]) == ("in", "Kiitos, tulemme!")
    assert len((await conversation.get("/v1/threads"))["data"]) == 1


async def test_a_reply_into_a_thread_reaches_the_handset_and_the_thread(
    conversation: Conversation,
) -> None:
    running = conversation.running
    await conversation.inbound("Varaus 4 hengelle klo 18?")
    [thread] = (await conversation.get("/v1/threads"))["data"]

    replied = await running.http.post(
        f"/v1/threads/{thread['id']}/reply",
        json={"body": "Varattu, tervetuloa!"},
        headers={"Idempotency-Key": "reply-1"},
    )
    assert replied.status_code == 202, replied.text
    [outcome] = replied.json()["messages"]
    assert replied.json()["thread_id"] == thread["id"]
    await running.wait_for(outcome["id"])
    # The same key answers the first result again and sends nothing more.
    again = await running.http.post(
        f"/v1/threads/{thread['id']}/reply",
        json={"body": "Varattu, tervetuloa!"},
        headers={"Idempotency-Key": "reply-1"},
    )
    assert again.status_code == 202, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["messages"][0]["id"] == outcome["id"]

    texts = await conversation.handset_texts(HANDSET, 1)
    assert [text for _, text in texts] == ["Varattu, tervetuloa!"]
    detail = await conversation.get(f"/v1/threads/{thread['id']}")
    assert [m["id"] for m in detail["messages"]][-1] == outcome["id"]
    assert detail["message_count"] == 2


async def test_outbound_sends_open_threads_that_inbound_answers_join(
    conversation: Conversation,
) -> None:
    running = conversation.running
    other = "+358401112224"
    result = await running.send(to=[HANDSET, other], **{"from": LONG_CODE, "body": "Tarjous!"})
    assert result["accepted"] == 2
    threads = (await conversation.get("/v1/threads"))["data"]
    assert sorted(t["contact_number"] for t in threads) == [HANDSET, other]
    assert all(t["inbound_count"] == 0 and t["last_direction"] == "out" for t in threads)

    await conversation.inbound("Kiinnostaa", sender=other)
    newest, older = (await conversation.get("/v1/threads"))["data"]
    assert newest["contact_number"] == other  # most recently active first
    assert (newest["message_count"], newest["inbound_count"]) == (2, 1)
    assert older["contact_number"] == HANDSET

    # Filters and pages.
    only = (await conversation.get("/v1/threads", contact_number=HANDSET))["data"]
    assert [t["id"] for t in only] == [older["id"]]
    first = await conversation.get("/v1/threads", limit=1)
    assert [t["id"] for t in first["data"]] == [newest["id"]]
    second = await conversation.get("/v1/threads", limit=1, cursor=first["next_cursor"])
    assert [t["id"] for t in second["data"]] == [older["id"]]
    assert second["next_cursor"] is None
    assert (await conversation.get("/v1/threads", number="+358405550000"))["data"] == []
    inbound = await conversation.get("/v1/inbound", **{"from": other})
    assert [m["thread_id"] for m in inbound["data"]] == [newest["id"]]
    assert (await conversation.get("/v1/inbound", to="+358405550000"))["data"] == []


async def test_an_undelivered_receipt_counts_on_the_contact(conversation: Conversation) -> None:
    running = conversation.running
    # The simulator does not deliver to numbers ending in 0 (err 1, unknown subscriber).
    created = await running.http.post("/v1/contacts", json={"phone": "+358401112220"})
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]

    message_id = await running.send_one("+358401112220")
    assert (await running.wait_for(message_id))["status"] == "undelivered"
    delivered_id = await running.send_one(HANDSET)
    assert (await running.wait_for(delivered_id))["status"] == "delivered"

    unhealthy = (await conversation.get(f"/v1/contacts/{contact_id}"))["health"]
    assert unhealthy["failed_messages"] == 1
    assert (unhealthy["hard_errors_total"], unhealthy["hard_errors_current"]) == (1, 1)
    assert unhealthy["soft_errors_total"] == 0
    assert unhealthy["last_error"] == "1"
    assert unhealthy["error_since"] is not None
    healthy = (await conversation.get(f"/v1/contacts/{conversation.contact_id}"))["health"]
    assert (healthy["failed_messages"], healthy["hard_errors_total"]) == (0, 0)


async def test_replies_are_validated(conversation: Conversation) -> None:
    http = conversation.running.http
    await conversation.inbound("Hei")
    [inbound] = (await conversation.get("/v1/inbound"))["data"]

    empty = await http.post(f"/v1/messages/{inbound['id']}/reply", json={"body": ""})
    assert empty.status_code == 422
    unknown = await http.post(f"/v1/messages/{inbound['id']}/reply", json={"text": "x"})
    assert unknown.status_code == 422
    missing = await http.post("/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV/reply", json={"body": "x"})
    assert missing.status_code == 404
    no_thread = await http.post("/v1/threads/01ARZ3NDEKTSV4RRFFQ69G5FAV/reply", json={"body": "x"})
    assert no_thread.status_code == 404
    bad_cursor = await http.get("/v1/threads", params={"cursor": "nonsense"})
    assert bad_cursor.status_code == 422
    bad_number = await http.get("/v1/inbound", params={"from": "not a number"})
    assert bad_number.status_code == 422

    # A number the account gave up can no longer be replied from.
    senders = (await http.get("/v1/senders")).json()
    [long_code] = [s for s in senders if s["address"] == LONG_CODE]
    assert (await http.delete(f"/v1/senders/{long_code['id']}")).status_code == 204
    refused = await http.post(f"/v1/messages/{inbound['id']}/reply", json={"body": "Hei!"})
    assert refused.status_code == 422, refused.text
    assert "registered" in json.dumps(refused.json())
    assert (await conversation.get(f"/v1/threads/{inbound['thread_id']}"))["message_count"] == 1
