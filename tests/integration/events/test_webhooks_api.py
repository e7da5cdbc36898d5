"""``/v1/webhooks`` over the real app: Location-based delete, deliveries, isolation, replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks import Webhook

from tidings.api import create_app
from tidings.api.v1 import webhooks
from tidings.core import accounts
from tidings.events.outbox import Event, enqueue_events
from tidings.store.engine import Database

from .conftest import fast_settings, running_worker, settled, wait_until
from .sink import Sink


@pytest.fixture
async def api(database: Database, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(fast_settings(database_url), database=database, routers=[webhooks.router])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tidings.test") as http:
            yield http


async def bearer(database: Database, account_id: str) -> dict[str, str]:
    created = await accounts.create_api_key(database, account_id)
    return {"Authorization": f"Bearer {created.secret}"}


async def test_subscribe_receive_inspect_replay_and_delete_by_location(
    api: httpx.AsyncClient, database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    auth = await bearer(database, account_id)
    created = await api.post(
        "/v1/webhooks", json={"url": f"{sink.url}/in", "events": ["message.status"]}, headers=auth
    )
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    subscription = created.json()
    assert location == f"/v1/webhooks/{subscription['id']}"
    assert subscription["secret"].startswith("whsec_")

    listed = (await api.get("/v1/webhooks", headers=auth)).json()["webhooks"]
    assert [entry["id"] for entry in listed] == [subscription["id"]]
    assert "secret" not in listed[0]

    async with database.write() as connection:
        await enqueue_events(
            connection,
            [Event(account_id, "message.status", {"message_id": "M1"}, datetime.now(UTC))],
        )
    async with running_worker(database, fast_settings(database_url)):
        await wait_until(lambda: settled(database), "the webhook")
        deliveries = (await api.get(f"{location}/deliveries", headers=auth)).json()["deliveries"]
        [delivery] = deliveries
        assert delivery["state"] == "delivered"
        assert [a["status_code"] for a in delivery["attempts"]] == [200]
        assert sink.received[0].headers["webhook-id"] == delivery["id"]
        Webhook(subscription["secret"]).verify(sink.received[0].body, sink.received[0].headers)

        replayed = await api.post(f"{location}/deliveries/{delivery['id']}/replay", headers=auth)
        assert replayed.status_code == 202
        await wait_until(lambda: _count(sink, 2), "the replay")
        await wait_until(lambda: settled(database), "the replay to be recorded")
    assert sink.received[1].headers["webhook-id"] == delivery["id"]

    assert (await api.delete(location, headers=auth)).status_code == 204
    assert (await api.get(location, headers=auth)).status_code == 404
    assert (await api.delete(location, headers=auth)).status_code == 404


async def _count(sink: Sink, count: int) -> bool:
    return len(sink.received) >= count


async def test_another_account_can_neither_see_nor_delete_a_subscription(
    api: httpx.AsyncClient, database: Database, account_id: str
) -> None:
    owner = await bearer(database, account_id)
    other_account = await accounts.create_account(database, "Other", region="FI")
    other = await bearer(database, other_account.id)
    created = await api.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.com/x", "events": ["*"]},
        headers=owner,
    )
    location = created.headers["location"]
    assert (await api.get(location, headers=other)).status_code == 404
    assert (await api.get(f"{location}/deliveries", headers=other)).status_code == 404
    assert (await api.delete(location, headers=other)).status_code == 404
    assert (await api.get("/v1/webhooks", headers=other)).json() == {"webhooks": []}
    assert (await api.get(location, headers=owner)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "gopher://example.com/", "events": ["*"]}, "url"),
        ({"url": "http://169.254.169.254/", "events": ["*"]}, "url"),
        ({"url": "https://example.com/", "events": ["nope"]}, "events"),
        ({"url": "https://example.com/", "events": ["*"], "secret": "plain"}, "secret"),
    ],
)
async def test_invalid_subscriptions_get_problem_details(
    api: httpx.AsyncClient,
    database: Database,
    account_id: str,
    body: dict[str, object],
    field: str,
) -> None:
    answer = await api.post("/v1/webhooks", json=body, headers=await bearer(database, account_id))
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [error["path"] for error in answer.json()["errors"]] == [field]
