"""Recipient limits of webhook subscriptions: a subscription with some hears only events about
messages to those numbers; one without any hears all of its account's."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import subscription_recipients


async def limit_to_recipients(
    connection: AsyncConnection, subscription_id: str, addresses: Sequence[str]
) -> None:
    if addresses:
        await connection.execute(
            insert(subscription_recipients),
            [{"subscription_id": subscription_id, "address": a} for a in dict.fromkeys(addresses)],
        )


async def recipient_limits(
    connection: AsyncConnection, subscription_ids: Collection[str]
) -> dict[str, set[str]]:
    if not subscription_ids:
        return {}
    result = await connection.execute(
        select(subscription_recipients.c.subscription_id, subscription_recipients.c.address).where(
            subscription_recipients.c.subscription_id.in_(list(subscription_ids))
        )
    )
    limits: dict[str, set[str]] = {}
    for subscription_id, address in result.all():
        limits.setdefault(subscription_id, set()).add(address)
    return limits
