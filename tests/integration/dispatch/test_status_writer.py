"""The status writer over a real database: a flood of submit outcomes is written in short
transactions, and each receipt is committed with (or after) the submit it reports on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tests.integration.dispatch.conftest import eventually, service_settings
from tidings.core import accounts, messaging
from tidings.core.lifecycle import MessageStatus
from tidings.core.setup import prepare_database
from tidings.dispatch.outcomes import ReceiptOutcome, SubmitOutcome
from tidings.dispatch.writer import StatusWriter
from tidings.smpp.receipts import ReceiptState
from tidings.store import dispatch as dispatch_store
from tidings.store.engine import Database
from tidings.store.models import messages


async def test_receipts_follow_their_submits_across_short_transactions(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings)
        account = await accounts.create_account(database, "Acme", region="FI")
        to = [f"+3584012{n:05d}" for n in range(1, 41)]
        await messaging.accept_messages(
            database, account, messaging.SendRequest(to=to, sender="Tidings", body="Hei")
        )
        now = datetime.now(UTC)
        async with database.write() as connection:
            claimed = await dispatch_store.claim_due(
                connection,
                dispatcher_id="test",
                limit=100,
                now=now,
                lease_until=now + timedelta(minutes=1),
            )
        assert len(claimed) == len(to)

        commits = 0
        real_write = database.write

        def counting_write():  # type: ignore[no-untyped-def]
            nonlocal commits
            commits += 1
            return real_write()

        database.write = counting_write  # type: ignore[method-assign]
        writer = StatusWriter(database, max_batch=7)
        # Everything arrives before the writer runs: 40 submit outcomes, then every receipt,
        # including those for submits that only the last of the short transactions will write.
        for n, message in enumerate(claimed):
            writer.submit_outcome(
                SubmitOutcome(message, MessageStatus.SENT, now, sent=[(1, f"smsc-{n}")])
            )
        acks = [
            writer.receipt(ReceiptOutcome(f"smsc-{n}", ReceiptState.DELIVRD, None, now))
            for n in range(len(claimed))
        ]
        writer.start()
        await asyncio.wait_for(asyncio.gather(*acks), 30)
        database.write = real_write  # type: ignore[method-assign]
        # Once acknowledged, a receipt is committed: none was parked to wait for its submit.
        async with database.read() as connection:
            statuses = (await connection.execute(select(messages.c.status))).scalars().all()
        await writer.stop()
    finally:
        await database.close()
    assert statuses == ["delivered"] * len(to)
    assert commits == 6  # ceil(40 / 7) transactions, receipts riding along with their submits


async def test_a_receipt_that_overtook_its_submit_survives_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings)
        account = await accounts.create_account(database, "Acme", region="FI")
        await messaging.accept_messages(
            database,
            account,
            messaging.SendRequest(to=["+358401234567"], sender="Tidings", body="Hei"),
        )
        now = datetime.now(UTC)
        async with database.write() as connection:
            [message] = await dispatch_store.claim_due(
                connection,
                dispatcher_id="test",
                limit=10,
                now=now,
                lease_until=now + timedelta(minutes=1),
            )

        # The receipt comes first and is acknowledged; then the process stops before the
        # submit response is written.
        first = StatusWriter(database)
        first.start()
        await asyncio.wait_for(
            first.receipt(ReceiptOutcome("smsc-early", ReceiptState.DELIVRD, None, now)), 10
        )
        await first.stop()
        async with database.read() as connection:
            assert len(await dispatch_store.list_parked_receipts(connection)) == 1

        # After the restart the submit outcome is written; the parked receipt finds its part.
        second = StatusWriter(database)
        second.start()
        second.submit_outcome(
            SubmitOutcome(message, MessageStatus.SENT, now, sent=[(1, "smsc-early")])
        )

        async def delivered() -> bool:
            async with database.read() as connection:
                status = (
                    await connection.execute(
                        select(messages.c.status).where(messages.c.id == message.id)
                    )
                ).scalar_one()
            return bool(status == "delivered")

        await eventually(delivered, "the parked receipt to deliver the message")
        await second.stop()
        async with database.read() as connection:
            assert await dispatch_store.list_parked_receipts(connection) == []
    finally:
        await database.close()
