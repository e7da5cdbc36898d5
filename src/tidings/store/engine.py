"""Engine factory and the :class:`Database` handle passed to store functions' callers.

SQLite runs in WAL mode with a busy timeout; write transactions start with ``BEGIN IMMEDIATE`` so
two writers queue on the lock instead of failing when a read transaction upgrades.
PostgreSQL runs through asyncpg; a ``search_path`` query parameter in the URL selects a schema
(the test suite gives every test its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

_SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "tidings_sqlite_begin"
_AUTOCOMMIT = "autocommit"


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(database_url: str, **engine_options: Any) -> AsyncEngine:
    """Create an async engine for ``database_url`` with the pragmas and options tidings needs."""
    url = make_url(database_url)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        search_path = url.query.get("search_path")
        if search_path is not None:
            url = url.difference_update_query(["search_path"])
            connect_args["server_settings"] = {"search_path": str(search_path)}
        engine = create_async_engine(url, connect_args=connect_args, **engine_options)
        return engine
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **engine_options)
        _configure_sqlite(engine)
        return engine
    raise ValueError(f"unsupported database: {url.get_backend_name()} (use sqlite or postgresql)")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (so we can choose
        # BEGIN IMMEDIATE), as the SQLAlchemy SQLite documentation recommends.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "")
        if mode == _AUTOCOMMIT:
            # Each statement is its own implicit read transaction: no BEGIN/COMMIT round trips
            # to the driver thread, which cost more than the reads themselves.
            return
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


class Database:
    """An engine plus the two ways the service uses it: read transactions and write transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite has one writer. Tasks of this process that each open a write transaction would
        # otherwise meet in SQLite's busy handler, which sleeps in growing steps (up to 100 ms)
        # before it retries; queueing them here hands the lock over at once, in order.
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def from_url(cls, database_url: str, **engine_options: Any) -> Database:
        return cls(create_engine(database_url, **engine_options))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that only reads.

        On PostgreSQL it is one transaction; on SQLite each statement reads its own snapshot,
        which is enough for the reads the service makes (one row, one page, or a row and its
        history, where a newer history only shows a later state).
        """
        async with self.engine.connect() as connection:
            if self.dialect == "sqlite":
                connection = await connection.execution_options(**{_BEGIN_OPTION: _AUTOCOMMIT})
            async with connection.begin():
                yield connection

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that writes; committed on success, rolled back on error."""
        if self._write_lock is None:
            async with self.engine.connect() as connection, connection.begin():
                yield connection
            return
        lock = self._write_lock
        await lock.acquire()
        held = True
        try:
            async with self.engine.connect() as connection:
                try:
                    connection = await connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
                    async with connection.begin():
                        yield connection
                finally:
                    # Committed or rolled back: the next writer goes ahead while this
                    # connection goes back to the pool (its reset is one more round trip to
                    # the driver thread).
                    held = False
                    lock.release()
        finally:
            if held:  # the connection could not be had
                lock.release()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
