"""A flow answers an inbound message: the New Message trigger delivers it, a reply by its
messageId (SendReplyMessage) and a discussion reply by ThreadId (SendDiscussionReplyMessage)
reach the handset from the number it wrote to, all in one thread."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed, make_signed
from tests.integration.dispatch.conftest import Running, eventually
from tests.integration.events.sink import Sink
from tidings.core import accounts
from tidings.simulator import Simulator

HANDSET = "+358401112224"
TRIGGER = {
    "name": "PowerAutomate (Auto Created Webhook)",
    "actionType": "HttpRequest",
    "description": "PowerAutomate auto-created webhook.",
    "options": {"endpointUrl": "", "httpVerb": "POST"},
}


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    receiver = Sink()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
async def other(running: Running) -> AsyncIterator[Signed]:
    account = await accounts.create_account(running.service.database, "Rival", region="FI")
    tenant = await make_signed(running, account)
    try:
        yield tenant
    finally:
        await tenant.http.aclose()


def simulator_of(signed: Signed) -> Simulator:
    simulator = signed.running.service.simulator
    assert simulator is not None
    return simulator


def reply_body(content: str, **fields: Any) -> dict[str, Any]:
    # The connector requires Sender and Recipients on a reply too; the parent decides both.
    return {
        "Sender": LONG_CODE,
        "Content": content,
        "Protocol": "SMS",
        "Recipients": [{"Address": HANDSET}],
        **fields,
    }


async def received_by_trigger(signed: Signed, sink: Sink, text: str) -> dict[str, Any]:
    """Subscribe New Message as Power Automate does; the handset writes; the event arrives."""
    trigger = {**TRIGGER, "options": {**TRIGGER["options"], "endpointUrl": f"{sink.url}/flow"}}
    subscribed = await signed.http.post(
        f"{BASE}/service/{signed.two_way.id}/pipelines/actions",
        headers={**signed.auth, "Customer": signed.account.id},
        json=trigger,
    )
    assert subscribed.status_code == 201, subscribed.text
    assert await simulator_of(signed).inject_inbound(HANDSET, LONG_CODE, text, timeout=30) == 1

    async def arrived() -> bool:
        return len(sink.received) == 1

    await eventually(arrived, "the New Message callback")
    event: dict[str, Any] = json.loads(sink.received[0].body)
    return event


async def on_handset(signed: Signed, texts: list[str]) -> None:
    simulator = simulator_of(signed)

    async def all_there() -> bool:
        return [m.text for m in simulator.inbox(HANDSET)] == texts

    await eventually(all_there, f"{texts} on the handset")
    senders = {m.sender.removeprefix("+") for m in simulator.inbox(HANDSET)}
    assert senders == {LONG_CODE.removeprefix("+")}


async def test_a_flow_replies_by_message_id_and_by_thread(signed: Signed, sink: Sink) -> None:
    event = await received_by_trigger(signed, sink, "Onko pöytä vapaana klo 18?")
    headers = {**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.two_way.id}

    reply = await signed.http.post(
        f"{BASE}/messages/reply/{event['messageId']}",
        headers=headers,
        json=reply_body("On, varaanko sen?", RequestId="reply-1"),
    )
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["MessagePartCount"] == 1
    assert answer["Recipients"] == [{"Address": HANDSET, "Id": answer["MessageId"]}]
    # The same RequestId again is the same reply, not a second one.
    again = await signed.http.post(
        f"{BASE}/messages/reply/{event['messageId']}",
        headers=headers,
        json=reply_body("On, varaanko sen?", RequestId="reply-1"),
    )
    assert again.json() == answer
    await on_handset(signed, ["On, varaanko sen?"])

    threads = (await signed.running.http.get("/v1/threads")).json()["data"]
    [thread] = threads
    discussion = await signed.http.post(
        f"{BASE}/messages/discussion/reply",
        headers={**signed.auth, "CustomerId": signed.account.id},
        json={"ThreadId": thread["id"], "Content": "Varattu, tervetuloa!"},
    )
    assert discussion.status_code == 200, discussion.text
    said = discussion.json()
    assert said["ThreadId"] == thread["id"]
    assert said["Recipients"] == [{"Address": HANDSET, "Id": said["MessageId"]}]
    await on_handset(signed, ["On, varaanko sen?", "Varattu, tervetuloa!"])

    # One conversation: the inbound message and both replies, in order.
    detail = (await signed.running.http.get(f"/v1/threads/{thread['id']}")).json()
    listed = detail["messages"]
    assert [(m["direction"], m["body"]) for m in listed] == [
        ("in", "Onko pöytä vapaana klo 18?"),
        ("out", "On, varaanko sen?"),
        ("out", "Varattu, tervetuloa!"),
    ]


async def test_replies_to_what_is_not_the_customers_are_not_found(
    signed: Signed, other: Signed, sink: Sink
) -> None:
    event = await received_by_trigger(signed, sink, "Hei")
    [thread] = (await signed.running.http.get("/v1/threads")).json()["data"]
    theirs = {**other.auth, "Customer-Id": other.account.id, "Service-Id": other.two_way.id}

    by_message = await other.http.post(
        f"{BASE}/messages/reply/{event['messageId']}", headers=theirs, json=reply_body("x")
    )
    assert by_message.status_code == 404, by_message.text
    assert by_message.json()["status"] == 404
    by_thread = await other.http.post(
        f"{BASE}/messages/discussion/reply",
        headers={**other.auth, "CustomerId": other.account.id},
        json={"ThreadId": thread["id"], "Content": "x"},
    )
    assert by_thread.status_code == 404, by_thread.text
    # Naming the other customer is refused too, whatever the ids.
    foreign = await other.http.post(
        f"{BASE}/messages/discussion/reply",
        headers={**other.auth, "CustomerId": signed.account.id},
        json={"ThreadId": thread["id"], "Content": "x"},
    )
    assert foreign.status_code in (403, 404), foreign.text

    missing = await signed.http.post(
        f"{BASE}/messages/discussion/reply",
        headers=signed.auth,
        json={"ThreadId": thread["id"], "Content": "x"},
    )
    assert missing.status_code == 400, missing.text
    assert "CustomerId" in missing.json()["errors"]
    unknown = await signed.http.post(
        f"{BASE}/messages/reply/01JNOSUCHMESSAGE0000000000",
        headers={**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.two_way.id},
        json=reply_body("x"),
    )
    assert unknown.status_code == 404, unknown.text
    assert simulator_of(signed).inbox(HANDSET) == []


async def test_a_reply_to_a_handset_that_opted_out_is_refused(signed: Signed, sink: Sink) -> None:
    event = await received_by_trigger(signed, sink, "Hei")
    simulator = simulator_of(signed)
    # STOP is answered with its confirmation; after it nothing else goes to the handset.
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "STOP", timeout=30) == 1

    async def confirmed() -> bool:
        return len(simulator.inbox(HANDSET)) == 1

    await eventually(confirmed, "the STOP confirmation")
    reply = await signed.http.post(
        f"{BASE}/messages/reply/{event['messageId']}",
        headers={**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.two_way.id},
        json=reply_body("Tarjous!"),
    )
    assert reply.status_code == 400, reply.text
    assert "Recipients[0].Address" in reply.json()["errors"]
