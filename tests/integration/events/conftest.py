"""Fixtures for the outbox tests: a migrated database, an account, a receiver, a fast worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tidings.config import Settings
from tidings.core import accounts
from tidings.events.delivery import OutboxWorker
from tidings.store import outbox as store
from tidings.store.engine import Database

from .sink import Sink


def fast_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings whose retries come within milliseconds, so a test sees several of them."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "webhook_allow_loopback": True,
        "webhook_backoff_base_seconds": 0.01,
        "webhook_backoff_cap_seconds": 0.05,
        "webhook_timeout_seconds": 5.0,
        "outbox_poll_seconds": 0.02,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def account_id(database: Database) -> str:
    account = await accounts.create_account(database, "Acme", region="FI")
    return account.id


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    receiver = Sink()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@asynccontextmanager
async def running_worker(
    database: Database, settings: Settings, **options: Any
) -> AsyncIterator[OutboxWorker]:
    worker = OutboxWorker(database, settings, **options)
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(30.0):
            # The state lives in the database; polling it is the only way to watch it.
            while not await condition():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


async def item(database: Database, outbox_id: str) -> store.OutboxRecord:
    async with database.read() as connection:
        record = await store.get_item(connection, outbox_id)
    assert record is not None
    return record


async def all_items(database: Database) -> list[store.OutboxRecord]:
    async with database.read() as connection:
        return await store.list_items(connection, limit=100_000)


async def attempts(database: Database, outbox_id: str) -> list[store.AttemptRecord]:
    async with database.read() as connection:
        return await store.list_attempts(connection, [outbox_id])


async def settled(database: Database) -> bool:
    """True once no row is waiting for a delivery."""
    return all(record.state != store.PENDING for record in await all_items(database))
