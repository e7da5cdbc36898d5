"""Accounts, sub-accounts and API keys, and authenticating a key.

Secrets look like ``tdk_<key id>_<random>``: the key id inside makes a Bearer token
self-identifying, so verifying it is one primary-key lookup plus one keyed hash (HMAC-SHA256
under a key derived from the server secret). Only the hash is stored; the secret is shown once,
when the key is created.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypedDict

import limits
import phonenumbers
from sqlalchemy.exc import IntegrityError

from tidings.core.secrets import SecretSource
from tidings.errors import (
    AccountSuspended,
    InvalidRequest,
    NotFound,
    OperatorOnly,
    Unauthorized,
)
from tidings.store import accounts as account_store
from tidings.store.engine import Database
from tidings.store.ids import new_id, random_token
from tidings.store.records import AccountRecord, ApiKeyRecord

_log = logging.getLogger(__name__)

SECRET_PREFIX = "tdk"
# Sub-accounts may nest; the walk up the parent chain stops here.
MAX_ACCOUNT_DEPTH = 16


class AccountStatus:
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Role(StrEnum):
    """What a caller may manage.

    Accounts are tenants: a tenant's key reaches its account's data and its sub-accounts'. The
    carrier connections (routes), the accounts themselves and inbound traffic to numbers nobody
    registered belong to the operator: an operator's key (``tidings accounts key ID --operator``)
    or a console user with the operator role. The CLI on the host acts as operator: it has the
    database, and calls core without a principal.
    """

    TENANT = "tenant"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key (or console user) and the account it belongs to, and its role."""

    key_id: str
    account: AccountRecord
    role: Role = Role.TENANT

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR


def require_operator(principal: Principal, action: str = "do that") -> None:
    """Refuse a tenant: ``action`` completes "only an operator may ..."."""
    if not principal.is_operator:
        raise OperatorOnly(f"only an operator may {action}")


class AccountChanges(TypedDict, total=False):
    """What an operator may change on an account; a key left out is left as it is."""

    name: str
    status: str
    rate_limit: str | None
    restrict_to_registered_senders: bool
    timezone: str
    region: str
    mms_fallback_sms: bool


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKeyRecord
    secret: str


def utcnow() -> datetime:
    return datetime.now(UTC)


def validate_region(region: str) -> str:
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidRequest(
            f"unknown region {region!r}: use an ISO 3166 code such as FI", field="region"
        )
    return code


def validate_rate(rate: str) -> str:
    """Check a request rate such as ``100/60 seconds`` (``limits`` notation)."""
    try:
        limits.parse(rate)
    except ValueError:
        raise InvalidRequest(
            f"not a rate: {rate!r} (write e.g. '100/60 seconds')", field="rate_limit"
        ) from None
    return rate


def validate_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"unknown time zone {name!r}", field="timezone") from None
    return name


async def create_account(
    database: Database,
    name: str,
    *,
    region: str,
    timezone: str = "UTC",
    parent_id: str | None = None,
    rate_limit: str | None = None,
    restrict_to_registered_senders: bool = False,
) -> AccountRecord:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidRequest("an account name has 1 to 200 characters", field="name")
    values = {
        "id": new_id(),
        "parent_id": parent_id,
        "name": name,
        "region": validate_region(region),
        "timezone": validate_timezone(timezone),
        "status": AccountStatus.ACTIVE,
        "rate_limit": None if rate_limit is None else validate_rate(rate_limit),
        "restrict_to_registered_senders": restrict_to_registered_senders,
        "created_at": utcnow(),
    }
    async with database.write() as connection:
        if (
            parent_id is not None
            and await account_store.find_account(connection, parent_id) is None
        ):
            raise NotFound(f"no parent account {parent_id}")
        return await account_store.insert_account(connection, **values)


async def get_account(database: Database, account_id: str) -> AccountRecord:
    async with database.read() as connection:
        account = await account_store.find_account(connection, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return account


async def list_accounts(database: Database) -> list[AccountRecord]:
    async with database.read() as connection:
        return await account_store.list_accounts(connection)


async def update_account(
    database: Database, account_id: str, changes: AccountChanges
) -> AccountRecord:
    """Change an account's name, status, rate limit or sender rule (an operator's task)."""
    values: dict[str, object] = {}
    if "name" in changes:
        name = changes["name"].strip()
        if not name or len(name) > 200:
            raise InvalidRequest("an account name has 1 to 200 characters", field="name")
        values["name"] = name
    if "status" in changes:
        if changes["status"] not in (AccountStatus.ACTIVE, AccountStatus.SUSPENDED):
            raise InvalidRequest("status is active or suspended", field="status")
        values["status"] = changes["status"]
    if "rate_limit" in changes:
        rate = changes["rate_limit"]
        values["rate_limit"] = None if rate is None else validate_rate(rate)
    if "restrict_to_registered_senders" in changes:
        values["restrict_to_registered_senders"] = changes["restrict_to_registered_senders"]
    if "mms_fallback_sms" in changes:
        values["mms_fallback_sms"] = changes["mms_fallback_sms"]
    if "timezone" in changes:
        values["timezone"] = validate_timezone(changes["timezone"])
    if "region" in changes:
        values["region"] = validate_region(changes["region"])
    async with database.write() as connection:
        if not values:
            found = await account_store.find_account(connection, account_id)
        else:
            found = await account_store.update_account(connection, account_id, **values)
    if found is None:
        raise NotFound(f"no account {account_id}")
    return found


async def list_sub_accounts(database: Database, account_id: str) -> list[AccountRecord]:
    async with database.read() as connection:
        return await account_store.list_sub_accounts(connection, account_id)


async def acting_account(
    database: Database, principal: Principal, account_id: str | None
) -> AccountRecord:
    """The account a request acts for: the key's own, or one of its sub-accounts (an
    operator's key: any account).

    Anything else is reported as not found, so a caller cannot probe for other accounts.
    """
    own = principal.account
    if account_id is None or account_id == own.id:
        return own
    async with database.read() as connection:
        target = await account_store.find_account(connection, account_id)
        if target is not None and principal.is_operator:
            if target.status != AccountStatus.ACTIVE:
                raise AccountSuspended()
            return target
        cursor = target
        for _ in range(MAX_ACCOUNT_DEPTH):
            if cursor is None or cursor.parent_id is None:
                break
            if cursor.parent_id == own.id:
                assert target is not None
                if target.status != AccountStatus.ACTIVE:
                    raise AccountSuspended()
                return target
            cursor = await account_store.find_account(connection, cursor.parent_id)
    raise NotFound(f"no account {account_id}")


# The stored form of a secret: HMAC-SHA256 under a key derived from the server secret. Secrets
# are 120 random bits, so a slow hash adds nothing but cost (a wrong secret cost 45 ms of CPU
# under scrypt); the key keeps a leaked table of hashes from being checked offline.
HMAC_SCHEME = "hmac-sha256"
KEY_HASH_PURPOSE = "api-key"
# What an unknown key id is compared with, so that it costs what a known one does.
_NO_KEY = f"{HMAC_SCHEME}${'0' * 64}"


def hash_secret(secret: str, key: bytes) -> str:
    return f"{HMAC_SCHEME}${hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()}"


def verify_secret(secret: str, stored: str, key: bytes) -> bool:
    """Whether ``secret`` is the one ``stored`` was made from, compared in constant time.

    Hashes made before keyed hashing (``scrypt$...``) are still checked, slowly; the
    authenticator replaces them once their secret is shown to be right.
    """
    scheme, _, rest = stored.partition("$")
    if scheme == HMAC_SCHEME:
        presented = hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(presented, rest)
    if scheme == "scrypt":
        return _verify_scrypt(secret, stored)
    return False


def _verify_scrypt(secret: str, stored: str) -> bool:
    try:
        _, n, r, p, salt_hex, digest_hex = stored.split("$")
        expected = bytes.fromhex(digest_hex)
        digest = hashlib.scrypt(
            secret.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


def key_id_of(secret: str) -> str | None:
    """The key id embedded in a secret, or None if the secret does not have our shape."""
    prefix, _, rest = secret.partition("_")
    key_id, _, random_part = rest.partition("_")
    if prefix != SECRET_PREFIX or not key_id or not random_part:
        return None
    return key_id


async def create_api_key(
    database: Database,
    account_id: str,
    *,
    name: str | None = None,
    role: Role = Role.TENANT,
    secrets: SecretSource | None = None,
) -> CreatedKey:
    """Create a key for the account; the returned secret is not stored and cannot be shown again.

    An operator key (``role``) belongs to an account like any other; it acts for that account
    unless a request names another (``account_id``). ``secrets`` is the deployment's server
    secret (``TIDINGS_SECRET_KEY`` when configured); None means the one generated and kept in
    the database, which is right only when none is configured.
    """
    key_id = random_token(10)
    secret = f"{SECRET_PREFIX}_{key_id}_{random_token(20)}"
    source = secrets if secrets is not None else _generated_secret(database)
    secret_hash = hash_secret(secret, await source.derive(KEY_HASH_PURPOSE))
    async with database.write() as connection:
        if await account_store.find_account(connection, account_id) is None:
            raise NotFound(f"no account {account_id}")
        try:
            key = await account_store.insert_api_key(
                connection,
                id=key_id,
                account_id=account_id,
                name=name,
                secret_hash=secret_hash,
                created_at=utcnow(),
                role=Role(role).value,
            )
        except IntegrityError:  # pragma: no cover - 50 random bits colliding
            raise InvalidRequest("key id collision, try again") from None
    return CreatedKey(key=key, secret=secret)


async def list_api_keys(database: Database, account_id: str) -> list[ApiKeyRecord]:
    """The account's keys (never their secrets), revoked ones too."""
    async with database.read() as connection:
        return await account_store.list_api_keys(connection, account_id)


async def revoke_api_key(database: Database, key_id: str, *, account_id: str | None = None) -> None:
    """Revoke a key; with ``account_id``, only that account's (another's is "no active key")."""
    async with database.write() as connection:
        if not await account_store.revoke_api_key(
            connection, key_id, utcnow(), account_id=account_id
        ):
            raise NotFound(f"no active key {key_id}")


def _generated_secret(database: Database) -> SecretSource:
    return SecretSource(database, None)


class Authenticator:
    """Checks API keys, remembering verified secrets for ``cache_seconds``.

    One instance per app. A revocation or suspension made through this app takes effect at once
    (:meth:`forget_key`, :meth:`forget_account`). One made elsewhere (the CLI, another API
    process) too: on PostgreSQL once :meth:`start` listens for the notices the change sends as
    it commits (``store.accounts.AUTH_CHANGES_CHANNEL``; while that listening is down, within
    ``cache_seconds``); on a SQLite file, on the very next request, which reads the count of
    such changes the store keeps (``store.accounts.SqliteAuthChanges``, a few microseconds)
    before it trusts anything remembered, and forgets everything when the count has moved.
    """

    # Listening again after a lost connection: first at once, then up to this often.
    RELISTEN_MAX_SECONDS = 5.0

    def __init__(
        self,
        database: Database,
        *,
        cache_seconds: float,
        secrets: SecretSource | None = None,
        max_entries: int = 10_000,
    ):
        self._database = database
        self._secrets = secrets if secrets is not None else _generated_secret(database)
        self._cache_seconds = cache_seconds
        self._max_entries = max_entries
        self._verified: OrderedDict[tuple[str, bytes], tuple[float, Principal]] = OrderedDict()
        # Bumped by every forget: a key read before a change arrived is not remembered after it.
        self._generation = 0
        self._listener: asyncio.Task[None] | None = None
        # SQLite: the count of changes made by any process, and the one last seen.
        sqlite_file = database.sqlite_file
        self._changes = (
            account_store.SqliteAuthChanges(sqlite_file)
            if sqlite_file is not None and cache_seconds > 0
            else None
        )
        self._changes_seen: int | None = None

    def start(self) -> None:
        """Listen for changes made by other processes (PostgreSQL; SQLite has no notices)."""
        if self._database.dialect == "postgresql" and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="auth-changes")

    async def close(self) -> None:
        if self._changes is not None:
            self._changes.close()
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self) -> None:
        pause = 0.0

        def listening() -> None:
            nonlocal pause
            pause = 0.0
            self.forget_all()  # what changed while nobody listened

        while True:
            try:
                await self._database.listen(
                    account_store.AUTH_CHANGES_CHANNEL, self._changed, on_listening=listening
                )
            except Exception as error:  # the connection failed: listen again, with a pause
                _log.warning("auth changes: listening failed (%s); again in %.1f s", error, pause)
            await asyncio.sleep(pause)
            pause = min(self.RELISTEN_MAX_SECONDS, max(0.1, pause * 2))

    def _changed(self, payload: str) -> None:
        kind, _, subject = payload.partition(":")
        if kind == "key":
            self.forget_key(subject)
        elif kind == "account":
            self.forget_account(subject)
        else:
            self.forget_all()

    @staticmethod
    def _cache_key(key_id: str | None, secret: str) -> tuple[str, bytes] | None:
        embedded = key_id_of(secret)
        if embedded is None or (key_id is not None and key_id != embedded):
            return None
        return embedded, hashlib.sha256(secret.encode()).digest()

    def _forget_changed_elsewhere(self) -> None:
        """SQLite: forget everything if a key or an account changed since the last look (or
        whether one did is unknown)."""
        if self._changes is None:
            return
        count = self._changes.read()
        if count is None or count != self._changes_seen:
            self.forget_all()
            self._changes_seen = count

    def remembered(self, key_id: str | None, secret: str) -> Principal | None:
        """The principal of a secret verified within ``cache_seconds``, and not changed since;
        None otherwise."""
        self._forget_changed_elsewhere()
        cache_key = self._cache_key(key_id, secret)
        cached = None if cache_key is None else self._verified.get(cache_key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        return None

    async def authenticate(self, key_id: str | None, secret: str) -> Principal:
        cache_key = self._cache_key(key_id, secret)
        if cache_key is None:
            raise Unauthorized()
        self._forget_changed_elsewhere()
        now = time.monotonic()
        cached = self._verified.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self._generation
        principal = await self._verify(cache_key[0], secret)
        if self._cache_seconds > 0 and generation == self._generation:
            self._verified[cache_key] = (now + self._cache_seconds, principal)
            self._verified.move_to_end(cache_key)
            while len(self._verified) > self._max_entries:
                self._verified.popitem(last=False)
        return principal

    def forget_key(self, key_id: str) -> None:
        """Drop what is remembered of the key (it was revoked)."""
        self._generation += 1
        for cache_key in [k for k in self._verified if k[0] == key_id]:
            del self._verified[cache_key]

    def forget_account(self, account_id: str) -> None:
        """Drop what is remembered of the account's keys (it was suspended or changed)."""
        self._generation += 1
        for cache_key, (_, principal) in list(self._verified.items()):
            if principal.account.id == account_id:
                del self._verified[cache_key]

    def forget_all(self) -> None:
        self._generation += 1
        self._verified.clear()

    async def _verify(self, key_id: str, secret: str) -> Principal:
        """One read and one keyed hash, whether the key exists or not: an unknown id answers
        as fast as a known one with a wrong secret."""
        key_hash = await self._secrets.derive(KEY_HASH_PURPOSE)
        async with self._database.read() as connection:
            found = await account_store.find_key_and_account(connection, key_id)
        stored = _NO_KEY if found is None else found[0].secret_hash
        if stored.startswith(HMAC_SCHEME):
            right = verify_secret(secret, stored, key_hash)
        else:
            right = await asyncio.to_thread(verify_secret, secret, stored, key_hash)
            if right and found is not None:
                await self._upgrade(found[0], hash_secret(secret, key_hash))
        if found is None or not right:
            raise Unauthorized()
        key, account = found
        if key.revoked_at is not None:
            raise Unauthorized()
        if account.status != AccountStatus.ACTIVE:
            raise AccountSuspended()
        return Principal(key_id=key.id, account=account, role=Role(key.role))

    async def _upgrade(self, key: ApiKeyRecord, keyed: str) -> None:
        """Replace a scrypt hash with the keyed one, now that its secret proved right."""
        async with self._database.write() as connection:
            await account_store.replace_secret_hash(connection, key.id, key.secret_hash, keyed)
