"""The TrueDialog dialect's integer ids and callback tokens, by intent.

Aliases are created with ``ON CONFLICT DO NOTHING`` and read back, so two transactions that
alias the same object at once both succeed (one insert wins) instead of one aborting: the
webhook renderer creates aliases inside the dispatcher's status transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Executable, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import messages, senders, truedialog_accounts, truedialog_ids

ACCOUNT = "account"
CHANNEL = "channel"
CONTACT = "contact"
CALLBACK = "callback"
ACTION = "action"
KEYWORD = "keyword"
CAMPAIGN = "campaign"
# A media object (``POST /account/{id}/media``), what a push's MediaId names.
MEDIA = "media"


def _insert_ignoring_conflicts(connection: AsyncConnection, table: Table) -> Executable:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


async def ids_of(
    connection: AsyncConnection, kind: str, target_ids: Collection[str]
) -> dict[str, int]:
    """The aliases that exist for ``target_ids``, keyed by target id."""
    if not target_ids:
        return {}
    result = await connection.execute(
        select(truedialog_ids.c.target_id, truedialog_ids.c.id).where(
            truedialog_ids.c.kind == kind, truedialog_ids.c.target_id.in_(list(target_ids))
        )
    )
    return {row.target_id: row.id for row in result}


async def ensure_ids(
    connection: AsyncConnection, kind: str, account_id: str, target_ids: Collection[str]
) -> dict[str, int]:
    """An alias for each of ``target_ids`` (objects of ``account_id``), created when missing."""
    known = await ids_of(connection, kind, target_ids)
    missing = [target for target in dict.fromkeys(target_ids) if target not in known]
    if missing:
        now = datetime.now(UTC)
        statement = _insert_ignoring_conflicts(connection, truedialog_ids)
        await connection.execute(
            statement,
            [
                {"kind": kind, "target_id": target, "account_id": account_id, "created_at": now}
                for target in missing
            ],
        )
        known.update(await ids_of(connection, kind, missing))
    return known


async def find_target(
    connection: AsyncConnection, kind: str, alias: int, account_ids: Collection[str]
) -> str | None:
    """The target id behind ``alias`` if it is of ``kind`` and belongs to one of ``account_ids``."""
    row = (
        await connection.execute(
            select(truedialog_ids.c.target_id).where(
                truedialog_ids.c.id == alias,
                truedialog_ids.c.kind == kind,
                truedialog_ids.c.account_id.in_(list(account_ids)),
            )
        )
    ).one_or_none()
    return None if row is None else str(row.target_id)


async def find_targets(
    connection: AsyncConnection, kind: str, aliases: Collection[int], account_ids: Collection[str]
) -> dict[int, str]:
    """The target ids behind those of ``aliases`` that are of ``kind`` and belong to one of
    ``account_ids``, in one read."""
    if not aliases or not account_ids:
        return {}
    result = await connection.execute(
        select(truedialog_ids.c.id, truedialog_ids.c.target_id).where(
            truedialog_ids.c.id.in_(list(aliases)),
            truedialog_ids.c.kind == kind,
            truedialog_ids.c.account_id.in_(list(account_ids)),
        )
    )
    return {int(row.id): str(row.target_id) for row in result}


async def callback_tokens(
    connection: AsyncConnection, account_ids: Collection[str]
) -> dict[str, str]:
    if not account_ids:
        return {}
    result = await connection.execute(
        select(truedialog_accounts.c.account_id, truedialog_accounts.c.callback_token).where(
            truedialog_accounts.c.account_id.in_(list(account_ids))
        )
    )
    return {row.account_id: row.callback_token for row in result}


async def ensure_callback_token(connection: AsyncConnection, account_id: str) -> str:
    """The account's callback token, a GUID made the first time it is asked for."""
    statement = _insert_ignoring_conflicts(connection, truedialog_accounts)
    found = await callback_tokens(connection, [account_id])
    if account_id not in found:
        await connection.execute(
            statement,
            {
                "account_id": account_id,
                "callback_token": str(uuid.uuid4()),
                "created_at": datetime.now(UTC),
            },
        )
        found = await callback_tokens(connection, [account_id])
    return found[account_id]


@dataclass(frozen=True, slots=True)
class NoticeOrigin:
    """What a delivery notice names of the message it is about."""

    account_id: str
    sender: str
    body: str
    # A plain push's action key (see api.dialects.truedialog), or a caller's own request id.
    request_id: str | None
    campaign_id: str | None


async def notice_origins(
    connection: AsyncConnection, message_ids: Collection[str]
) -> dict[str, NoticeOrigin]:
    """The origin of each of these messages, in one read of the columns notices need."""
    if not message_ids:
        return {}
    result = await connection.execute(
        select(
            messages.c.id,
            messages.c.account_id,
            messages.c.sender,
            messages.c.body,
            messages.c.request_id,
            messages.c.campaign_id,
        ).where(messages.c.id.in_(list(message_ids)))
    )
    return {
        row.id: NoticeOrigin(row.account_id, row.sender, row.body, row.request_id, row.campaign_id)
        for row in result
    }


async def senders_by_address(
    connection: AsyncConnection, account_id: str, addresses: Collection[str]
) -> dict[str, str]:
    """Sender ids of the account's registered ``addresses``, keyed by address."""
    if not addresses:
        return {}
    result = await connection.execute(
        select(senders.c.address, senders.c.id).where(
            senders.c.account_id == account_id, senders.c.address.in_(list(addresses))
        )
    )
    return {row.address: row.id for row in result}
