"""The SSRF guard at delivery time: refused targets die at once with the reason, unsent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tidings.events.outbox import DlrCallback, enqueue_dlr_callbacks
from tidings.store import outbox as store
from tidings.store.engine import Database

from .conftest import all_items, attempts, fast_settings, running_worker, settled, wait_until
from .sink import Sink


async def deliver_one(
    database: Database, database_url: str, account_id: str, url: str, **settings: object
) -> store.OutboxRecord:
    async with database.write() as connection:
        await enqueue_dlr_callbacks(
            connection,
            [
                DlrCallback(
                    account_id, url, "M1", "delivered", None, "+358401234567", datetime.now(UTC)
                )
            ],
        )
    async with running_worker(database, fast_settings(database_url, **settings)):
        await wait_until(lambda: settled(database), "the row to settle")
    [record] = await all_items(database)
    return record


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("10.0.0.1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("[fd00:ec2::254]", "a cloud metadata address"),
        ("[::1]", "a loopback address"),
        ("127.0.0.1", "a loopback address"),
        ("localhost", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("[fe80::1]", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
    ],
)
async def test_refused_targets_die_at_once_with_the_reason(
    database: Database, database_url: str, account_id: str, sink: Sink, host: str, reason: str
) -> None:
    url = f"http://{host}:{sink.port}/dlr"
    record = await deliver_one(
        database, database_url, account_id, url, webhook_allow_loopback=False
    )
    assert record.state == store.DEAD
    assert record.attempts == 1
    assert record.last_error is not None and reason in record.last_error
    [attempt] = await attempts(database, record.id)
    assert attempt.status_code is None and attempt.error == record.last_error
    assert sink.received == []


async def test_allowing_loopback_lets_localhost_through(
    database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    record = await deliver_one(
        database,
        database_url,
        account_id,
        f"http://localhost:{sink.port}/dlr",
        webhook_allow_loopback=True,
    )
    assert record.state == store.DELIVERED
    assert len(sink.received) == 1
    assert sink.received[0].headers["host"] == f"localhost:{sink.port}"


async def test_allowing_loopback_does_not_allow_private_networks(
    database: Database, database_url: str, account_id: str
) -> None:
    record = await deliver_one(
        database, database_url, account_id, "http://192.168.1.1/dlr", webhook_allow_loopback=True
    )
    assert record.state == store.DEAD
    assert record.last_error is not None and "a private address" in record.last_error
