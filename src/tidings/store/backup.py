"""Online backup and restore of a SQLite database, with SQLite's backup API.

``sqlite3.Connection.backup`` copies the database page by page through SQLite itself, so the
copy is consistent even while the service writes: done in one step it reads a single snapshot
(in WAL mode a reader blocks no writer), and whatever is only in the write-ahead log is part
of that snapshot. Copying the file would not be safe: the log holds the latest commits.

A PostgreSQL database is backed up with its own tools (``pg_dump``; see the user guide).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tidings.errors import TidingsError


class BackupError(TidingsError):
    """The backup or restore could not be made."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    size: int
    revision: str | None  # the schema's Alembic revision in the copy
    messages: int


def _describe(path: Path) -> BackupInfo:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        if connection.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupError(f"{path} is damaged (SQLite's quick_check fails).")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables or "messages" not in tables:
            raise BackupError(f"{path} is not a tidings database.")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        (messages,) = connection.execute("SELECT count(*) FROM messages").fetchone()
    return BackupInfo(
        path, path.stat().st_size, None if revision is None else revision[0], messages
    )


def _copy(source: sqlite3.Connection, destination: Path) -> None:
    with closing(sqlite3.connect(destination)) as target:
        # pages=-1: the whole database in one step, from one snapshot of the source.
        source.backup(target, pages=-1)
        # The copy stands alone: no log beside it to lose.
        target.execute("PRAGMA journal_mode=DELETE")


def backup_sqlite(database: Path, destination: Path) -> BackupInfo:
    """Copy the live database at ``database`` to ``destination`` (which must not exist)."""
    if not database.exists():
        raise BackupError(f"No database at {database}.")
    if destination.exists():
        raise BackupError(f"{destination} exists; back up to a new file.")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as source:
            _copy(source, partial)
        info = _describe(partial)
        partial.rename(destination)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(destination, info.size, info.revision, info.messages)


def restore_sqlite(backup: Path, database: Path, *, replace: bool = False) -> BackupInfo:
    """Make ``database`` a copy of ``backup``. An existing database is replaced only with
    ``replace`` (and no service may have it open then)."""
    if not backup.exists():
        raise BackupError(f"No backup at {backup}.")
    _describe(backup)
    if database.exists() and not replace:
        raise BackupError(
            f"A database exists at {database}; stop the service and pass --replace to "
            "overwrite it, or restore into a new data directory."
        )
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".restoring")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as source:
            _copy(source, partial)
        for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            leftover.unlink(missing_ok=True)
        partial.replace(database)
    finally:
        partial.unlink(missing_ok=True)
    return _describe(database)
