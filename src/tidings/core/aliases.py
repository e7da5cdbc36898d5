"""Stable integer ids for provider APIs whose ids are numbers (ClickSend's list and contact ids).

A number only names a target; whether the caller may see it is decided by looking the target up
for the acting account, exactly as with its own id.
"""

from __future__ import annotations

from collections.abc import Sequence

from tidings.errors import NotFound
from tidings.store import aliases as alias_store
from tidings.store.engine import Database


class AliasKind:
    LIST = "list"
    # A contact as one list holds it (ClickSend's lists each hold their own contacts).
    LIST_CONTACT = "list_contact"
    ACCOUNT = "account"
    INBOUND_RULE = "inbound_rule"
    CAMPAIGN = "campaign"
    RECEIPT_RULE = "receipt_rule"
    RETURN_ADDRESS = "return_address"
    UPLOAD = "upload"


async def numbers_for(database: Database, kind: str, target_ids: Sequence[str]) -> dict[str, int]:
    """The number of each target, handing out numbers to targets that have none yet."""
    wanted = list(dict.fromkeys(target_ids))
    async with database.read() as connection:
        found = await alias_store.find_aliases(connection, kind, wanted)
    missing = [target for target in wanted if target not in found]
    if missing:
        async with database.write() as connection:
            await alias_store.create_aliases(connection, kind, missing)
            found.update(await alias_store.find_aliases(connection, kind, missing))
    return found


async def number_for(database: Database, kind: str, target_id: str) -> int:
    return (await numbers_for(database, kind, [target_id]))[target_id]


# Numbers are 64-bit signed columns; a larger one (any client may send one) names nothing.
MAX_NUMBER = 2**63 - 1


async def target_of(database: Database, kind: str, number: int) -> str:
    """The id a number stands for; NotFound when it was never handed out."""
    if not 0 < number <= MAX_NUMBER:
        raise NotFound(f"no {kind} {number}")
    async with database.read() as connection:
        target = await alias_store.find_target(connection, kind, number)
    if target is None:
        raise NotFound(f"no {kind} {number}")
    return target
