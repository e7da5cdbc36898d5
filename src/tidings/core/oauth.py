"""OAuth2 grants over API keys: authorization codes, access and refresh tokens.

The OAuth2 client is an API key (client_id = key id, client_secret = its secret). Codes and
tokens are random strings shown once; only their SHA-256 is stored (they are long and random,
so a fast hash is enough, unlike key secrets). A refresh rotates: the old token pair is revoked
when the new one is issued. The protocol itself (grant checks, error answers) is authlib's, in
the dialect that serves it; this module keeps what is stored and what a token grants.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tidings.core.accounts import AccountStatus, Principal, utcnow
from tidings.errors import AccountSuspended, Forbidden, Unauthorized
from tidings.store import accounts as account_store
from tidings.store import oauth as oauth_store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.oauth import OAuthCodeRecord, OAuthTokenRecord

CODE_LIFETIME = timedelta(minutes=10)
ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(days=90)
OFFLINE_ACCESS = "offline_access"


class MissingScope(Forbidden):
    """The access token does not grant this operation."""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret_value() -> str:
    return secrets.token_urlsafe(32)


def normalize_scopes(requested: Iterable[str], supported: Iterable[str]) -> list[str]:
    """Scope names as granted: a URI scope (``https://…/Gateway.Send``) counts as its last
    segment, so a connector keeps working whatever audience prefix it was imported with.
    Unknown scopes are dropped (RFC 6749 §3.3 lets the server grant less than asked)."""
    known = set(supported)
    chosen: list[str] = []
    for scope in requested:
        name = scope.rstrip("/").rsplit("/", 1)[-1]
        if name in known and name not in chosen:
            chosen.append(name)
    return chosen


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a verified access token stands for."""

    principal: Principal
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise MissingScope(f"the access token lacks the scope {scope}")


async def store_code(
    database: Database,
    code: str,
    *,
    key_id: str,
    redirect_uri: str,
    scope: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> None:
    async with database.write() as connection:
        await oauth_store.insert_code(
            connection,
            code_hash=digest(code),
            key_id=key_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            expires_at=utcnow() + CODE_LIFETIME,
        )


async def find_code(database: Database, code: str) -> OAuthCodeRecord | None:
    async with database.read() as connection:
        return await oauth_store.find_code(connection, digest(code))


async def find_refresh_token(database: Database, refresh_token: str) -> OAuthTokenRecord | None:
    async with database.read() as connection:
        return await oauth_store.find_token_by_refresh(connection, digest(refresh_token))


async def issue_token(
    database: Database,
    *,
    key_id: str,
    access_token: str,
    refresh_token: str | None,
    scope: str,
    expires_in: int,
    used_code: str | None = None,
    replaced: OAuthTokenRecord | None = None,
) -> bool:
    """Store a new token pair; the code it was issued for is consumed and a refreshed pair
    revoked in the same transaction. False (nothing stored) when that code or pair was used by a
    concurrent request first."""
    now = utcnow()
    async with database.write() as connection:
        if used_code is not None and not await oauth_store.consume_code(
            connection, digest(used_code)
        ):
            return False
        if replaced is not None and not await oauth_store.revoke_token(
            connection, replaced.id, now
        ):
            return False
        await oauth_store.insert_token(
            connection,
            id=new_id(),
            key_id=key_id,
            access_hash=digest(access_token),
            refresh_hash=None if refresh_token is None else digest(refresh_token),
            scope=scope,
            issued_at=now,
            access_expires_at=now + timedelta(seconds=expires_in),
            refresh_expires_at=None if refresh_token is None else now + REFRESH_LIFETIME,
            revoked_at=None,
        )
    return True


async def verify_access_token(database: Database, access_token: str) -> TokenGrant:
    """The key and scopes behind a Bearer access token; expired, revoked or unknown is refused."""
    now = utcnow()
    async with database.read() as connection:
        token = await oauth_store.find_token_by_access(connection, digest(access_token))
        key = None if token is None else await account_store.find_api_key(connection, token.key_id)
        account = (
            None if key is None else await account_store.find_account(connection, key.account_id)
        )
    if (
        token is None
        or key is None
        or account is None
        or token.revoked_at is not None
        or token.access_expires_at <= now
        or key.revoked_at is not None
    ):
        raise Unauthorized()
    if account.status != AccountStatus.ACTIVE:
        raise AccountSuspended()
    return TokenGrant(Principal(key_id=key.id, account=account), frozenset(token.scope.split()))


async def revoke_access_token(database: Database, access_token: str) -> bool:
    async with database.write() as connection:
        token = await oauth_store.find_token_by_access(connection, digest(access_token))
        return token is not None and await oauth_store.revoke_token(connection, token.id, utcnow())


def is_live(expires_at: datetime | None, revoked_at: datetime | None = None) -> bool:
    return revoked_at is None and (expires_at is None or expires_at > utcnow())
