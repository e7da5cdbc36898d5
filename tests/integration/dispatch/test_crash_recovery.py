"""The crash rule: a message a dead dispatcher left in ``submitting`` goes back to the queue at
the next start and is submitted again, except for the parts already recorded as sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.dispatch.conftest import eventually, running_service, service_settings
from tidings.config import Settings
from tidings.core import accounts, messaging
from tidings.core.setup import prepare_database
from tidings.dispatch.transports import default_transports
from tidings.store import dispatch as dispatch_store
from tidings.store.engine import Database
from tidings.store.models import messages
from tidings.store.records import AccountRecord

SINGLE = ["+358401234567", "+358401234568"]
LONG_TO = "+358401234569"
LONG_BODY = "Tervetuloa! " * 17  # 204 GSM characters: two parts
DEAD_DISPATCHER = "crashed-host-4242-abcdef"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return service_settings(tmp_path, database_url)


@pytest.fixture
async def prepared(settings: Settings) -> AsyncIterator[tuple[Database, AccountRecord]]:
    """A migrated database with an account, before any service has started on it."""
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        account = await accounts.create_account(database, "Acme", region="FI")
        yield database, account
    finally:
        await database.close()


async def accept(database: Database, account: AccountRecord, to: list[str], body: str) -> list[str]:
    result = await messaging.accept_messages(
        database, account, messaging.SendRequest(to=to, sender="Tidings", body=body)
    )
    ids = [r.id for r in result.recipients]
    assert None not in ids, result
    return [i for i in ids if i is not None]


async def claim_as(
    database: Database, dispatcher_id: str, *, lease: timedelta
) -> list[dispatch_store.ClaimedMessage]:
    now = datetime.now(UTC)
    async with database.write() as connection:
        return await dispatch_store.claim_due(
            connection, dispatcher_id=dispatcher_id, limit=100, now=now, lease_until=now + lease
        )


async def test_claims_of_a_dead_dispatcher_are_resubmitted_and_delivered(
    settings: Settings, prepared: tuple[Database, AccountRecord]
) -> None:
    database, account = prepared
    single_ids = await accept(database, account, SINGLE, "Hei maailma")
    [long_id] = await accept(database, account, [LONG_TO], LONG_BODY)
    # The dead process claimed everything and got as far as recording part 1 of the long one.
    claimed = await claim_as(database, DEAD_DISPATCHER, lease=timedelta(seconds=-1))
    assert sorted(m.id for m in claimed) == sorted([*single_ids, long_id])
    async with database.write() as connection:
        await dispatch_store.insert_parts(
            connection,
            [
                {
                    "message_id": long_id,
                    "seq": 1,
                    "status": "sent",
                    "smsc_message_id": "dead0001",
                    "error_code": None,
                    "submitted_at": datetime.now(UTC),
                    "done_at": None,
                }
            ],
        )
        left = await dispatch_store.message_statuses_of(connection, [*single_ids, long_id])
    assert set(left.values()) == {"submitting"}
    await database.close()

    async with running_service(settings, account=account) as running:
        for message_id in single_ids:
            message = await running.wait_for(message_id)
            assert message["status"] == "delivered"
            assert message["attempts"] == 2
            history = message["history"]
            assert [entry["status"] for entry in history] == [
                "queued",
                "queued",
                "sent",
                "delivered",
            ]
            assert "dispatcher stopped while submitting" in history[1]["detail"]

        async def second_part_delivered() -> bool:
            parts = (await running.message(long_id))["parts"]
            return len(parts) == 2 and parts[1]["status"] == "delivered"

        await eventually(second_part_delivered, "part 2 of the long message to be delivered")
        long_message = await running.message(long_id)
        first, second = long_message["parts"]
        # Part 1 stays as the dead dispatcher recorded it: it is not sent again.
        assert (first["status"], first["smsc_message_id"]) == ("sent", "dead0001")
        assert second["smsc_message_id"] not in (None, "dead0001")
        # Its receipt never comes (that SMSC id is unknown here), so the message is still sent.
        assert long_message["status"] == "sent"
        simulator = running.service.simulator
        assert simulator is not None
        assert simulator.stats.submits == 3  # two single-part messages and part 2
        assert simulator.inbox(LONG_TO) == []  # the handset waits for part 1 of 2


async def test_a_live_dispatchers_claim_is_left_alone_on_postgresql(
    settings: Settings, prepared: tuple[Database, AccountRecord]
) -> None:
    database, account = prepared
    if database.dialect != "postgresql":
        pytest.skip("SQLite has one dispatcher, whose restart releases every claim")
    [held_id] = await accept(database, account, ["+358401234567"], "Hei maailma")
    await claim_as(database, "another-live-dispatcher", lease=timedelta(minutes=2))
    await database.close()

    async with running_service(settings, account=account) as running:
        fresh_id = await running.send_one("+358401234568")
        assert (await running.wait_for(fresh_id))["status"] == "delivered"
        async with running.service.database.read() as connection:
            row = (
                await connection.execute(
                    select(messages.c.status, messages.c.claimed_by).where(messages.c.id == held_id)
                )
            ).one()
        assert tuple(row) == ("submitting", "another-live-dispatcher")
        assert running.service.simulator is not None
        assert running.service.simulator.inbox("+358401234567") == []
