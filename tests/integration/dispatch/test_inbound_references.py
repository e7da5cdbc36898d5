"""Carriers' ids of inbound messages (``inbound_references``) over a real database: kept while
a carrier may send the message again, pruned after the retention, and a message older than
the references kept is not stored, since it could no longer be told from one stored before."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tests.integration.dispatch.conftest import service_settings
from tidings.core import accounts, inbound_references
from tidings.core.channels import Channel
from tidings.core.setup import prepare_database
from tidings.dispatch.outcomes import InboundOutcome
from tidings.dispatch.transports import default_transports
from tidings.dispatch.writer import StatusWriter
from tidings.store import dispatch as dispatch_store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.models import inbound_references as references_table
from tidings.store.models import messages

RETENTION = timedelta(days=14)


async def _references(database: Database) -> set[str]:
    async with database.read() as connection:
        found = await connection.execute(select(references_table.c.reference))
        return set(found.scalars())


async def test_references_older_than_the_retention_are_pruned_and_recent_ones_kept(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        account = await accounts.create_account(database, "Acme", region="FI")
        other = await accounts.create_account(database, "Other", region="FI")
        now = datetime.now(UTC)
        ages = {
            "whatsapp:wamid.a-month": timedelta(days=30),
            "whatsapp:wamid.three-weeks": timedelta(days=21),
            "whatsapp:wamid.fifteen-days": timedelta(days=15),
            # Within Meta's 7 days of retries, and the week after them.
            "whatsapp:wamid.thirteen-days": timedelta(days=13),
            "whatsapp:wamid.an-hour": timedelta(hours=1),
        }
        async with database.write() as connection:
            await dispatch_store.insert_inbound_references(
                connection,
                [
                    {
                        "reference": reference,
                        "account_id": owner.id,
                        "message_id": new_id(),
                        "received_at": now - age,
                    }
                    for reference, age in ages.items()
                    # The same wamid may be two accounts' (a number moved between them).
                    for owner in (account, other)
                ],
            )
        # Two at a time: the pruning goes on until a batch is not full.
        removed = await inbound_references.prune(database, retention=RETENTION, now=now, batch=2)
        assert removed == 6
        assert await _references(database) == {
            "whatsapp:wamid.thirteen-days",
            "whatsapp:wamid.an-hour",
        }
        # Nothing more to prune: nothing changes.
        assert await inbound_references.prune(database, retention=RETENTION, now=now) == 0
        async with database.read() as connection:
            known = await dispatch_store.known_inbound_references(
                connection,
                [(account.id, "whatsapp:wamid.an-hour"), (other.id, "whatsapp:wamid.an-hour")],
            )
        assert known == {
            (account.id, "whatsapp:wamid.an-hour"),
            (other.id, "whatsapp:wamid.an-hour"),
        }
    finally:
        await database.close()


async def test_a_message_older_than_the_references_kept_is_not_stored(
    tmp_path: Path, database_url: str
) -> None:
    """Its reference may be pruned already: stored, it could be a second copy. A recent one
    is stored once, however often it comes."""
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        account = await accounts.create_account(database, "Acme", region="FI")
        now = datetime.now(UTC)

        def inbound(reference: str, at: datetime) -> InboundOutcome:
            return InboundOutcome(
                account.id,
                "+358401234561",
                "+358409990100",
                f"sent at {at.isoformat()}",
                "utf8",
                1,
                at,
                channel=Channel.WHATSAPP,
                reference=reference,
            )

        writer = StatusWriter(database, references_kept_for=RETENTION)
        writer.start()
        old = inbound("whatsapp:wamid.old", now - timedelta(days=15))
        recent = inbound("whatsapp:wamid.recent", now - timedelta(days=6))
        await asyncio.wait_for(asyncio.gather(writer.inbound(old), writer.inbound(recent)), 30)
        await asyncio.wait_for(asyncio.gather(writer.inbound(old), writer.inbound(recent)), 30)
        await writer.stop()
        async with database.read() as connection:
            bodies = list(
                (
                    await connection.execute(
                        select(messages.c.body).where(messages.c.account_id == account.id)
                    )
                ).scalars()
            )
        assert bodies == [recent.body]
        assert await _references(database) == {"whatsapp:wamid.recent"}
    finally:
        await database.close()
