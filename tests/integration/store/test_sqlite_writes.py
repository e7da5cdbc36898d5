"""SQLite write transactions run their statements on the event loop's thread
(``store.sqlite_inline``); what must hold for that to be safe, on a real database file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.integration.dispatch.conftest import eventually
from tidings.config import Settings, SqliteSynchronous
from tidings.store import sqlite_inline
from tidings.store.engine import Database, WriteQueue, create_inline_write_engine

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TIDINGS_TEST_DATABASE_URL")),
    reason="inline write connections are SQLite's; PostgreSQL runs through asyncpg",
)


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    path = tmp_path / "writes.db"
    database = Database.from_url(f"sqlite+aiosqlite:///{path}")
    async with database.write() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    try:
        yield database, path
    finally:
        await database.close()


class LoopTurns:
    """Counts turns of the event loop while it runs: zero turns means the loop was blocked."""

    def __init__(self) -> None:
        self.turns = 0
        self._task = asyncio.get_running_loop().create_task(self._count())

    async def _count(self) -> None:
        while True:
            await asyncio.sleep(0)
            self.turns += 1

    def stop(self) -> None:
        self._task.cancel()


async def count_notes(database: Database) -> int:
    async with database.read() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one())


async def test_a_write_waits_for_another_connections_lock_and_the_loop_keeps_running(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, path = sqlite_database
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO notes (body) VALUES ('from another process')")

    async def write() -> None:
        async with database.write() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('ours')"))

    writing = asyncio.create_task(write())
    turns = LoopTurns()
    await asyncio.sleep(0.3)
    assert not writing.done(), "the write should wait for the lock, not fail or skip it"
    waited_turns = turns.turns
    holder.execute("COMMIT")
    holder.close()
    await asyncio.wait_for(writing, timeout=30)
    turns.stop()

    # The wait happened off the loop: other tasks ran all the while.
    assert waited_turns > 10
    assert await count_notes(database) == 2


async def test_a_large_executemany_is_written_whole_in_chunks_between_turns_of_the_loop(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, _ = sqlite_database
    rows = [(index, f"note {index}") for index in range(sqlite_inline.CHUNK_ROWS * 10 + 7)]
    turns = LoopTurns()
    async with database.write() as connection:
        raw = await connection.get_raw_connection()
        cursor = await raw.driver_connection.executemany(  # type: ignore[union-attr]
            "INSERT INTO notes (id, body) VALUES (?, ?)", rows
        )
        turns_during_insert = turns.turns
    turns.stop()

    assert cursor.rowcount == len(rows)
    assert turns_during_insert >= 9  # a turn of the loop between each two chunks
    assert await count_notes(database) == len(rows)


async def test_a_failed_write_transaction_leaves_nothing_behind(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, _ = sqlite_database
    with pytest.raises(RuntimeError):
        async with database.write() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
            raise RuntimeError("the caller fails after its first statement")
    assert await count_notes(database) == 0
    # The lock was released: the next write goes through.
    async with database.write() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
    assert await count_notes(database) == 1


async def test_the_log_is_checkpointed_while_writes_go_on(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, path = sqlite_database
    body = "x" * 4000
    written = 0
    loop = asyncio.get_running_loop()
    until = loop.time() + sqlite_inline.CHECKPOINT_EVERY_S * 5
    while loop.time() < until:
        async with database.write() as connection:
            raw = await connection.get_raw_connection()
            await raw.driver_connection.executemany(  # type: ignore[union-attr]
                "INSERT INTO notes (body) VALUES (?)", [(body,)] * 50
            )
        written += 50 * len(body)
        await asyncio.sleep(0)
    wal_size = await asyncio.to_thread(os.path.getsize, f"{path}-wal")
    # Without checkpoints the log would hold every page written; with them it is reused.
    assert wal_size < written * 0.75


def test_only_a_database_in_a_file_gets_inline_writes(tmp_path: Path) -> None:
    assert create_inline_write_engine("sqlite+aiosqlite:///:memory:") is None
    in_file = create_inline_write_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    assert in_file is not None
    assert make_url(str(in_file[0].url)).database == str(tmp_path / "a.db")


@pytest.mark.parametrize(
    ("setting", "pragma"), [(None, 2), (SqliteSynchronous.NORMAL, 1), (SqliteSynchronous.FULL, 2)]
)
async def test_a_commit_waits_for_the_disk_unless_configured_otherwise(
    tmp_path: Path, setting: SqliteSynchronous | None, pragma: int
) -> None:
    # A power cut cannot be staged here; what makes a COMMIT survive one is SQLite syncing its
    # log before the COMMIT returns: synchronous=FULL (2), on by default.
    url = f"sqlite+aiosqlite:///{tmp_path / 'durable.db'}"
    database = (
        Database.from_url(url)
        if setting is None
        else Database.from_url(url, sqlite_synchronous=setting)
    )
    try:
        async with database.write() as connection:
            seen = (await connection.execute(text("PRAGMA synchronous"))).scalar_one()
        assert seen == pragma
        if setting is None:
            assert Settings().sqlite_synchronous is SqliteSynchronous.FULL
    finally:
        await database.close()


def test_an_unknown_synchronous_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="full or normal"):
        Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", sqlite_synchronous="off")


async def test_an_urgent_write_goes_before_the_queued_ones_and_each_kind_keeps_its_order(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, _ = sqlite_database
    order: list[str] = []
    release_first = asyncio.Event()

    async def note(body: str, *, urgent: bool = False) -> None:
        async with database.write(urgent=urgent) as connection:
            insert = text("INSERT INTO notes (body) VALUES (:body)")
            await connection.execute(insert, {"body": body})
            order.append(body)
            if body == "running":
                await release_first.wait()

    running = asyncio.create_task(note("running"))
    await asyncio.sleep(0.01)
    queued = []
    for body, urgent in [
        ("intake 1", False),
        ("receipts 1", True),
        ("claim", False),
        ("receipts 2", True),
    ]:
        queued.append(asyncio.create_task(note(body, urgent=urgent)))
        await asyncio.sleep(0.01)
    release_first.set()
    await asyncio.gather(running, *queued)
    assert order == ["running", "receipts 1", "receipts 2", "intake 1", "claim"]
    assert await count_notes(database) == 5


async def test_a_write_cancelled_while_it_waits_or_just_after_its_turn_came_holds_nobody_up(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, _ = sqlite_database
    queue = WriteQueue()
    await queue.acquire()
    waiting = asyncio.create_task(queue.acquire())
    granted = asyncio.create_task(queue.acquire(urgent=True))
    await asyncio.sleep(0)
    waiting.cancel()
    queue.release()  # handed to the urgent waiter, which has not run yet
    granted.cancel()
    with pytest.raises(asyncio.CancelledError):
        await granted
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not queue.locked()
    # And a cancelled write transaction of the database's own queue lets the next one in.
    async with database.write():
        blocked = asyncio.create_task(note_in(database, "cancelled"))
        last = asyncio.create_task(note_in(database, "last"))
        await asyncio.sleep(0.01)
        blocked.cancel()
    await asyncio.wait_for(last, 30)
    assert blocked.cancelled()
    assert await count_notes(database) == 1


async def note_in(database: Database, body: str) -> None:
    async with database.write() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})


async def test_a_connection_terminated_under_a_statement_in_its_thread_is_closed_after_it(
    tmp_path: Path,
) -> None:
    """SQLAlchemy terminates a connection when a task is cancelled in its COMMIT, which runs in
    the connection's thread: closed at once, under the COMMIT, the process crashed."""
    path = str(tmp_path / "terminated.db")
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection = sqlite_inline.InlineConnection(raw, sqlite_inline.Checkpointer(path))
    entered, released = threading.Event(), threading.Event()

    def held() -> int:
        entered.set()
        return int(released.wait(30))

    def statement() -> Any:
        return raw.execute("SELECT held()").fetchone()

    raw.create_function("held", 0, held)
    running = asyncio.create_task(connection.in_thread(statement))
    assert await asyncio.to_thread(entered.wait, 30)
    connection.stop()
    assert raw.in_transaction is False  # still open: a closed connection raises here
    released.set()
    assert await running == (1,)  # the statement ran to its end

    async def closed() -> bool:
        try:
            _ = raw.in_transaction
        except sqlite3.ProgrammingError:
            return True
        return False

    await eventually(closed, "the connection's thread to close it once its statement is done")
