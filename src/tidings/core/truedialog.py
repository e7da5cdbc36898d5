"""What TrueDialog's API (``/api/v2.1``) asks of tidings besides sending: its integer ids for
our objects, the objects behind them (only the caller's own), and the account's callback token.

A TrueDialog id only names a target; whether the caller may see it is decided here, by looking
the target up among the accounts it may act for, exactly as with its own id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tidings.store import accounts as account_store
from tidings.store import contacts as contact_store
from tidings.store import routes as route_store
from tidings.store import truedialog as store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord, ApiKeyRecord, SenderRecord
from tidings.store.truedialog import ACCOUNT as ACCOUNT
from tidings.store.truedialog import ACTION as ACTION
from tidings.store.truedialog import CALLBACK as CALLBACK
from tidings.store.truedialog import CAMPAIGN as CAMPAIGN
from tidings.store.truedialog import CHANNEL as CHANNEL
from tidings.store.truedialog import CONTACT as CONTACT
from tidings.store.truedialog import MEDIA as MEDIA

API_KEY = "apikey"
# TrueDialog ids are int32: larger digits are no id of ours.
MAX_ALIAS = 2**31 - 1


def as_alias(text: str) -> int | None:
    """``text`` as a TrueDialog id: digits within int32, else None."""
    text = text.strip()
    if not text.isdigit() or int(text) > MAX_ALIAS:
        return None
    return int(text)


async def alias_of(database: Database, kind: str, account_id: str, target_id: str) -> int:
    """The TrueDialog id of one of the account's objects, handed out the first time."""
    async with database.read() as connection:
        known = await store.ids_of(connection, kind, [target_id])
    if target_id in known:
        return known[target_id]
    async with database.write() as connection:
        return (await store.ensure_ids(connection, kind, account_id, [target_id]))[target_id]


async def target_of(database: Database, kind: str, text: str, account_id: str) -> str | None:
    """The id behind a TrueDialog id, if ``text`` is one and names an object of ``kind`` of
    the account."""
    alias = as_alias(text)
    if alias is None:
        return None
    async with database.read() as connection:
        return await store.find_target(connection, kind, alias, [account_id])


async def account_of(database: Database, caller: AccountRecord, text: str) -> str | None:
    """The account a TrueDialog id names among the caller's account and its descendants."""
    alias = as_alias(text)
    if alias is None:
        return None
    async with database.read() as connection:
        family, frontier = [caller.id], [caller.id]
        while frontier:
            children = [
                child.id
                for parent in frontier
                for child in await account_store.list_sub_accounts(connection, parent)
            ]
            family.extend(children)
            frontier = children
        known = await store.ids_of(connection, ACCOUNT, family)
    if len(known) < len(family):
        # Sub-accounts made since the last call get their ids now, so a parent can name them.
        async with database.write() as connection:
            for account_id in family:
                if account_id not in known:
                    await store.ensure_ids(connection, ACCOUNT, account_id, [account_id])
    async with database.read() as connection:
        return await store.find_target(connection, ACCOUNT, alias, family)


@dataclass(frozen=True, slots=True)
class AccountIds:
    """An account as TrueDialog shows it: its id, its parent's, its callback token."""

    id: int
    parent_id: int | None
    callback_token: str


async def account_ids(database: Database, account: AccountRecord) -> AccountIds:
    async with database.write() as connection:
        token = await store.ensure_callback_token(connection, account.id)
        own = await store.ensure_ids(connection, ACCOUNT, account.id, [account.id])
        parent = (
            None
            if account.parent_id is None
            else (
                await store.ensure_ids(connection, ACCOUNT, account.parent_id, [account.parent_id])
            )[account.parent_id]
        )
    return AccountIds(own[account.id], parent, token)


async def ensure_callback_token(database: Database, account_id: str) -> str:
    """The account's callback token (a GUID made the first time), which its callbacks carry."""
    async with database.write() as connection:
        return await store.ensure_callback_token(connection, account_id)


async def api_key(database: Database, key_id: str) -> ApiKeyRecord | None:
    async with database.read() as connection:
        return await account_store.find_api_key(connection, key_id)


async def channels(database: Database, account: AccountRecord) -> list[tuple[int, SenderRecord]]:
    """The account's senders, TrueDialog's channels, each with its id."""
    async with database.write() as connection:
        senders = await route_store.list_senders(connection, account.id)
        aliases = await store.ensure_ids(
            connection, CHANNEL, account.id, [sender.id for sender in senders]
        )
    return [(aliases[sender.id], sender) for sender in senders]


async def channel_sender(
    database: Database, account_id: str, alias: int, address: str
) -> SenderRecord | None:
    """The account's sender that a channel of digits names: by its TrueDialog id ``alias``,
    else (a short code) by its ``address``."""
    async with database.read() as connection:
        sender_id = await store.find_target(connection, CHANNEL, alias, [account_id])
        sender = (
            None
            if sender_id is None
            else await route_store.find_sender(connection, account_id, sender_id)
        )
        if sender is None:
            sender = await route_store.find_sender_by_address(connection, account_id, address)
    return sender


async def contact_phones(
    database: Database, account_id: str, aliases: Collection[int]
) -> tuple[dict[int, str], dict[str, str]]:
    """Which of ``aliases`` are TrueDialog ids of the account's contacts (alias → contact id),
    and those contacts' phones (contact id → phone), in one read."""
    async with database.read() as connection:
        contact_ids = await store.find_targets(connection, CONTACT, aliases, [account_id])
        phones = await contact_store.phones_of(connection, account_id, contact_ids.values())
    return contact_ids, phones


def new_action_key() -> str:
    """The key of a push (an action), under which its messages are found again."""
    return new_id()
