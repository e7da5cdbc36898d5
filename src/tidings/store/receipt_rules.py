"""Delivery receipt rules: a name, a match type and an on/off switch over a webhook
subscription. Every function but :func:`rules_of_subscriptions` is scoped to the owning account."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import receipt_rules, webhook_subscriptions
from tidings.store.records import _Record


@dataclass(frozen=True, slots=True)
class ReceiptRuleRecord(_Record):
    id: str
    account_id: str
    subscription_id: str
    name: str
    match_type: int
    enabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReceiptRuleView:
    """A rule with its subscription's URL and body format."""

    rule: ReceiptRuleRecord
    url: str
    payload_format: str


_VIEW = select(receipt_rules, webhook_subscriptions.c.url, webhook_subscriptions.c.payload_format)


def _view(row: Any) -> ReceiptRuleView:
    return ReceiptRuleView(ReceiptRuleRecord.from_row(row), row.url, row.payload_format)


def _joined() -> Any:
    return _VIEW.select_from(
        receipt_rules.join(
            webhook_subscriptions, webhook_subscriptions.c.id == receipt_rules.c.subscription_id
        )
    )


async def insert_rule(connection: AsyncConnection, **values: Any) -> None:
    await connection.execute(insert(receipt_rules).values(**values))


async def find_rule(
    connection: AsyncConnection, account_id: str, rule_id: str
) -> ReceiptRuleView | None:
    row = (
        await connection.execute(
            _joined().where(receipt_rules.c.account_id == account_id, receipt_rules.c.id == rule_id)
        )
    ).one_or_none()
    return None if row is None else _view(row)


async def list_rules(connection: AsyncConnection, account_id: str) -> list[ReceiptRuleView]:
    result = await connection.execute(
        _joined().where(receipt_rules.c.account_id == account_id).order_by(receipt_rules.c.id)
    )
    return [_view(row) for row in result]


async def update_rule(
    connection: AsyncConnection, account_id: str, rule_id: str, **values: Any
) -> None:
    await connection.execute(
        update(receipt_rules)
        .where(receipt_rules.c.account_id == account_id, receipt_rules.c.id == rule_id)
        .values(**values)
    )


async def update_target(
    connection: AsyncConnection, subscription_id: str, *, url: str, payload_format: str
) -> None:
    await connection.execute(
        update(webhook_subscriptions)
        .where(webhook_subscriptions.c.id == subscription_id)
        .values(url=url, payload_format=payload_format)
    )


async def delete_rule(connection: AsyncConnection, account_id: str, rule_id: str) -> bool:
    """Delete the rule and its subscription (whose undelivered pushes then die)."""
    found = await find_rule(connection, account_id, rule_id)
    if found is None:
        return False
    await connection.execute(delete(receipt_rules).where(receipt_rules.c.id == rule_id))
    await connection.execute(
        delete(webhook_subscriptions).where(
            webhook_subscriptions.c.id == found.rule.subscription_id
        )
    )
    return True


async def rules_of_subscriptions(
    connection: AsyncConnection, subscription_ids: Collection[str]
) -> dict[str, ReceiptRuleRecord]:
    if not subscription_ids:
        return {}
    result = await connection.execute(
        select(receipt_rules).where(receipt_rules.c.subscription_id.in_(list(subscription_ids)))
    )
    return {row.subscription_id: ReceiptRuleRecord.from_row(row) for row in result}
