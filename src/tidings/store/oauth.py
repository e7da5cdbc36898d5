"""OAuth2 authorization codes and tokens, looked up by the SHA-256 of their plain value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import oauth_codes, oauth_tokens
from tidings.store.records import _Record


@dataclass(frozen=True, slots=True)
class OAuthCodeRecord(_Record):
    code_hash: str
    key_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OAuthTokenRecord(_Record):
    id: str
    key_id: str
    access_hash: str
    refresh_hash: str | None
    scope: str
    issued_at: datetime
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    revoked_at: datetime | None


async def insert_code(connection: AsyncConnection, **values: Any) -> None:
    await connection.execute(insert(oauth_codes).values(**values))


async def find_code(connection: AsyncConnection, code_hash: str) -> OAuthCodeRecord | None:
    row = (
        await connection.execute(select(oauth_codes).where(oauth_codes.c.code_hash == code_hash))
    ).one_or_none()
    return None if row is None else OAuthCodeRecord.from_row(row)


async def consume_code(connection: AsyncConnection, code_hash: str) -> bool:
    """Delete the code; False when another request used it first."""
    result = await connection.execute(
        delete(oauth_codes).where(oauth_codes.c.code_hash == code_hash)
    )
    return result.rowcount == 1


async def insert_token(connection: AsyncConnection, **values: Any) -> None:
    await connection.execute(insert(oauth_tokens).values(**values))


async def find_token_by_access(
    connection: AsyncConnection, access_hash: str
) -> OAuthTokenRecord | None:
    row = (
        await connection.execute(
            select(oauth_tokens).where(oauth_tokens.c.access_hash == access_hash)
        )
    ).one_or_none()
    return None if row is None else OAuthTokenRecord.from_row(row)


async def find_token_by_refresh(
    connection: AsyncConnection, refresh_hash: str
) -> OAuthTokenRecord | None:
    row = (
        await connection.execute(
            select(oauth_tokens).where(oauth_tokens.c.refresh_hash == refresh_hash)
        )
    ).one_or_none()
    return None if row is None else OAuthTokenRecord.from_row(row)


async def revoke_token(connection: AsyncConnection, token_id: str, at: datetime) -> bool:
    """Revoke a token (access and refresh); False when it was already revoked."""
    result = await connection.execute(
        update(oauth_tokens)
        .where(oauth_tokens.c.id == token_id, oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount == 1
