"""Signed webhook POSTs: retries, one delivery per success, Standard Webhooks signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from tidings.errors import InvalidRequest, NotFound
from tidings.events import subscriptions
from tidings.events.outbox import Event, enqueue_events
from tidings.store import outbox as store
from tidings.store.engine import Database

from .conftest import all_items, attempts, fast_settings, running_worker, settled, wait_until
from .sink import Sink


def status_event(account_id: str, message_id: str = "M1") -> Event:
    return Event(
        account_id=account_id,
        type="message.status",
        data={"message_id": message_id, "status": "delivered"},
        occurred_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )


async def test_an_endpoint_failing_twice_gets_the_event_once_with_a_valid_signature(
    database: Database, database_url: str, account_id: str
) -> None:
    sink = Sink(answer=lambda number: 500 if number <= 2 else 204)
    await sink.start()
    try:
        subscription = await subscriptions.create_subscription(
            database, account_id, f"{sink.url}/hooks", ["message.status"]
        )
        async with database.write() as connection:
            assert await enqueue_events(connection, [status_event(account_id)]) == 1
        async with running_worker(database, fast_settings(database_url)):
            await wait_until(lambda: settled(database), "the webhook")
    finally:
        await sink.stop()

    assert len(sink.received) == 3
    ids = {request.headers["webhook-id"] for request in sink.received}
    assert len(ids) == 1  # the same id on every retry, so a receiver can dedupe
    receiver = Webhook(subscription.secret)
    for request in sink.received:
        assert request.method == "POST"
        assert request.target == "/hooks"
        assert request.headers["content-type"] == "application/json"
        payload = receiver.verify(request.body, request.headers)
        assert payload == {
            "type": "message.status",
            "timestamp": "2026-11-24T09:00:00.000Z",
            "data": {"message_id": "M1", "status": "delivered"},
        }
    [record] = await all_items(database)
    assert record.state == store.DELIVERED and record.attempts == 3
    assert [a.status_code for a in await attempts(database, record.id)] == [500, 500, 204]
    [delivery] = await subscriptions.list_deliveries(database, account_id, subscription.id)
    assert delivery.item.id == record.id
    assert [a.error for a in delivery.attempts] == ["HTTP 500", "HTTP 500", None]


async def test_a_tampered_body_fails_verification(
    database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    subscription = await subscriptions.create_subscription(database, account_id, sink.url, ["*"])
    async with database.write() as connection:
        await enqueue_events(connection, [status_event(account_id)])
    async with running_worker(database, fast_settings(database_url)):
        await wait_until(lambda: settled(database), "the webhook")
    [request] = sink.received
    tampered = json.loads(request.body)
    tampered["data"]["status"] = "failed"
    with pytest.raises(Exception, match="signature"):
        Webhook(subscription.secret).verify(json.dumps(tampered), request.headers)


async def test_events_reach_only_subscribers_of_their_type_and_account(
    database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    from tidings.core import accounts

    other = await accounts.create_account(database, "Other", region="FI")
    await subscriptions.create_subscription(
        database, account_id, f"{sink.url}/a", ["optout.received"]
    )
    await subscriptions.create_subscription(
        database, account_id, f"{sink.url}/b", ["message.status"]
    )
    await subscriptions.create_subscription(database, other.id, f"{sink.url}/c", ["*"])
    async with database.write() as connection:
        assert await enqueue_events(connection, [status_event(account_id)]) == 1
    async with running_worker(database, fast_settings(database_url)):
        await wait_until(lambda: settled(database), "the webhook")
    assert [request.target for request in sink.received] == ["/b"]


async def test_a_deleted_subscription_gets_nothing_more(
    database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    subscription = await subscriptions.create_subscription(
        database, account_id, sink.url, ["message.status"]
    )
    async with database.write() as connection:
        await enqueue_events(connection, [status_event(account_id)])
    await subscriptions.delete_subscription(database, account_id, subscription.id)
    async with running_worker(database, fast_settings(database_url)):
        await wait_until(lambda: settled(database), "the row to die")
    assert sink.received == []
    [record] = await all_items(database)
    assert record.state == store.DEAD
    assert record.last_error == "the webhook subscription was deleted"
    with pytest.raises(NotFound):
        await subscriptions.get_subscription(database, account_id, subscription.id)


async def test_subscriptions_are_private_to_their_account(
    database: Database, account_id: str
) -> None:
    from tidings.core import accounts

    other = await accounts.create_account(database, "Other", region="FI")
    subscription = await subscriptions.create_subscription(
        database, account_id, "https://hooks.example.com/x", ["message.status"]
    )
    assert await subscriptions.list_subscriptions(database, other.id) == []
    with pytest.raises(NotFound):
        await subscriptions.get_subscription(database, other.id, subscription.id)
    with pytest.raises(NotFound):
        await subscriptions.delete_subscription(database, other.id, subscription.id)
    with pytest.raises(NotFound):
        await subscriptions.list_deliveries(database, other.id, subscription.id)
    assert [s.id for s in await subscriptions.list_subscriptions(database, account_id)] == [
        subscription.id
    ]


@pytest.mark.parametrize(
    ("url", "events", "secret", "field"),
    [
        ("ftp://hooks.example.com/", ["message.status"], None, "url"),
        ("https:///nohost", ["message.status"], None, "url"),
        ("https://hooks.example.com/", [], None, "events"),
        ("https://hooks.example.com/", ["message.teleported"], None, "events"),
        ("https://hooks.example.com/", ["*"], "not-a-secret", "secret"),
        ("https://hooks.example.com/", ["*"], "whsec_c2hvcnQ=", "secret"),
    ],
)
async def test_invalid_subscriptions_are_refused_with_the_field(
    database: Database,
    account_id: str,
    url: str,
    events: list[str],
    secret: str | None,
    field: str,
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        await subscriptions.create_subscription(database, account_id, url, events, secret=secret)
    assert raised.value.field == field
    assert await subscriptions.list_subscriptions(database, account_id) == []


async def test_a_subscription_names_a_known_payload_format(
    database: Database, account_id: str, sink: Sink
) -> None:
    with pytest.raises(InvalidRequest, match="payload format"):
        await subscriptions.create_subscription(
            database, account_id, sink.url, ["*"], payload_format="no-such-format"
        )
    created = await subscriptions.create_subscription(database, account_id, sink.url, ["*"])
    assert created.payload_format == "native"
