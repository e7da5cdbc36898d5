"""SQLite write connections whose statements run in the calling thread, not in a driver thread.

aiosqlite runs every statement in its worker thread and hands the result back through the event
loop, so each statement of a transaction costs at least one turn of the loop in wall time. In the
service that loop also parses HTTP requests and runs SMPP binds, and a turn takes one to two
milliseconds: a write transaction of five statements held SQLite's single write lock for about
8 ms while SQLite itself worked for a fraction of one, and every other writer waited. Here a
statement runs to completion when it is called, so a transaction holds the lock only for the
time SQLite and the caller's own code take.

Two things would block the loop for longer than a statement's own work:
- an executemany of many rows (accepting a 10,000-recipient request) runs in chunks, and the
  loop serves others between them. Not in a thread: sqlite3 takes the GIL back for every row it
  binds, and while the loop works the thread gets it only every switch interval (5 ms), so a
  10,000-row insert took seconds instead of tens of milliseconds. A COMMIT, which writes the
  transaction's pages to the log and syncs it to disk in one call without the GIL, does go to
  a thread;
- waiting for the lock of another process (a CLI command writing to the same file): the
  connection's busy timeout is zero, and a statement that finds the database busy is run again
  in a thread with the waiting timeout (blocked, it needs no GIL);
- WAL checkpoints, which SQLite runs in the COMMIT that fills the log past a threshold: that
  COMMIT copied pages back into the database file and synced it, for up to hundreds of
  milliseconds on the loop. Inline connections do not checkpoint; a :class:`Checkpointer` runs
  one in a thread of its own connection, at most every :data:`CHECKPOINT_EVERY_S` while commits
  keep coming. It holds the process's write lock meanwhile, as the COMMIT did: a checkpoint that
  no write overtakes copies the whole log, so the next write starts the log from its beginning
  again (otherwise the file grows for as long as writes keep coming).

The classes have the coroutine API of aiosqlite's ``Connection`` and ``Cursor`` that SQLAlchemy's
aiosqlite dialect and ``store.driver`` use, so the dialect, the pool and every store function
work unchanged; :func:`connect` is the engine's ``async_creator``.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# Rows of an executemany run without a pause. A message row costs about ten microseconds with the
# queue's indexes, so the loop waits a few milliseconds at most.
CHUNK_ROWS = 500

# How long a statement run in a thread waits for another process's write lock.
BUSY_TIMEOUT_MS = 30_000

# A checkpoint starts after a commit at most this often, so the log holds a fraction of a
# second of writes (SQLite's own threshold is about 4 MB).
CHECKPOINT_EVERY_S = 0.5


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


class InlineCursor:
    """aiosqlite's cursor API over a ``sqlite3.Cursor``, run in the caller's thread."""

    __slots__ = ("_chunked_rowcount", "_connection", "_cursor")

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor
        self._chunked_rowcount: int | None = None

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        self._chunked_rowcount = None
        await self._connection.run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        rows = parameters if isinstance(parameters, Sequence) else list(parameters)
        self._chunked_rowcount = None
        if len(rows) <= CHUNK_ROWS:
            await self._connection.run(self._cursor.executemany, sql, rows)
            return self
        # Inside a write transaction, which already holds the lock: no chunk can find the
        # database busy halfway, so none is ever run twice.
        total = 0
        for start in range(0, len(rows), CHUNK_ROWS):
            if start:
                await asyncio.sleep(0)
            await self._connection.run(
                self._cursor.executemany, sql, rows[start : start + CHUNK_ROWS]
            )
            total += max(self._cursor.rowcount, 0)
        self._chunked_rowcount = total
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *_: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        if self._chunked_rowcount is not None:
            return self._chunked_rowcount
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class Checkpointer:
    """Passive WAL checkpoints of one database file, one at a time, in a thread."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._running: asyncio.Task[None] | None = None
        self._last_start = 0.0
        self._write_lock: asyncio.Lock | None = None

    def share_write_lock(self, lock: asyncio.Lock) -> None:
        """The lock the process's write transactions queue on; checkpoints take it too."""
        self._write_lock = lock

    def committed(self) -> None:
        """A write transaction committed: start a checkpoint if one is due and none runs."""
        loop = asyncio.get_running_loop()
        if self._running is not None or loop.time() - self._last_start < CHECKPOINT_EVERY_S:
            return
        self._last_start = loop.time()
        self._running = loop.create_task(self._checkpoint())

    async def wait(self) -> None:
        """Until the checkpoint that runs, if any, has finished (before the database closes)."""
        running = self._running
        if running is not None:
            await asyncio.shield(running)

    async def _checkpoint(self) -> None:
        try:
            if self._write_lock is None:
                await asyncio.to_thread(self._checkpoint_now)
            else:
                async with self._write_lock:
                    await asyncio.to_thread(self._checkpoint_now)
        except sqlite3.Error:
            pass  # a later one catches up; SQLite also checkpoints when the last connection closes
        finally:
            self._running = None

    def _checkpoint_now(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()


class _Worker:
    """One thread that runs the calls a connection hands it, in order.

    ``asyncio.to_thread`` costs a context copy, a ``concurrent.futures`` future with its
    condition, an executor that checks its thread count, and a second future chained to it: with
    a COMMIT in a thread for every write transaction, that was a few percent of a single send's
    CPU. A connection runs one statement at a time, so one thread and a plain queue are enough.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._thread is None:
            # A daemon: a process that exits without closing its database is not held up by
            # it (a COMMIT it may be running is atomic either way).
            self._thread = threading.Thread(target=self._work, name="sqlite-inline", daemon=True)
            self._thread.start()
        self._jobs.put((loop, future, call, args))
        return await future

    def stop(self, last: Callable[[], object] | None = None) -> None:
        """End the thread after the job it may be running, with ``last`` run in it before it
        ends; without a thread, ``last`` runs here at once."""
        if self._thread is None:
            if last is not None:
                last()
            return
        self._jobs.put(None if last is None else (last,))
        self._thread = None

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if len(job) == 1:
                (last,) = job
                with contextlib.suppress(sqlite3.Error):  # nobody is left to hear of it
                    last()
                return
            loop, future, call, args = job
            result: Any = None
            failure: BaseException | None = None
            try:
                result = call(*args)
            except BaseException as error:  # handed to the waiting task, which raises it
                failure = error
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(_settle, future, result, failure)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class InlineConnection:
    """aiosqlite's connection API over a ``sqlite3.Connection``, run in the caller's thread.

    Only one statement runs on it at a time (SQLAlchemy holds a mutex per connection while it
    awaits one), so a statement handed to a thread never meets another on the same connection.
    """

    def __init__(self, connection: sqlite3.Connection, checkpointer: Checkpointer) -> None:
        self._conn: sqlite3.Connection | None = connection
        self._checkpointer = checkpointer
        self._worker = _Worker()

    @property
    def _connection(self) -> sqlite3.Connection | None:
        # The attribute SQLAlchemy's dialect looks at to tell an open connection from a closed one.
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` now; in a thread, waiting for the lock, if the database is busy."""
        try:
            return call(*args)
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        return await self.in_thread(call, *args, wait_for_lock=True)

    async def in_thread(self, call: Callable[..., T], *args: Any, wait_for_lock: bool = False) -> T:
        connection = self._open()

        def waiting() -> T:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            try:
                return call(*args)
            finally:
                connection.execute("PRAGMA busy_timeout=0")

        if wait_for_lock:
            return await self._worker.run(waiting)
        return await self._worker.run(call, *args)

    def begin_now(self, sql: str) -> Awaitable[Any] | None:
        """Run ``sql`` (a BEGIN) at once, as SQLAlchemy's begin event, which cannot await, does
        it: None once done, or, if another process holds the lock, the awaitable that runs it
        in a thread once the lock is free (and raises if it never is)."""
        connection = self._open()
        try:
            connection.execute(sql)
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            return self.in_thread(connection.execute, sql, wait_for_lock=True)
        return None

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._open().cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        return await self.cursor().executemany(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        cursor = await self.execute(sql, parameters)
        return await cursor.fetchall()

    async def commit(self) -> None:
        # Every COMMIT syncs the log to disk (synchronous=FULL, see store.engine): a wait of
        # milliseconds without the GIL, so in a thread, while the loop serves others.
        await self.in_thread(self._open().commit)
        self._checkpointer.committed()

    async def rollback(self) -> None:
        await self.run(self._open().rollback)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._open().create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._open().in_transaction

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close without waiting (SQLAlchemy's terminate, for example when the pool is collected
        or a task was cancelled in a COMMIT): the connection's thread closes it after the statement
        it may still be running. Closed from here under a running COMMIT, the sqlite3 module
        freed the database under it and the process crashed (a segfault or an abort)."""
        connection, self._conn = self._conn, None
        self._worker.stop(last=None if connection is None else connection.close)


def connector(path: str, checkpointer: Checkpointer) -> Callable[[], Any]:
    """The ``async_creator`` of an engine whose connections are :class:`InlineConnection`."""

    async def connect() -> InlineConnection:
        # Autocommit mode: SQLAlchemy's begin event sends BEGIN IMMEDIATE itself. The connection
        # may move to a thread for one statement at a time, hence check_same_thread=False.
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute("PRAGMA wal_autocheckpoint=0")
        return InlineConnection(connection, checkpointer)

    return connect
