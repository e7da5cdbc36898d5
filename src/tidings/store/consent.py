"""Channel consent rows (account, channel, sender, recipient); every function is scoped to
the owning account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import channel_consents as consents


async def record_consent(
    connection: AsyncConnection,
    account_id: str,
    *,
    channel: str,
    sender: str,
    recipient: str,
    opted_in: bool,
    at: datetime,
) -> None:
    """Keep only the latest choice (delete then insert: the same on SQLite and PostgreSQL)."""
    key = (
        (consents.c.account_id == account_id)
        & (consents.c.channel == channel)
        & (consents.c.sender == sender)
        & (consents.c.recipient == recipient)
    )
    await connection.execute(delete(consents).where(key))
    await connection.execute(
        insert(consents).values(
            account_id=account_id,
            channel=channel,
            sender=sender,
            recipient=recipient,
            opted_in=opted_in,
            updated_at=at,
        )
    )


async def opted_out_among(
    connection: AsyncConnection,
    account_id: str,
    *,
    channel: str,
    sender: str,
    recipients: Sequence[str],
) -> set[str]:
    """Which of ``recipients`` last opted out of ``channel`` from ``sender``."""
    if not recipients:
        return set()
    result = await connection.execute(
        select(consents.c.recipient).where(
            (consents.c.account_id == account_id)
            & (consents.c.channel == channel)
            & (consents.c.sender == sender)
            & consents.c.recipient.in_(list(recipients))
            & consents.c.opted_in.is_(False)
        )
    )
    return {row.recipient for row in result}
