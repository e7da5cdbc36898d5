"""The generated server secret (``core/secrets.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import server_secrets


async def find_secret(connection: AsyncConnection, name: str) -> str | None:
    return (
        await connection.execute(
            select(server_secrets.c.value).where(server_secrets.c.name == name)
        )
    ).scalar_one_or_none()


async def keep_secret_unless_present(
    connection: AsyncConnection, name: str, value: str, now: datetime
) -> None:
    """Store ``value`` under ``name`` unless another process stored one first."""
    insert: Any = (
        postgresql.insert(server_secrets)
        if connection.dialect.name == "postgresql"
        else sqlite.insert(server_secrets)
    )
    await connection.execute(
        insert.values(name=name, value=value, created_at=now).on_conflict_do_nothing()
    )
