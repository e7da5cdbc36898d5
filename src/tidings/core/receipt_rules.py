"""Delivery receipt rules (ClickSend's receipt automations): a named, switchable webhook
subscription to ``message.status`` whose bodies are ClickSend's delivery receipt push.

The rule and its subscription are written in one transaction; the subscription carries the URL
and the body format (``clicksend`` JSON or ``clicksend_form``), so the push goes through the
same outbox, retries and SSRF checks as every webhook. Which receipts a rule wants
(``match_type``) and whether it is on are read when the receipts are enqueued
(``events/formats/clicksend.py``).
"""

from __future__ import annotations

import json
from typing import Any

from tidings.core.accounts import utcnow
from tidings.errors import InvalidRequest, NotFound
from tidings.events.formats import clicksend as clicksend_format
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.events.subscriptions import new_secret
from tidings.store import outbox as outbox_store
from tidings.store import receipt_rules as store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.receipt_rules import ReceiptRuleView
from tidings.store.records import AccountRecord

MAX_RULE_NAME = 200
URL_ACTION = "URL"
# ClickSend posts receipts as a form unless told otherwise.
DEFAULT_WEBHOOK_TYPE = "post"


def _clean(values: dict[str, Any], policy: TargetPolicy | None) -> dict[str, Any]:
    name = str(values.get("name") or "").strip()
    if not 1 <= len(name) <= MAX_RULE_NAME:
        raise InvalidRequest(f"a rule name has 1 to {MAX_RULE_NAME} characters", field="rule_name")
    match_type = values["match_type"]
    if match_type not in clicksend_format.MATCH_TYPES:
        raise InvalidRequest(
            "match_type is 0 (all), 1 (failed) or 2 (delivered)", field="match_type"
        )
    if str(values.get("action", "")).upper() != URL_ACTION:
        raise InvalidRequest("the only action of a receipt rule is URL", field="action")
    webhook_type = values.get("webhook_type") or DEFAULT_WEBHOOK_TYPE
    payload_format = clicksend_format.FORMAT_OF_WEBHOOK_TYPE.get(webhook_type)
    if payload_format is None:
        raise InvalidRequest("webhook_type is json or post", field="webhook_type")
    try:
        url = validate_callback_url(str(values.get("action_address") or ""), policy)
    except InvalidRequest as error:
        error.field = "action_address"
        raise
    return {
        "name": name,
        "match_type": int(match_type),
        "enabled": bool(values.get("enabled", True)),
        "url": url,
        "payload_format": payload_format,
    }


async def create_rule(
    database: Database,
    account: AccountRecord,
    values: dict[str, Any],
    *,
    policy: TargetPolicy | None = None,
) -> ReceiptRuleView:
    cleaned = _clean(values, policy)
    now = utcnow()
    rule_id, subscription_id = new_id(), new_id()
    async with database.write() as connection:
        await outbox_store.insert_subscription(
            connection,
            {
                "id": subscription_id,
                "account_id": account.id,
                "url": cleaned["url"],
                "event_types": json.dumps([clicksend_format.MESSAGE_STATUS]),
                "secret": new_secret(),
                "created_at": now,
                "payload_format": cleaned["payload_format"],
            },
        )
        await store.insert_rule(
            connection,
            id=rule_id,
            account_id=account.id,
            subscription_id=subscription_id,
            name=cleaned["name"],
            match_type=cleaned["match_type"],
            enabled=cleaned["enabled"],
            created_at=now,
            updated_at=now,
        )
        found = await store.find_rule(connection, account.id, rule_id)
    assert found is not None
    return found


async def get_rule(database: Database, account: AccountRecord, rule_id: str) -> ReceiptRuleView:
    async with database.read() as connection:
        found = await store.find_rule(connection, account.id, rule_id)
    if found is None:
        raise NotFound(f"no receipt rule {rule_id}")
    return found


async def list_rules(database: Database, account: AccountRecord) -> list[ReceiptRuleView]:
    async with database.read() as connection:
        return await store.list_rules(connection, account.id)


async def update_rule(
    database: Database,
    account: AccountRecord,
    rule_id: str,
    changes: dict[str, Any],
    *,
    policy: TargetPolicy | None = None,
) -> ReceiptRuleView:
    async with database.write() as connection:
        current = await store.find_rule(connection, account.id, rule_id)
        if current is None:
            raise NotFound(f"no receipt rule {rule_id}")
        merged = {
            "name": current.rule.name,
            "match_type": current.rule.match_type,
            "action": URL_ACTION,
            "action_address": current.url,
            "enabled": current.rule.enabled,
            "webhook_type": clicksend_format.WEBHOOK_TYPE_OF_FORMAT.get(current.payload_format),
            **changes,
        }
        cleaned = _clean(merged, policy)
        await store.update_rule(
            connection,
            account.id,
            rule_id,
            name=cleaned["name"],
            match_type=cleaned["match_type"],
            enabled=cleaned["enabled"],
            updated_at=utcnow(),
        )
        await store.update_target(
            connection,
            current.rule.subscription_id,
            url=cleaned["url"],
            payload_format=cleaned["payload_format"],
        )
        updated = await store.find_rule(connection, account.id, rule_id)
    assert updated is not None
    return updated


async def delete_rule(database: Database, account: AccountRecord, rule_id: str) -> None:
    async with database.write() as connection:
        if not await store.delete_rule(connection, account.id, rule_id):
            raise NotFound(f"no receipt rule {rule_id}")
