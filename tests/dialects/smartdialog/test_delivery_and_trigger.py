"""A SmartDialog send reaches the handset and calls its DlrUrl; the New Message trigger, subscribed
the way Power Automate does it, hears inbound messages until its Location is deleted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed
from tests.integration.dispatch.conftest import eventually
from tests.integration.events.sink import Sink
from tidings.core import routing
from tidings.store import outbox as outbox_store

HANDSET = "+358401112223"
OTHER_NUMBER = "+358409999990"


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    receiver = Sink()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


async def test_a_send_is_delivered_and_its_dlr_url_called(signed: Signed, sink: Sink) -> None:
    headers = {**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.one_way.id}
    body = {
        "Sender": LONG_CODE,
        "Content": "Tilauksesi on valmis",
        "Protocol": "SMS",
        "Recipients": [{"Address": HANDSET}],
        "DlrUrl": f"{sink.url}/dlr?ref=abc&site=2",
        "RequestId": "order-77",
    }
    sent = await signed.http.post(f"{BASE}/messages", headers=headers, json=body)
    assert sent.status_code == 200, sent.text
    answer = sent.json()
    assert answer["MessagePartCount"] == 1
    assert answer["Recipients"] == [{"Address": HANDSET, "Id": answer["MessageId"]}]
    simulator = signed.running.service.simulator
    assert simulator is not None

    async def on_handset() -> bool:
        return [m.text for m in simulator.inbox(HANDSET)] == ["Tilauksesi on valmis"]

    await eventually(on_handset, "the message on the handset")

    async def called_back() -> bool:
        return any(
            parse_qs(urlsplit(r.target).query).get("status") == ["delivered"] for r in sink.received
        )

    await eventually(called_back, "the delivered DLR callback")
    [request] = [
        r
        for r in sink.received
        if parse_qs(urlsplit(r.target).query).get("status") == ["delivered"]
    ]
    assert request.method == "GET"
    query = parse_qs(urlsplit(request.target).query)
    assert query["ref"] == ["abc"] and query["site"] == ["2"]  # the customer's own values kept
    assert query["message_id"] == [answer["MessageId"]]

    # The same RequestId again answers the first send and sends nothing more.
    again = await signed.http.post(f"{BASE}/messages", headers=headers, json=body)
    assert again.status_code == 200, again.text
    assert again.json() == answer
    listed = await signed.running.http.get("/v1/messages")
    assert len(listed.json()["data"]) == 1


async def test_a_request_id_of_a_thousand_characters_deduplicates(signed: Signed) -> None:
    headers = {**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.one_way.id}
    body = {
        "Sender": LONG_CODE,
        "Content": "Kerran vain",
        "Protocol": "SMS",
        "Recipients": [{"Address": HANDSET}],
        # The connector allows up to 1,000 characters.
        "RequestId": "order-" + "7" * 994,
    }
    sent = await signed.http.post(f"{BASE}/messages", headers=headers, json=body)
    assert sent.status_code == 200, sent.text
    again = await signed.http.post(f"{BASE}/messages", headers=headers, json=body)
    assert again.status_code == 200, again.text
    assert again.json() == sent.json()
    listed = await signed.running.http.get("/v1/messages")
    assert len(listed.json()["data"]) == 1


async def test_a_scheduled_send_waits(signed: Signed) -> None:
    headers = {**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.one_way.id}
    body = {
        "Sender": LONG_CODE,
        "Content": "Huomenna",
        "Protocol": "SMS",
        "SendDateTime": "2099-01-01T09:00:00+02:00",
        "Recipients": [{"Address": HANDSET}],
    }
    sent = await signed.http.post(f"{BASE}/messages", headers=headers, json=body)
    assert sent.status_code == 200, sent.text
    message = await signed.running.message(sent.json()["MessageId"])
    assert message["status"] == "scheduled"


async def test_the_new_message_trigger_until_it_is_deleted(signed: Signed, sink: Sink) -> None:
    simulator = signed.running.service.simulator
    assert simulator is not None
    subscribe = await signed.http.post(
        f"{BASE}/service/{signed.two_way.id}/pipelines/actions",
        headers={**signed.auth, "Customer": signed.account.id},
        json={
            "name": "PowerAutomate (Auto Created Webhook)",
            "actionType": "HttpRequest",
            "description": "PowerAutomate auto-created webhook.",
            "options": {"endpointUrl": f"{sink.url}/flow?sig=xyz", "httpVerb": "POST"},
        },
    )
    assert subscribe.status_code == 201, subscribe.text
    location = subscribe.headers["location"]
    action_id = subscribe.json()["id"]
    assert location == (
        f"{signed.http.base_url}".rstrip("/")
        + f"{BASE}/pipelines/{signed.two_way.id}/actions/{action_id}"
    )

    # A number of the account that is not the service's: not this trigger's message.
    await routing.add_sender(signed.running.service.database, signed.account, OTHER_NUMBER)
    assert await simulator.inject_inbound(HANDSET, OTHER_NUMBER, "Väärä numero", timeout=30) == 1
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Kyllä, sopii", timeout=30) == 1

    async def arrived() -> bool:
        return len(sink.received) == 1

    await eventually(arrived, "the New Message callback")
    async with signed.running.service.database.read() as connection:
        queued = await outbox_store.list_items(connection, limit=100)
    assert ["Kyllä, sopii" in (i.body or "") for i in queued] == [True]
    [request] = sink.received
    assert request.method == "POST"
    assert request.target == "/flow?sig=xyz"
    event = json.loads(request.body)
    assert set(event) == {
        "sender",
        "recipient",
        "content",
        "timestamp",
        "protocol",
        "attachments",
        "messageId",
    }
    assert (event["sender"], event["recipient"], event["content"]) == (
        HANDSET,
        LONG_CODE,
        "Kyllä, sopii",
    )
    assert (event["protocol"], event["attachments"]) == ("SMS", [])
    inbound = await signed.running.message(event["messageId"])
    assert inbound["direction"] == "in"

    deleted = await signed.http.delete(location, headers=signed.auth)
    assert deleted.status_code == 204, deleted.text
    again = await signed.http.delete(location, headers=signed.auth)
    assert again.status_code == 404

    # Stored (and its events queued) in one transaction before the SMSC gets its answer.
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Vielä yksi", timeout=30) == 1
    async with signed.running.service.database.read() as connection:
        items = await outbox_store.list_items(connection, limit=100)
    bodies = [i.body for i in items if i.body is not None]
    assert not [b for b in bodies if "Vielä yksi" in b]
    assert len(sink.received) == 1
