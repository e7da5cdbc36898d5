"""Keywords and inbound rules: what an account's inbound messages trigger.

Every function takes the owning account id and scopes its query to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import inbound_rules, keywords
from tidings.store.records import _Record

ALL_NUMBERS = "*"


@dataclass(frozen=True, slots=True)
class KeywordRecord(_Record):
    id: str
    account_id: str
    number: str
    keyword: str
    reply: str | None
    add_to_list_id: str | None
    remove_from_list_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InboundRuleRecord(_Record):
    id: str
    account_id: str
    name: str
    dedicated_number: str
    message_search_type: int
    message_search_term: str | None
    action: str
    action_address: str | None
    webhook_type: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    payload_format: str = "native"


async def _insert(connection: AsyncConnection, table: Table, values: dict[str, Any]) -> Any:
    return (await connection.execute(insert(table).values(**values).returning(table))).one()


async def _find(connection: AsyncConnection, table: Table, account_id: str, row_id: str) -> Any:
    return (
        await connection.execute(
            select(table).where(table.c.account_id == account_id, table.c.id == row_id)
        )
    ).one_or_none()


async def _update(
    connection: AsyncConnection, table: Table, account_id: str, row_id: str, values: dict[str, Any]
) -> Any:
    return (
        await connection.execute(
            update(table)
            .where(table.c.account_id == account_id, table.c.id == row_id)
            .values(**values)
            .returning(table)
        )
    ).one_or_none()


async def _delete(connection: AsyncConnection, table: Table, account_id: str, row_id: str) -> bool:
    result = await connection.execute(
        delete(table).where(table.c.account_id == account_id, table.c.id == row_id)
    )
    return result.rowcount > 0


async def _page(
    connection: AsyncConnection, table: Table, account_id: str, limit: int, after_id: str | None
) -> list[Any]:
    query = select(table).where(table.c.account_id == account_id)
    if after_id is not None:
        query = query.where(table.c.id > after_id)
    return list(await connection.execute(query.order_by(table.c.id).limit(limit)))


# Keywords ------------------------------------------------------------------------------------


async def insert_keyword(connection: AsyncConnection, **values: Any) -> KeywordRecord:
    return KeywordRecord.from_row(await _insert(connection, keywords, values))


async def find_keyword(
    connection: AsyncConnection, account_id: str, keyword_id: str
) -> KeywordRecord | None:
    row = await _find(connection, keywords, account_id, keyword_id)
    return None if row is None else KeywordRecord.from_row(row)


async def update_keyword(
    connection: AsyncConnection, account_id: str, keyword_id: str, **values: Any
) -> KeywordRecord | None:
    row = await _update(connection, keywords, account_id, keyword_id, values)
    return None if row is None else KeywordRecord.from_row(row)


async def delete_keyword(connection: AsyncConnection, account_id: str, keyword_id: str) -> bool:
    return await _delete(connection, keywords, account_id, keyword_id)


async def list_keywords(
    connection: AsyncConnection, account_id: str, *, limit: int, after_id: str | None = None
) -> list[KeywordRecord]:
    rows = await _page(connection, keywords, account_id, limit, after_id)
    return [KeywordRecord.from_row(row) for row in rows]


async def keywords_for(
    connection: AsyncConnection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[KeywordRecord]]:
    """The keywords of each (account, receiving number) in one query."""
    wanted = set(pairs)
    if not wanted:
        return {}
    result = await connection.execute(
        select(keywords).where(
            keywords.c.account_id.in_({account for account, _ in wanted}),
            keywords.c.number.in_({number for _, number in wanted}),
        )
    )
    found: dict[tuple[str, str], list[KeywordRecord]] = {}
    for row in result:
        record = KeywordRecord.from_row(row)
        key = (record.account_id, record.number)
        if key in wanted:
            found.setdefault(key, []).append(record)
    return found


# Inbound rules -------------------------------------------------------------------------------


async def insert_rule(connection: AsyncConnection, **values: Any) -> InboundRuleRecord:
    return InboundRuleRecord.from_row(await _insert(connection, inbound_rules, values))


async def find_rule(
    connection: AsyncConnection, account_id: str, rule_id: str
) -> InboundRuleRecord | None:
    row = await _find(connection, inbound_rules, account_id, rule_id)
    return None if row is None else InboundRuleRecord.from_row(row)


async def update_rule(
    connection: AsyncConnection, account_id: str, rule_id: str, **values: Any
) -> InboundRuleRecord | None:
    row = await _update(connection, inbound_rules, account_id, rule_id, values)
    return None if row is None else InboundRuleRecord.from_row(row)


async def delete_rule(connection: AsyncConnection, account_id: str, rule_id: str) -> bool:
    return await _delete(connection, inbound_rules, account_id, rule_id)


async def list_rules(
    connection: AsyncConnection, account_id: str, *, limit: int, after_id: str | None = None
) -> list[InboundRuleRecord]:
    rows = await _page(connection, inbound_rules, account_id, limit, after_id)
    return [InboundRuleRecord.from_row(row) for row in rows]


async def enabled_rules_for(
    connection: AsyncConnection, account_ids: Iterable[str], numbers: Iterable[str]
) -> list[InboundRuleRecord]:
    """Enabled rules of these accounts on these numbers or on all numbers, in creation order."""
    result = await connection.execute(
        select(inbound_rules)
        .where(
            inbound_rules.c.account_id.in_(set(account_ids)),
            inbound_rules.c.enabled.is_(True),
            or_(
                inbound_rules.c.dedicated_number == ALL_NUMBERS,
                inbound_rules.c.dedicated_number.in_(set(numbers)),
            ),
        )
        .order_by(inbound_rules.c.id)
    )
    return [InboundRuleRecord.from_row(row) for row in result]
