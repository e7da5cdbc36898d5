"""Inbound messages to numbers no account owns: kept for an operator, who lists them and
assigns each to an account (``dispatch.reception.Reception.assign`` delivers it)."""

from __future__ import annotations

from tidings.store import unrouted as store
from tidings.store.engine import Database
from tidings.store.unrouted import UnroutedRecord


async def list_unrouted(
    database: Database, *, limit: int, to: str | None = None, cursor: str | None = None
) -> tuple[list[UnroutedRecord], str | None]:
    """A page of them, newest first, and the cursor of the next page (None at the end)."""
    async with database.read() as connection:
        page = await store.list_unrouted(
            connection, limit=limit + 1, recipient=to, before_id=cursor
        )
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None
