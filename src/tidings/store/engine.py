"""Engine factory and the :class:`Database` handle passed to store functions' callers.

SQLite runs in WAL mode with a busy timeout; write transactions start with ``BEGIN IMMEDIATE`` so
two writers queue on the lock instead of failing when a read transaction upgrades. A database in a
file has a second engine for write transactions, whose statements run on the event loop's thread
(``store.sqlite_inline``): through aiosqlite every statement of a transaction waited for a turn of
a busy loop while it held SQLite's one write lock. Reads stay on aiosqlite, in its thread.
PostgreSQL runs through asyncpg; a ``search_path`` query parameter in the URL selects a schema
(the test suite gives every test its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import await_only

from tidings.store import sqlite_inline

_SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "tidings_sqlite_begin"
_AUTOCOMMIT = "autocommit"


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(
    database_url: str, *, sqlite_synchronous: str = "full", **engine_options: Any
) -> AsyncEngine:
    """Create an async engine for ``database_url`` with the pragmas and options tidings needs;
    ``sqlite_synchronous`` is SQLite's ``PRAGMA synchronous`` (see ``config.SqliteSynchronous``)."""
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
        _configure_sqlite(engine, synchronous=sqlite_synchronous)
        return engine
    raise ValueError(f"unsupported database: {url.get_backend_name()} (use sqlite or postgresql)")


def create_inline_write_engine(
    database_url: str, *, sqlite_synchronous: str = "full", **engine_options: Any
) -> tuple[AsyncEngine, sqlite_inline.Checkpointer] | None:
    """For a SQLite database in a plain file, an engine whose statements run in the calling
    thread, and the checkpointer of its log (see ``store.sqlite_inline``); None otherwise."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.query:
        return None
    path = _sqlite_file(url)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpointer = sqlite_inline.Checkpointer(str(path))
    engine = create_async_engine(
        url, async_creator=sqlite_inline.connector(str(path), checkpointer), **engine_options
    )
    _configure_sqlite(engine, synchronous=sqlite_synchronous, inline=True)
    return engine, checkpointer


def _configure_sqlite(engine: AsyncEngine, *, synchronous: str, inline: bool = False) -> None:
    if synchronous not in ("full", "normal"):
        raise ValueError(f"SQLite synchronous must be full or normal, not {synchronous!r}")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not inline:
            # Let SQLAlchemy, not the driver, decide when a transaction begins (so we can choose
            # BEGIN IMMEDIATE), as the SQLAlchemy SQLite documentation recommends. An inline
            # connection is opened that way, and waits for other processes' locks in a thread
            # (its busy timeout is zero here).
            dbapi_connection.isolation_level = None
            cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL by default: a COMMIT returns once the log is on disk. With NORMAL a power cut or
        # an OS crash could undo transactions already committed, so a message answered 202
        # Accepted, or a receipt already acknowledged to the SMSC, could be lost.
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "")
        if mode == _AUTOCOMMIT:
            # Each statement is its own implicit read transaction: no BEGIN/COMMIT round trips
            # to the driver thread, which cost more than the reads themselves.
            return
        statement = f"BEGIN {mode}".strip()
        if inline:
            # Straight to the connection: through exec_driver_sql, SQLAlchemy's execution
            # context and result for one BEGIN cost more than a small transaction's statements.
            driver = connection.connection.driver_connection
            assert isinstance(driver, sqlite_inline.InlineConnection)
            try:
                waiting = driver.begin_now(statement)
                if waiting is not None:  # another process writes: its lock, waited for in a thread
                    await_only(waiting)
            except sqlite3.Error as error:
                # Wrapped as SQLAlchemy wraps what its own statements raise.
                raise DBAPIError.instance(
                    statement, (), error, sqlite3.Error, dialect=connection.dialect
                ) from error
            return
        connection.exec_driver_sql(statement)


class WriteQueue(asyncio.Lock):
    """The process's SQLite write lock: FIFO, except that urgent writers go first.

    The status writer's transactions acknowledge what the SMSC delivered (receipts, inbound
    messages), and the SMSC sends nothing more until they are acknowledged: one waiting behind
    a large intake transaction keeps the SMSC's whole delivery window idle. An urgent waiter is
    served before every ordinary one; among themselves both kinds keep their order. The lock is
    handed straight to the next waiter at release, so nobody overtakes a waiter that has been
    granted the lock but has not run yet.
    """

    def __init__(self) -> None:
        super().__init__()
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._held

    async def acquire(self, *, urgent: bool = False) -> bool:  # type: ignore[override]
        if not self._held and not self._urgent and not self._ordinary:
            self._held = True
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._ordinary
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted, then cancelled before it ran: pass it on
            elif waiter in queue:  # a release may have dropped it already
                queue.remove(waiter)
            raise
        return True

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("Lock is not acquired.")
        for queue in (self._urgent, self._ordinary):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # still held: now by that waiter
                    return
        self._held = False


class Database:
    """An engine plus the two ways the service uses it: read transactions and write transactions."""

    def __init__(
        self,
        engine: AsyncEngine,
        inline_writes: tuple[AsyncEngine, sqlite_inline.Checkpointer] | None = None,
    ) -> None:
        self.engine = engine
        # Write transactions on SQLite run on the inline engine when given (see
        # create_inline_write_engine), and its checkpointer is waited for at close.
        self._write_engine = engine
        self._checkpointer: sqlite_inline.Checkpointer | None = None
        if inline_writes is not None:
            self._write_engine, self._checkpointer = inline_writes
        # SQLite has one writer. Tasks of this process that each open a write transaction would
        # otherwise meet in SQLite's busy handler, which sleeps in growing steps (up to 100 ms)
        # before it retries; queueing them here hands the lock over at once, in order.
        self._write_lock = WriteQueue() if engine.dialect.name == "sqlite" else None
        if self._checkpointer is not None and self._write_lock is not None:
            self._checkpointer.share_write_lock(self._write_lock)
        self._inline_connection: AsyncConnection | None = None
        self._inline_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_url(
        cls, database_url: str, *, sqlite_synchronous: str = "full", **engine_options: Any
    ) -> Database:
        return cls(
            create_engine(database_url, sqlite_synchronous=sqlite_synchronous, **engine_options),
            create_inline_write_engine(
                database_url, sqlite_synchronous=sqlite_synchronous, **engine_options
            ),
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_file(self) -> Path | None:
        """The file of a SQLite database that other processes may share; None for PostgreSQL
        and for a database in memory or named by a URI."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.query:
            return None
        return _sqlite_file(url)

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
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction that writes; committed on success, rolled back on error.

        On SQLite an ``urgent`` one waits only for the transaction running and urgent ones
        queued before it (see :class:`WriteQueue`); on PostgreSQL writers do not queue.
        """
        if self._write_lock is None:
            async with self.engine.connect() as connection, connection.begin():
                yield connection
            return
        lock = self._write_lock
        await lock.acquire(urgent=urgent)
        if self._checkpointer is not None:
            try:
                async with self._inline_transaction() as connection:
                    yield connection
            finally:
                lock.release()
            return
        held = True
        try:
            async with self._write_engine.connect() as connection:
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

    @asynccontextmanager
    async def _inline_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the one inline write connection, kept open between transactions.

        The write lock lets one transaction at a time use it, so nothing is gained by taking a
        connection from the pool and handing it back (with its reset) every time: with the
        option setting, that was about half of an empty transaction's cost.
        """
        connection = self._inline_connection
        loop = asyncio.get_running_loop()
        if connection is None or self._inline_loop is not loop:
            connection = await self._write_engine.connect()
            connection = await connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            self._inline_connection, self._inline_loop = connection, loop
        try:
            async with connection.begin():
                yield connection
        except BaseException:
            # Rolled back. If that failed too, or the driver connection was lost, the next
            # transaction opens a new connection.
            if connection.invalidated or connection.in_transaction():
                self._inline_connection = None
                with contextlib.suppress(Exception):
                    await connection.close()
            raise

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def listen(
        self,
        channel: str,
        on_notice: Callable[[str], None],
        *,
        on_listening: Callable[[], None] = lambda: None,
        ping_seconds: float = 10.0,
    ) -> None:
        """PostgreSQL's LISTEN: ``on_notice(payload)`` for every NOTIFY on ``channel``, from
        ``on_listening()`` on, until the connection fails (raised; the caller listens again and
        assumes it missed notices meanwhile). The connection is its own, pinged every
        ``ping_seconds`` so that a silent loss is noticed."""
        if self.dialect != "postgresql":
            raise ValueError(f"{self.dialect} has no LISTEN")
        async with self.engine.connect() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection
            lost = asyncio.get_running_loop().create_future()

            def notice(_connection: object, _pid: int, _channel: str, payload: str) -> None:
                on_notice(payload)

            def terminated(_connection: object) -> None:
                if not lost.done():
                    lost.set_exception(ConnectionError(f"LISTEN {channel}: connection closed"))

            try:
                driver.add_termination_listener(terminated)
                await driver.add_listener(channel, notice)
                on_listening()
                while True:
                    done, _ = await asyncio.wait({lost}, timeout=ping_seconds)
                    if done:
                        lost.result()
                    await driver.fetchval("SELECT 1")
            finally:
                driver.remove_termination_listener(terminated)
                if not lost.done():
                    lost.cancel()
                # Never back into the pool with a LISTEN on it.
                await connection.invalidate()

    async def close(self) -> None:
        if self._inline_connection is not None:
            connection, self._inline_connection = self._inline_connection, None
            await connection.close()
        await self.engine.dispose()
        if self._checkpointer is not None:
            await self._checkpointer.wait()
        if self._write_engine is not self.engine:
            await self._write_engine.dispose()
