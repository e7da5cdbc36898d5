"""Paged expansion: resumed after a restart, stopped by a cancel, shared by two runners."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.integration.campaigns.conftest import campaign_settings, eventually, running_service
from tidings.core import campaigns, contacts, lists
from tidings.core.accounts import create_account
from tidings.core.campaigns import CampaignRunner, CampaignSpec
from tidings.core.setup import prepare_database
from tidings.dispatch.transports import default_transports
from tidings.store.engine import Database
from tidings.store.models import messages
from tidings.store.records import AccountRecord


async def _audience(database: Database, account: AccountRecord, size: int) -> tuple[str, list[str]]:
    """A list of ``size`` new contacts named C0, C1, ...; returns its id and their numbers."""
    created = await lists.create_list(database, account, "Everyone")
    phones = [f"+35840300{i:04d}" for i in range(size)]
    ids = [
        (await contacts.create_contact(database, account, {"phone": p, "first_name": f"C{i}"})).id
        for i, p in enumerate(phones)
    ]
    await lists.add_members(database, account, created.id, ids)
    return created.id, phones


async def _recipients(database: Database, campaign_id: str) -> list[str]:
    async with database.read() as connection:
        rows = await connection.execute(
            select(messages.c.recipient).where(messages.c.campaign_id == campaign_id)
        )
        return [str(row[0]) for row in rows]


async def test_expansion_resumes_after_a_restart_and_sends_nobody_twice(
    tmp_path: Path, database_url: str
) -> None:
    settings = campaign_settings(tmp_path, database_url)
    database = Database.from_url(database_url)
    try:
        await prepare_database(database, settings, default_transports())
        account = await create_account(database, "Acme", region="FI")
        list_id, phones = await _audience(database, account, 25)
        created = await campaigns.create_campaign(
            database,
            account,
            CampaignSpec(
                name="Resumed",
                body="Hi {first_name}",
                sender="Tidings",
                targets=[phones[3]],
                list_ids=[list_id],
            ),
        )
        campaign_id = created.campaign.id
        # A runner that died after the targets page and one page of ten members, its lease
        # still recorded (it expires after a second; on SQLite a start releases it at once).
        for _ in range(2):
            assert await campaigns.expand_page(
                database, campaign_id, owner="gone", page_rows=10, lease=timedelta(seconds=1)
            )
        assert len(await _recipients(database, campaign_id)) == 10
    finally:
        await database.close()

    async with running_service(settings, account=account) as running:

        async def completed() -> bool:
            detail = await campaigns.get_campaign(running.service.database, account, campaign_id)
            return detail.campaign.status == "completed"

        await eventually(completed, "the resumed campaign to complete")
        detail = await campaigns.get_campaign(running.service.database, account, campaign_id)
        simulator = running.service.simulator
        assert simulator is not None
        for i, phone in enumerate(phones):
            # phones[3] is a target as well as a member: one message, with its contact's name.
            assert [m.text for m in simulator.inbox(phone)] == [f"Hi C{i}"], phone
        recipients = await _recipients(running.service.database, campaign_id)

    assert sorted(recipients) == sorted(phones)
    assert detail.counts.targets == 26
    assert detail.counts.invalid == {"duplicate": 1}
    assert detail.counts.delivered + detail.counts.failed == 25


async def test_a_cancel_stops_the_expansion_and_cancels_what_waits(database: Database) -> None:
    account = await create_account(database, "Acme", region="FI")
    list_id, _phones = await _audience(database, account, 12)
    created = await campaigns.create_campaign(
        database,
        account,
        CampaignSpec(name="Stopped", body="x", sender="Tidings", list_ids=[list_id]),
    )
    campaign_id = created.campaign.id
    # The (empty) targets page, then five members.
    for _ in range(2):
        assert await campaigns.expand_page(database, campaign_id, owner="me", page_rows=5)

    cancelled = await campaigns.cancel_campaign(database, account, campaign_id)

    assert cancelled.campaign.status == "cancelled"
    assert (cancelled.counts.cancelled, cancelled.counts.queued) == (5, 0)
    assert not await campaigns.expand_page(database, campaign_id, owner="me", page_rows=5)
    assert len(await _recipients(database, campaign_id)) == 5


async def test_two_runners_share_a_campaign_without_duplicates(database: Database) -> None:
    account = await create_account(database, "Acme", region="FI")
    list_id, phones = await _audience(database, account, 40)
    created = await campaigns.create_campaign(
        database,
        account,
        CampaignSpec(name="Shared", body="x", sender="Tidings", list_ids=[list_id]),
    )
    runners = [
        CampaignRunner(database, shared_database=True, page_rows=7, lease=timedelta(seconds=30))
        for _ in range(2)
    ]

    async def expanded() -> bool:
        await asyncio.gather(*(runner.run_once() for runner in runners))
        detail = await campaigns.get_campaign(database, account, created.campaign.id)
        return detail.campaign.expanded_at is not None

    await eventually(expanded, "the campaign to be expanded")

    recipients = await _recipients(database, created.campaign.id)
    assert sorted(recipients) == phones
    async with database.read() as connection:
        total = (await connection.execute(select(func.count()).select_from(messages))).scalar()
    assert total == 40
