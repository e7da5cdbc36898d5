"""Web console users and their sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import console_sessions, console_users
from tidings.store.records import _Record


@dataclass(frozen=True, slots=True)
class ConsoleUserRecord(_Record):
    id: str
    account_id: str
    email: str
    name: str | None
    role: str
    password_hash: str
    created_at: datetime
    updated_at: datetime
    last_sign_in_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConsoleSessionRecord(_Record):
    token_hash: str
    user_id: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    absolute_expires_at: datetime


async def insert_user(connection: AsyncConnection, **values: Any) -> ConsoleUserRecord:
    row = (
        await connection.execute(insert(console_users).values(**values).returning(console_users))
    ).one()
    return ConsoleUserRecord.from_row(row)


async def find_user_by_email(connection: AsyncConnection, email: str) -> ConsoleUserRecord | None:
    row = (
        await connection.execute(select(console_users).where(console_users.c.email == email))
    ).one_or_none()
    return None if row is None else ConsoleUserRecord.from_row(row)


async def find_user(connection: AsyncConnection, user_id: str) -> ConsoleUserRecord | None:
    row = (
        await connection.execute(select(console_users).where(console_users.c.id == user_id))
    ).one_or_none()
    return None if row is None else ConsoleUserRecord.from_row(row)


async def list_users(
    connection: AsyncConnection, account_id: str | None = None
) -> list[ConsoleUserRecord]:
    statement = select(console_users).order_by(console_users.c.email)
    if account_id is not None:
        statement = statement.where(console_users.c.account_id == account_id)
    return [ConsoleUserRecord.from_row(row) for row in await connection.execute(statement)]


async def update_user(
    connection: AsyncConnection, user_id: str, **values: Any
) -> ConsoleUserRecord | None:
    row = (
        await connection.execute(
            update(console_users)
            .where(console_users.c.id == user_id)
            .values(**values)
            .returning(console_users)
        )
    ).one_or_none()
    return None if row is None else ConsoleUserRecord.from_row(row)


async def delete_user(connection: AsyncConnection, user_id: str) -> None:
    """The user and their sessions (deleted here, not left to a cascade SQLite may not apply)."""
    await connection.execute(delete(console_sessions).where(console_sessions.c.user_id == user_id))
    await connection.execute(delete(console_users).where(console_users.c.id == user_id))


async def insert_session(connection: AsyncConnection, **values: Any) -> None:
    await connection.execute(insert(console_sessions).values(**values))


async def find_live_session(
    connection: AsyncConnection, token_hash: str, now: datetime
) -> tuple[ConsoleSessionRecord, ConsoleUserRecord] | None:
    """The session with this token and its user, unless it has expired."""
    row = (
        await connection.execute(
            select(console_sessions, console_users)
            .join(console_users, console_users.c.id == console_sessions.c.user_id)
            .where(
                console_sessions.c.token_hash == token_hash,
                console_sessions.c.expires_at > now,
                console_sessions.c.absolute_expires_at > now,
            )
        )
    ).one_or_none()
    if row is None:
        return None
    mapping = row._mapping
    session = ConsoleSessionRecord(
        token_hash=mapping["token_hash"],
        user_id=mapping["user_id"],
        csrf_token=mapping["csrf_token"],
        created_at=mapping["created_at"],
        last_seen_at=mapping["last_seen_at"],
        expires_at=mapping[console_sessions.c.expires_at],
        absolute_expires_at=mapping["absolute_expires_at"],
    )
    user = ConsoleUserRecord(
        id=mapping[console_users.c.id],
        account_id=mapping["account_id"],
        email=mapping["email"],
        name=mapping["name"],
        role=mapping["role"],
        password_hash=mapping["password_hash"],
        created_at=mapping[console_users.c.created_at],
        updated_at=mapping["updated_at"],
        last_sign_in_at=mapping["last_sign_in_at"],
    )
    return session, user


async def touch_session(
    connection: AsyncConnection, token_hash: str, *, seen_at: datetime, expires_at: datetime
) -> None:
    await connection.execute(
        update(console_sessions)
        .where(console_sessions.c.token_hash == token_hash)
        .values(last_seen_at=seen_at, expires_at=expires_at)
    )


async def delete_session(connection: AsyncConnection, token_hash: str) -> None:
    await connection.execute(
        delete(console_sessions).where(console_sessions.c.token_hash == token_hash)
    )


async def delete_sessions_of(connection: AsyncConnection, user_id: str) -> int:
    result = await connection.execute(
        delete(console_sessions).where(console_sessions.c.user_id == user_id)
    )
    return result.rowcount


async def delete_expired_sessions(connection: AsyncConnection, now: datetime) -> int:
    result = await connection.execute(
        delete(console_sessions).where(
            (console_sessions.c.expires_at <= now) | (console_sessions.c.absolute_expires_at <= now)
        )
    )
    return result.rowcount
