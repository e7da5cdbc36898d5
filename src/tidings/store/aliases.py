"""Integer aliases of string ids, for provider APIs whose ids are numbers.

An alias is handed out the first time a target is shown through such an API and never changes
or moves to another target. It says nothing about ownership: callers resolve an alias to its
target id and then look the target up scoped to the acting account as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import integer_aliases


async def find_aliases(
    connection: AsyncConnection, kind: str, target_ids: Sequence[str]
) -> dict[str, int]:
    """The aliases the targets already have (targets without one are left out)."""
    if not target_ids:
        return {}
    rows = await connection.execute(
        select(integer_aliases.c.target_id, integer_aliases.c.id).where(
            integer_aliases.c.kind == kind, integer_aliases.c.target_id.in_(list(target_ids))
        )
    )
    return {row.target_id: int(row.id) for row in rows}


async def create_aliases(connection: AsyncConnection, kind: str, target_ids: Sequence[str]) -> None:
    """Give each target an alias unless it has one (a concurrent writer may have given it)."""
    rows = [{"kind": kind, "target_id": target_id} for target_id in dict.fromkeys(target_ids)]
    if not rows:
        return
    statement: Any
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(integer_aliases).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(integer_aliases).on_conflict_do_nothing()
    await connection.execute(statement, rows)


async def find_target(connection: AsyncConnection, kind: str, alias: int) -> str | None:
    return (
        await connection.execute(
            select(integer_aliases.c.target_id).where(
                integer_aliases.c.kind == kind, integer_aliases.c.id == alias
            )
        )
    ).scalar_one_or_none()
