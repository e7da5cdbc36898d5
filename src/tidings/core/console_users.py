"""Web console users: who may sign in, with which role, and their sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
option). A session is a random token in a cookie; the database keeps its SHA-256 only, with the
session's CSRF token, an idle expiry pushed forward as it is used, and an absolute expiry.
What a role may do is the table :data:`ROLE_PERMISSIONS`, the only place that decides it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.accounts import AccountStatus, Principal, Role, utcnow
from tidings.errors import AlreadyExists, Forbidden, InvalidRequest, NotFound, Unauthorized
from tidings.store import accounts as account_store
from tidings.store import console_users as store
from tidings.store.console_users import ConsoleUserRecord
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# A session idle this long signs out; none lives longer than the absolute limit.
DEFAULT_IDLE = timedelta(hours=12)
ABSOLUTE_LIFETIME = timedelta(days=7)
# Writing last_seen_at on every page would make every page a write transaction.
_TOUCH_EVERY = timedelta(minutes=1)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class ConsoleRole(StrEnum):
    # The service's operator (routes, every account, the simulator); see core.accounts.Role.
    OPERATOR = "operator"
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Permission(StrEnum):
    """What a page or a form needs; roles grant sets of these."""

    READ = "read"  # dashboard, messages, conversations, contacts, campaigns, simulator
    SEND = "send"  # compose, reply, campaigns, contacts and lists, simulator handsets
    COMPLIANCE = "compliance"  # opt-outs, blocklist, keywords, rules, STOP/HELP texts
    DEVELOPERS = "developers"  # API keys, webhooks, connector exports
    USERS = "users"  # the account's console users
    OPERATE = "operate"  # routes, accounts, unrouted inbound, the simulator, the service's health


_MEMBER = frozenset({Permission.READ, Permission.SEND})
_ADMIN = _MEMBER | {Permission.COMPLIANCE, Permission.DEVELOPERS}

ROLE_PERMISSIONS: Mapping[ConsoleRole, frozenset[Permission]] = {
    ConsoleRole.MEMBER: _MEMBER,
    ConsoleRole.ADMIN: _ADMIN,
    ConsoleRole.OWNER: _ADMIN | {Permission.USERS},
    ConsoleRole.OPERATOR: _ADMIN | {Permission.USERS, Permission.OPERATE},
}


class InvalidCredentials(Unauthorized):
    """That e-mail address and password do not match a console user."""


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """A console user as pages see it: never the password hash."""

    id: str
    account_id: str
    email: str
    name: str | None
    role: ConsoleRole
    created_at: datetime
    last_sign_in_at: datetime | None

    @classmethod
    def of(cls, record: ConsoleUserRecord) -> ConsoleUser:
        return cls(
            id=record.id,
            account_id=record.account_id,
            email=record.email,
            name=record.name,
            role=ConsoleRole(record.role),
            created_at=record.created_at,
            last_sign_in_at=record.last_sign_in_at,
        )

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def principal(self, account: AccountRecord) -> Principal:
        """The user as core's callers are known: operator or tenant of ``account``."""
        role = Role.OPERATOR if self.may(Permission.OPERATE) else Role.TENANT
        return Principal(key_id=self.id, account=account, role=role)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session: who, for which account, and the token its forms must carry."""

    user: ConsoleUser
    account: AccountRecord
    csrf_token: str


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # goes into the cookie; only its digest is stored
    signed_in: SignedIn
    expires_at: datetime


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    address = email.strip().lower()
    if len(address) > 254 or not _EMAIL.match(address):
        raise InvalidRequest(f"not an e-mail address: {email!r}", field="email")
    return address


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            field="password",
        )
    return password


def generate_password() -> str:
    """A password to hand out (demo user, resets): 16 URL-safe characters, ~96 bits."""
    return secrets.token_urlsafe(12)


def parse_role(role: str) -> ConsoleRole:
    try:
        return ConsoleRole(role.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in ConsoleRole)
        raise InvalidRequest(f"a role is one of {names}, not {role!r}", field="role") from None


async def hash_password(password: str) -> str:
    # argon2 is meant to cost tens of milliseconds of CPU: not on the event loop.
    return await asyncio.to_thread(_hasher().hash, check_password(password))


async def create_user(
    database: Database,
    account_id: str,
    email: str,
    password: str,
    *,
    role: ConsoleRole = ConsoleRole.MEMBER,
    name: str | None = None,
) -> ConsoleUser:
    address = normalize_email(email)
    if name is not None and len(name.strip()) > 200:
        raise InvalidRequest("a name has at most 200 characters", field="name")
    password_hash = await hash_password(password)
    now = utcnow()
    async with database.write() as connection:
        if await account_store.find_account(connection, account_id) is None:
            raise NotFound(f"no account {account_id}")
        if await store.find_user_by_email(connection, address) is not None:
            raise AlreadyExists(f"a console user {address} already exists")
        try:
            record = await store.insert_user(
                connection,
                id=new_id(),
                account_id=account_id,
                email=address,
                name=(name or "").strip() or None,
                role=role.value,
                password_hash=password_hash,
                created_at=now,
                updated_at=now,
                last_sign_in_at=None,
            )
        except IntegrityError:  # the same address created concurrently
            raise AlreadyExists(f"a console user {address} already exists") from None
    return ConsoleUser.of(record)


async def list_users(database: Database, account_id: str | None = None) -> list[ConsoleUser]:
    async with database.read() as connection:
        return [ConsoleUser.of(r) for r in await store.list_users(connection, account_id)]


async def find_user(database: Database, email: str) -> ConsoleUser | None:
    async with database.read() as connection:
        record = await store.find_user_by_email(connection, normalize_email(email))
    return None if record is None else ConsoleUser.of(record)


async def reset_password(database: Database, email: str, password: str) -> ConsoleUser:
    """Set a new password and sign the user out everywhere."""
    address = normalize_email(email)
    password_hash = await hash_password(password)
    async with database.write() as connection:
        found = await store.find_user_by_email(connection, address)
        if found is None:
            raise NotFound(f"no console user {address}")
        record = await store.update_user(
            connection, found.id, password_hash=password_hash, updated_at=utcnow()
        )
        await store.delete_sessions_of(connection, found.id)
    assert record is not None
    return ConsoleUser.of(record)


def roles_given_by(acting: ConsoleUser) -> tuple[ConsoleRole, ...]:
    """The roles ``acting`` may give: an owner gives owner, admin and member; the operator role
    is the service's, given only by an operator (or ``tidings users``)."""
    if acting.may(Permission.OPERATE):
        return tuple(ConsoleRole)
    if acting.may(Permission.USERS):
        return (ConsoleRole.OWNER, ConsoleRole.ADMIN, ConsoleRole.MEMBER)
    return ()


def _check_manages(acting: SignedIn, role: ConsoleRole | None = None) -> None:
    if not acting.user.may(Permission.USERS):
        raise Forbidden("only an owner manages console users")
    if role is not None and role not in roles_given_by(acting.user):
        raise Forbidden(f"an {acting.user.role} cannot make anyone {role}")


async def _managed_user(
    connection: AsyncConnection, acting: SignedIn, user_id: str
) -> ConsoleUserRecord:
    """A user of the acting owner's own account, whom the acting user's role may manage."""
    found = await store.find_user(connection, user_id)
    if found is None or found.account_id != acting.account.id:
        raise NotFound(f"no console user {user_id}")
    if ConsoleRole(found.role) not in roles_given_by(acting.user):
        raise Forbidden(f"an {acting.user.role} cannot change an {found.role}")
    return found


async def add_user(
    database: Database,
    acting: SignedIn,
    email: str,
    role: ConsoleRole,
    *,
    name: str | None = None,
    password: str | None = None,
) -> tuple[ConsoleUser, str]:
    """A new user of the acting owner's account, and their password (the one given, or one
    generated to hand over: shown once, stored only as its hash)."""
    _check_manages(acting, role)
    chosen = password or generate_password()
    user = await create_user(
        database, acting.account.id, email, chosen, role=role, name=name or None
    )
    return user, chosen


async def set_role(
    database: Database, acting: SignedIn, user_id: str, role: ConsoleRole
) -> ConsoleUser:
    """Change a user's role within the acting owner's account; an owner cannot demote
    themselves (an account would otherwise lose its last owner by accident). The user signs in
    again to work with the new role."""
    _check_manages(acting, role)
    if user_id == acting.user.id and role is not acting.user.role:
        raise InvalidRequest("you cannot change your own role", field="role")
    async with database.write() as connection:
        await _managed_user(connection, acting, user_id)
        record = await store.update_user(connection, user_id, role=role.value, updated_at=utcnow())
        await store.delete_sessions_of(connection, user_id)
    assert record is not None
    return ConsoleUser.of(record)


async def remove_user(database: Database, acting: SignedIn, user_id: str) -> ConsoleUser:
    """Remove a user of the acting owner's account, signing them out everywhere; an owner
    cannot remove themselves (the account keeps an owner)."""
    _check_manages(acting)
    if user_id == acting.user.id:
        raise InvalidRequest("you cannot remove yourself", field="user")
    async with database.write() as connection:
        found = await _managed_user(connection, acting, user_id)
        await store.delete_user(connection, user_id)
    return ConsoleUser.of(found)


async def reset_password_of(
    database: Database, acting: SignedIn, user_id: str
) -> tuple[ConsoleUser, str]:
    """A new generated password for a user of the acting owner's account (shown once to hand
    over); the user is signed out everywhere."""
    _check_manages(acting)
    async with database.read() as connection:
        found = await _managed_user(connection, acting, user_id)
    chosen = generate_password()
    return await reset_password(database, found.email, chosen), chosen


@functools.cache
def _unknown_user_hash() -> str:
    """Verified against when the address is unknown, so both answers take the same time."""
    return PasswordHasher().hash(secrets.token_urlsafe(16))


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def sign_in(
    database: Database, email: str, password: str, *, idle: timedelta = DEFAULT_IDLE
) -> NewSession:
    """Check the password and open a session; :class:`InvalidCredentials` for any mismatch
    (an unknown address and a wrong password are told apart neither by the answer nor by its
    time)."""
    try:
        address = normalize_email(email)
    except InvalidRequest:
        address = ""
    async with database.read() as connection:
        record = await store.find_user_by_email(connection, address) if address else None
        account = (
            None
            if record is None
            else await account_store.find_account(connection, record.account_id)
        )
    stored = _unknown_user_hash() if record is None else record.password_hash
    matches = await asyncio.to_thread(_verify, stored, password[:MAX_PASSWORD_LENGTH])
    if record is None or account is None or not matches:
        raise InvalidCredentials()
    if account.status != AccountStatus.ACTIVE:
        raise Forbidden("this account is suspended")
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + idle
    async with database.write() as connection:
        await store.insert_session(
            connection,
            token_hash=_token_hash(token),
            user_id=record.id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            absolute_expires_at=now + ABSOLUTE_LIFETIME,
        )
        values: dict[str, object] = {"last_sign_in_at": now}
        if _hasher().check_needs_rehash(record.password_hash):
            values["password_hash"] = await hash_password(password)
        updated = await store.update_user(connection, record.id, **values)
        await store.delete_expired_sessions(connection, now)
    assert updated is not None
    return NewSession(
        token=token,
        signed_in=SignedIn(ConsoleUser.of(updated), account, csrf_token),
        expires_at=expires_at,
    )


async def session_for(
    database: Database, token: str, *, idle: timedelta = DEFAULT_IDLE
) -> SignedIn | None:
    """The live session with this cookie token, or None (unknown, expired, or its account
    suspended). Using a session keeps it alive for ``idle`` more."""
    if not token or len(token) > 128:
        return None
    token_hash = _token_hash(token)
    now = utcnow()
    async with database.read() as connection:
        found = await store.find_live_session(connection, token_hash, now)
        if found is None:
            return None
        session, record = found
        account = await account_store.find_account(connection, record.account_id)
    if account is None or account.status != AccountStatus.ACTIVE:
        return None
    if now - session.last_seen_at >= _TOUCH_EVERY:
        async with database.write() as connection:
            await store.touch_session(
                connection,
                token_hash,
                seen_at=now,
                expires_at=min(now + idle, session.absolute_expires_at),
            )
    return SignedIn(ConsoleUser.of(record), account, session.csrf_token)


async def sign_out(database: Database, token: str) -> None:
    async with database.write() as connection:
        await store.delete_session(connection, _token_hash(token))
