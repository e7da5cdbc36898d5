"""Inbound messages to addresses no account owns, kept until an operator assigns them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import unrouted_inbound
from tidings.store.records import _Record


@dataclass(frozen=True, slots=True)
class UnroutedRecord(_Record):
    id: str
    sender: str
    recipient: str
    body: str
    encoding: str
    parts_count: int
    received_at: datetime
    route_id: int | None
    detail: str | None
    channel: str
    subject: str | None
    content: str | None


async def keep_unrouted(connection: AsyncConnection, **values: Any) -> None:
    await connection.execute(insert(unrouted_inbound).values(**values))


async def list_unrouted(
    connection: AsyncConnection,
    *,
    limit: int,
    recipient: str | None = None,
    before_id: str | None = None,
) -> list[UnroutedRecord]:
    """Newest first (ids grow with time)."""
    query = select(unrouted_inbound).order_by(unrouted_inbound.c.id.desc()).limit(limit)
    if recipient is not None:
        query = query.where(unrouted_inbound.c.recipient == recipient)
    if before_id is not None:
        query = query.where(unrouted_inbound.c.id < before_id)
    return [UnroutedRecord.from_row(row) for row in await connection.execute(query)]


async def find_unrouted(connection: AsyncConnection, message_id: str) -> UnroutedRecord | None:
    row = (
        await connection.execute(
            select(unrouted_inbound).where(unrouted_inbound.c.id == message_id)
        )
    ).one_or_none()
    return None if row is None else UnroutedRecord.from_row(row)


async def forget_unrouted(connection: AsyncConnection, message_id: str) -> bool:
    result = await connection.execute(
        delete(unrouted_inbound).where(unrouted_inbound.c.id == message_id)
    )
    return bool(result.rowcount)


async def count_unrouted(connection: AsyncConnection) -> int:
    return int(
        (await connection.execute(select(func.count()).select_from(unrouted_inbound))).scalar_one()
    )
