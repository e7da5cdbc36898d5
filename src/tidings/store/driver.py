"""Reads on the send path at driver level, one SQL text per backend.

SQLAlchemy's async adapters cost a few hundred microseconds of event-loop time per statement
(greenlet switches, and on aiosqlite one round trip to the driver's thread for each of cursor,
execute, fetch and close), more than the statement itself. The queries every accepted request
runs go to the driver directly, on the connection of the caller's transaction.

Lists of values are one parameter (``json_each`` on SQLite, ``= ANY`` of an array on
PostgreSQL), so one SQL text serves every list length.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class DriverQuery:
    """One query as each backend's driver takes it: qmark for SQLite, ``$n`` for asyncpg."""

    sqlite: str
    postgresql: str


async def fetch_rows(
    connection: AsyncConnection, query: DriverQuery, *params: Any
) -> list[tuple[Any, ...]]:
    """Run ``query`` in the connection's transaction; ``list`` parameters are value lists."""
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if connection.dialect.name == "postgresql":
        if not driver.is_in_transaction():
            # The asyncpg adapter sends BEGIN with its first statement; a query sent around
            # it would run outside the caller's transaction.
            await connection.execute(select(1))
        return [tuple(record) for record in await driver.fetch(query.postgresql, *params)]
    values = tuple(json.dumps(p) if isinstance(p, list) else p for p in params)
    try:
        return [tuple(row) for row in await driver.execute_fetchall(query.sqlite, values)]
    except sqlite3.Error as error:
        # Wrapped as SQLAlchemy would wrap it, so callers catch the same exceptions.
        raise DBAPIError.instance(
            query.sqlite, values, error, sqlite3.Error, dialect=connection.dialect
        ) from error
