"""Accounts and API keys."""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import accounts, api_keys, auth_changes
from tidings.store.records import AccountRecord, ApiKeyRecord

# PostgreSQL NOTIFY channel of changes to what a verified key stands for ("key:<id>" revoked,
# "account:<id>" changed); every process caching verified keys listens on it.
AUTH_CHANGES_CHANNEL = "tidings_auth_changes"
# The one row of ``auth_changes``.
_AUTH_CHANGES_ROW = 1


async def _announce_auth_change(connection: AsyncConnection, payload: str) -> None:
    """Tell the other processes, when this transaction commits (and only then), to forget what
    they remember of a key or an account: on PostgreSQL by NOTIFY; on SQLite, which has no
    notices, by counting the change in ``auth_changes``, which they read (
    :class:`SqliteAuthChanges`)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(select(func.pg_notify(AUTH_CHANGES_CHANNEL, payload)))
    else:
        await connection.execute(
            update(auth_changes)
            .where(auth_changes.c.id == _AUTH_CHANGES_ROW)
            .values(count=auth_changes.c.count + 1)
        )


class SqliteAuthChanges:
    """Reads the count of ``auth_changes`` of a SQLite database file, on a connection of its
    own, in the calling thread.

    It is read before every use of a remembered key, so it must cost next to nothing: one
    statement on a plain ``sqlite3`` connection is a few microseconds, where a read through the
    service's engine is a round trip to the driver's thread. In WAL mode a reader does not wait
    for writers; should it ever be refused (SQLITE_BUSY, it never waits here) or fail, the
    count is unknown (None), and the caller trusts nothing it remembers.
    """

    _QUERY = f"SELECT count FROM auth_changes WHERE id = {_AUTH_CHANGES_ROW}"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None

    def read(self) -> int | None:
        try:
            if self._connection is None:
                # Autocommit: each read sees the latest commit. Used by one event loop at a
                # time, which may not be the thread that opened it.
                self._connection = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False
                )
            row = self._connection.execute(self._QUERY).fetchone()
        except sqlite3.Error:
            self.close()
            return None
        return None if row is None else int(row[0])

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


async def insert_account(connection: AsyncConnection, **values: Any) -> AccountRecord:
    row = (await connection.execute(insert(accounts).values(**values).returning(accounts))).one()
    return AccountRecord.from_row(row)


async def find_account(connection: AsyncConnection, account_id: str) -> AccountRecord | None:
    row = (
        await connection.execute(select(accounts).where(accounts.c.id == account_id))
    ).one_or_none()
    return None if row is None else AccountRecord.from_row(row)


async def list_sub_accounts(connection: AsyncConnection, parent_id: str) -> list[AccountRecord]:
    result = await connection.execute(
        select(accounts).where(accounts.c.parent_id == parent_id).order_by(accounts.c.id)
    )
    return [AccountRecord.from_row(row) for row in result]


async def list_accounts(connection: AsyncConnection) -> list[AccountRecord]:
    result = await connection.execute(select(accounts).order_by(accounts.c.id))
    return [AccountRecord.from_row(row) for row in result]


async def update_account(
    connection: AsyncConnection, account_id: str, **values: Any
) -> AccountRecord | None:
    row = (
        await connection.execute(
            update(accounts).where(accounts.c.id == account_id).values(**values).returning(accounts)
        )
    ).one_or_none()
    if row is None:
        return None
    await _announce_auth_change(connection, f"account:{account_id}")
    return AccountRecord.from_row(row)


async def insert_api_key(connection: AsyncConnection, **values: Any) -> ApiKeyRecord:
    row = (await connection.execute(insert(api_keys).values(**values).returning(api_keys))).one()
    return ApiKeyRecord.from_row(row)


async def find_api_key(connection: AsyncConnection, key_id: str) -> ApiKeyRecord | None:
    row = (await connection.execute(select(api_keys).where(api_keys.c.id == key_id))).one_or_none()
    return None if row is None else ApiKeyRecord.from_row(row)


async def list_api_keys(connection: AsyncConnection, account_id: str) -> list[ApiKeyRecord]:
    """The account's keys, revoked ones too, oldest first."""
    rows = await connection.execute(
        select(api_keys)
        .where(api_keys.c.account_id == account_id)
        .order_by(api_keys.c.created_at, api_keys.c.id)
    )
    return [ApiKeyRecord.from_row(row) for row in rows]


async def revoke_api_key(
    connection: AsyncConnection, key_id: str, at: datetime, *, account_id: str | None = None
) -> bool:
    """Revoke an active key (only the account's own when ``account_id`` is given)."""
    conditions = [api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)]
    if account_id is not None:
        conditions.append(api_keys.c.account_id == account_id)
    result = await connection.execute(update(api_keys).where(*conditions).values(revoked_at=at))
    if result.rowcount == 0:
        return False
    await _announce_auth_change(connection, f"key:{key_id}")
    return True


async def find_key_and_account(
    connection: AsyncConnection, key_id: str
) -> tuple[ApiKeyRecord, AccountRecord] | None:
    """A key with its account, in one statement whether or not the key exists."""
    query = select(api_keys, accounts).join(accounts, accounts.c.id == api_keys.c.account_id)
    row = (await connection.execute(query.where(api_keys.c.id == key_id))).one_or_none()
    if row is None:
        return None
    values = row._mapping
    key = ApiKeyRecord(**{f.name: values[api_keys.c[f.name]] for f in fields(ApiKeyRecord)})
    account = AccountRecord(**{f.name: values[accounts.c[f.name]] for f in fields(AccountRecord)})
    return key, account


async def replace_secret_hash(connection: AsyncConnection, key_id: str, old: str, new: str) -> bool:
    """Swap a key's stored hash, unless another process did first (compare-and-set)."""
    result = await connection.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.secret_hash == old)
        .values(secret_hash=new)
    )
    return result.rowcount > 0
