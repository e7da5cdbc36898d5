"""Statements on the hot paths at driver level.

SQLAlchemy's async adapters cost a few hundred microseconds of event-loop time per statement
(greenlet switches, and on aiosqlite one round trip to the driver's thread for each of cursor,
execute, fetch and close), and its executemany converts every value of every row through the
column types. The statements every accepted request, claim and status batch runs go to the
driver directly, on the connection of the caller's transaction, with values converted exactly
as the column types would convert them:

- :class:`DriverQuery` / :func:`fetch_rows`: reads with one SQL text per backend; lists of
  values are one parameter (``json_each`` on SQLite, ``= ANY`` of an array on PostgreSQL), so
  one SQL text serves every list length;
- :func:`insert_many`: bulk INSERTs (a COPY on PostgreSQL for big batches);
- :class:`BulkStatement`: a Core statement compiled once per dialect and run as one
  executemany (the dispatcher's claims, part and message updates).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from operator import is_not, itemgetter
from typing import Any

import asyncpg
from sqlalchemy import Dialect, Table, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeEngine

from tidings.store.models import UTCDateTime


@dataclass(frozen=True, slots=True)
class DriverQuery:
    """One query as each backend's driver takes it: qmark for SQLite, ``$n`` for asyncpg."""

    sqlite: str
    postgresql: str


async def driver_connection(connection: AsyncConnection) -> Any:
    """The driver's connection under ``connection`` (aiosqlite's, asyncpg's, or an inline
    SQLite connection).

    ``AsyncConnection.get_raw_connection`` starts a greenlet for what is, on a connection in
    use, an attribute read; the statements of every group commit asked for it several times.
    It is read directly then, and asked for only when SQLAlchemy would have to reconnect.
    """
    sync = connection.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        return sync.connection.driver_connection
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def asyncpg_connection(connection: AsyncConnection) -> Any:
    """The asyncpg connection under ``connection``, inside the caller's transaction.

    The asyncpg adapter sends BEGIN with the first statement SQLAlchemy runs; a statement sent
    to the driver around it before that would run on its own and survive a rollback (a retried
    batch then fails on its own rows forever). So BEGIN is made to happen first.
    """
    driver: Any = await driver_connection(connection)
    if not driver.is_in_transaction():
        await connection.execute(select(1))
    return driver


async def fetch_rows(
    connection: AsyncConnection, query: DriverQuery, *params: Any
) -> list[tuple[Any, ...]]:
    """Run ``query`` in the connection's transaction; ``list`` parameters are value lists."""
    if connection.dialect.name == "postgresql":
        driver = await asyncpg_connection(connection)
        return [tuple(record) for record in await driver.fetch(query.postgresql, *params)]
    values = tuple(json.dumps(p) if isinstance(p, list) else p for p in params)
    return await _sqlite_fetch(connection, query.sqlite, values)


async def _sqlite_fetch(
    connection: AsyncConnection, sql: str, values: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """``sql`` on the driver under ``connection`` (aiosqlite's or an inline connection), its
    rows as tuples; errors wrapped as SQLAlchemy would wrap them, so callers catch the same
    exceptions."""
    sqlite_driver: Any = await driver_connection(connection)
    try:
        return [tuple(row) for row in await sqlite_driver.execute_fetchall(sql, values)]
    except sqlite3.Error as error:
        raise DBAPIError.instance(
            sql, values, error, sqlite3.Error, dialect=connection.dialect
        ) from error


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's own bind processor, except for UTC datetimes on SQLite, which
    :func:`sqlite_utc_text` formats to the same text much faster."""
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return sqlite_utc_text
    return type_.dialect_impl(dialect).bind_processor(dialect)


@functools.lru_cache(maxsize=256)
def _insert_form(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _DriverForm:
    # As an executemany: no RETURNING of the generated primary key.
    return _DriverForm.of(insert(table), list(keys), dialect, for_executemany=True)


def sqlite_utc_text(value: datetime) -> str:
    """What ``UTCDateTime`` stores on SQLite, from the C ``isoformat`` rather than through
    SQLAlchemy's two Python-level processors: the same text, in a fraction of the time (a
    batch of messages has a few timestamps per row)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return _utc_text(value)


# One instant is written many times: a transaction stamps its messages, their history rows and
# threads with the same ``now``, in several statements and columns. Equal aware datetimes are
# the same instant whatever their zone, so they share one text.
@functools.lru_cache(maxsize=4096)
def _utc_text(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # The naive form's text is the aware one's without its "+00:00": no datetime is built.
    return value.isoformat(" ", "microseconds")[:-6]


async def insert_many(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """One driver-level executemany of a Core INSERT.

    SQLAlchemy's own executemany converts every value of every row through the column types
    (≈100,000 calls for 10,000 messages). Here each column's bind processor runs once per
    distinct value instead: a request's rows share their timestamps, so that is a few calls.
    On SQLite the rows go straight to the driver, one round trip to its thread whatever their
    number (SQLAlchemy's path costs a few hundred microseconds a statement even for one row);
    on PostgreSQL a large batch is a COPY, a small one asyncpg's executemany.
    """
    if not rows:
        return
    dialect = connection.dialect
    form = _insert_form(table, tuple(rows[0]), dialect)
    if dialect.name == "postgresql":
        parameters = form.parameters(rows)
        # On the same connection, inside the caller's transaction. COPY is PostgreSQL's bulk
        # path, several times faster than an INSERT executemany; for a few rows asyncpg's
        # executemany of its cached prepared statement costs less. Errors are wrapped as
        # SQLAlchemy would wrap them (a duplicate key is an IntegrityError).
        driver = await asyncpg_connection(connection)
        try:
            if len(rows) < _COPY_THRESHOLD:
                await driver.executemany(form.sql, parameters)
            else:
                await driver.copy_records_to_table(
                    table.name, records=parameters, columns=list(form.columns)
                )
        except asyncpg.PostgresError as error:
            kind = (
                IntegrityError
                if isinstance(error, asyncpg.IntegrityConstraintViolationError)
                else DBAPIError
            )
            raise kind(form.sql, None, error) from error
        return
    await _sqlite_executemany(connection, form.without_nulls(rows), rows)


async def _sqlite_executemany(
    connection: AsyncConnection, form: _DriverForm, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``form`` once per row, straight to the driver (aiosqlite's or an inline connection), on
    the connection SQLAlchemy began the transaction on (with its ``BEGIN``). Errors are wrapped
    as SQLAlchemy would wrap them, so callers catch the same IntegrityError."""
    parameters = form.parameters(rows)
    sqlite_driver: Any = await driver_connection(connection)
    try:
        # Nothing to read: the cursor is left to be collected, as aiosqlite's own helpers do.
        await sqlite_driver.executemany(form.sql, parameters)
    except sqlite3.Error as error:
        raise DBAPIError.instance(
            form.sql, parameters, error, sqlite3.Error, dialect=connection.dialect
        ) from error


_MISSING = object()
# Below this many rows a PostgreSQL COPY costs more than an executemany.
_COPY_THRESHOLD = 64


@dataclass(frozen=True, slots=True)
class _DriverForm:
    """A statement compiled for one dialect, and how a row becomes its positional parameters."""

    sql: str
    columns: tuple[str, ...]  # the parameters' names, in order
    read_row: Callable[[Mapping[str, Any]], Any]
    single: bool  # one parameter: ``read_row`` gives the value, not a tuple
    # (position, bind processor) for the parameters whose type converts values (datetimes).
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    # Values written into the statement, not taken from the rows.
    fixed: Mapping[str, Any] = field(default_factory=dict)
    # The forms of this statement with some parameters written as NULL (``without_nulls``).
    variants: dict[frozenset[str], _DriverForm] = field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls,
        statement: Executable,
        column_keys: list[str] | None,
        dialect: Dialect,
        *,
        for_executemany: bool = False,
    ) -> _DriverForm:
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, column_keys=column_keys, for_executemany=for_executemany
        )
        order: list[str] = list(compiled.positiontup or ())
        if not order:  # pragma: no cover - both supported drivers take positional parameters
            raise RuntimeError("a driver-level statement needs positional parameters")
        processors = []
        for index, name in enumerate(order):
            processor = _bind_processor(compiled.binds[name].type, dialect)
            if processor is not None:
                processors.append((index, processor))
        # Values written into the statement (constants, literal LIMITs) are bound too. An
        # INSERT's column parameters carry the REQUIRED marker as their value: they come from
        # the rows, and treating them as fixed would merge a dict for every row.
        fixed = {
            name: compiled.binds[name].effective_value
            for name in order
            if compiled.binds[name].value is not None and not compiled.binds[name].required
        }
        return cls(
            str(compiled),
            tuple(order),
            _row_reader(order, fixed),
            len(order) == 1,
            tuple(processors),
            fixed,
        )

    def without_nulls(self, rows: Sequence[Mapping[str, Any]]) -> _DriverForm:
        """On SQLite, this statement with the parameters that are None in every row written
        as NULL (a statement of another form, compiled once).

        sqlite3 binds None through its adaptation lookup (a tuple, a dict probe and two
        attribute lookups for every value), a good part of binding a row of a batch whose
        rows leave the same columns empty (a message just sent has no claim, no retry time,
        no error). A literal NULL is the same value as a bound one.
        """
        first = rows[0]
        null = frozenset(
            name
            for name in self.columns
            if name not in self.fixed
            and first[name] is None
            # Whether any row has a value, in C: a generator costs more than the check saves.
            and not any(map(is_not, map(itemgetter(name), rows), repeat(None)))
        )
        if not null:
            return self
        variant = self.variants.get(null)
        if variant is None:
            variant = self.variants[null] = self._with_null(null)
        return variant

    def _with_null(self, null: frozenset[str]) -> _DriverForm:
        pieces = self.sql.split("?")
        kept = [name for name in self.columns if name not in null]
        if len(pieces) != len(self.columns) + 1 or not kept:
            return self  # not qmark placeholders only (never so on SQLite), or nothing bound
        sql = [pieces[0]]
        position: dict[int, int] = {}
        for index, name in enumerate(self.columns):
            if name in null:
                sql.append("NULL")
            else:
                position[index] = len(position)
                sql.append("?")
            sql.append(pieces[index + 1])
        processors = tuple(
            (position[index], processor)
            for index, processor in self.processors
            if index in position
        )
        return _DriverForm(
            "".join(sql),
            tuple(kept),
            _row_reader(kept, self.fixed),
            len(kept) == 1,
            processors,
            self.fixed,
        )

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row as positional parameters, its values converted as the column types would.

        The rows of one batch share their timestamps: each distinct value is converted once.
        Values that cannot be keys (JSON documents) are converted every time.
        """
        converted: dict[tuple[int, Any], Any] = {}
        parameters = []
        for row in rows:
            values = self.read_row(row)
            if self.single:
                values = (values,)
            if self.processors:
                values = list(values)
                for index, processor in self.processors:
                    value = values[index]
                    if value is None:
                        continue
                    try:
                        key = (index, value)
                        known = converted.get(key, _MISSING)
                    except TypeError:
                        values[index] = processor(value)
                        continue
                    if known is _MISSING:
                        known = converted[key] = processor(value)
                    values[index] = known
            parameters.append(tuple(values))
        return parameters


def _row_reader(
    names: Sequence[str], fixed: Mapping[str, Any]
) -> Callable[[Mapping[str, Any]], Any]:
    read_row: Callable[[Mapping[str, Any]], Any] = itemgetter(*names)
    if fixed:
        read_names = read_row
        read_row = lambda row: read_names({**fixed, **row})  # noqa: E731
    return read_row


class BulkStatement:
    """A hot statement run as one driver-level executemany.

    SQLAlchemy's own executemany prepares every row of every batch through its compiled-params
    machinery (tens of microseconds a row, in the thread that also runs the SMPP binds); here
    the statement is compiled once per dialect and each row becomes a tuple directly. Values go
    through the columns' own bind processors, so what is stored (datetimes above all) is exactly
    what SQLAlchemy would store.
    """

    def __init__(self, statement: Executable, column_keys: Sequence[str] | None = None) -> None:
        self._statement = statement
        self._column_keys = None if column_keys is None else list(column_keys)
        self._forms: dict[str, _DriverForm] = {}

    def _form(self, dialect: Dialect) -> _DriverForm:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = _DriverForm.of(
                self._statement, self._column_keys, dialect
            )
        return form

    async def run(self, connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per row, in one executemany."""
        if not rows:
            return
        form = self._form(connection.dialect)
        if connection.dialect.name == "sqlite":
            # Straight to the driver, as insert_many: SQLAlchemy's execution of a driver-level
            # statement still costs a greenlet and an execution context a statement.
            await _sqlite_executemany(connection, form.without_nulls(rows), rows)
            return
        await connection.exec_driver_sql(form.sql, form.parameters(rows))

    async def fetch(
        self, connection: AsyncConnection, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The statement once; its rows as the driver returns them (no type conversion)."""
        form = self._form(connection.dialect)
        values = form.parameters([parameters])[0]
        if connection.dialect.name == "sqlite":
            # Straight to the driver (see run): a claim's thousand rows come back as the
            # driver's tuples, without a SQLAlchemy row built for each.
            return await _sqlite_fetch(connection, form.sql, values)
        result = await connection.exec_driver_sql(form.sql, values)
        return [tuple(row) for row in result.fetchall()]
