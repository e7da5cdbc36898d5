"""ClickSend's automations: inbound rules (and Power Automate's twin under ``/ms-flow``),
delivery receipt rules, and the test pushes of receipts and inbound messages.

Inbound rules are core's inbound rules in the ``clicksend`` payload format, so their URL
action posts ClickSend's inbound SMS push; receipt rules are ``core.receipt_rules``. Rule ids
are integers (``core.aliases``), resolved back and then looked up for the acting account, so
another account's rule is simply not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    DEFAULT_PAGE_SIZE,
    LimitQuery,
    PageQuery,
    clicksend_router,
    page_url,
)
from tidings.api.dialects.clicksend.errors import MissingRequiredField, envelope
from tidings.api.dialects.clicksend.schemas import InboundRuleFields, ReceiptRuleFields, TestPush
from tidings.api.state import Services
from tidings.core import automation, receipt_rules
from tidings.core.aliases import AliasKind, number_for, numbers_for, target_of
from tidings.core.automation import PayloadFormat, RuleAction, SearchType, WebhookType
from tidings.errors import InvalidRequest, NotFound
from tidings.events.formats import clicksend as push
from tidings.events.ssrf import TargetPolicy
from tidings.store.automation import InboundRuleRecord
from tidings.store.ids import new_id
from tidings.store.receipt_rules import ReceiptRuleView
from tidings.store.records import AccountRecord

router = clicksend_router()

INBOUND_RULES = "/automations/sms/inbound"
MS_FLOW_INBOUND_RULES = "/ms-flow/automations/sms/inbound"
RECEIPT_RULES = "/automations/sms/receipts"
_MAX_RULES = 10_000

_INBOUND_REQUIRED = (
    "dedicated_number",
    "rule_name",
    "message_search_type",
    "action",
)
_RECEIPT_REQUIRED = ("rule_name", "match_type", "action", "action_address")


def _policy(found: Services) -> TargetPolicy:
    return TargetPolicy.from_settings(found.settings)


def _require(fields: Any, names: Sequence[str]) -> None:
    for name in names:
        if getattr(fields, name) is None:
            raise MissingRequiredField(f"{name} is required", field=name)


def _page(items: list[Any], request: Request, page: int, limit: int) -> dict[str, Any]:
    chosen = items[(page - 1) * limit : page * limit]
    return rendering.paginated(
        chosen, total=len(items), page=page, per_page=limit, base_url=page_url(request)
    )


# Inbound rules -------------------------------------------------------------------------------


def _inbound_changes(fields: InboundRuleFields) -> dict[str, Any]:
    """ClickSend's fields as core's rule fields, checked where core would raise a ValueError."""
    given = fields.model_dump(exclude_unset=True, exclude_none=True)
    changes: dict[str, Any] = {}
    if "rule_name" in given:
        changes["name"] = given["rule_name"]
    if "message_search_type" in given:
        if given["message_search_type"] not in {int(kind) for kind in SearchType}:
            raise InvalidRequest(
                "message_search_type is 0 (any), 1 (starts with), 2 (contains) "
                "or 3 (does not contain)",
                field="message_search_type",
            )
        changes["message_search_type"] = given["message_search_type"]
    if "action" in given:
        action = str(given["action"]).upper()
        if action not in {kind.value for kind in RuleAction}:
            raise InvalidRequest(
                f"action {given['action']} is not supported (URL, AUTO_REPLY or NONE)",
                field="action",
            )
        changes["action"] = action
    if "webhook_type" in given:
        if given["webhook_type"] not in {kind.value for kind in WebhookType}:
            raise InvalidRequest("webhook_type is json or post", field="webhook_type")
        changes["webhook_type"] = given["webhook_type"]
    if "enabled" in given:
        changes["enabled"] = bool(given["enabled"])
    for name in ("dedicated_number", "message_search_term", "action_address"):
        if name in given:
            changes[name] = given[name]
    wants_text = changes.get("action") == RuleAction.AUTO_REPLY
    if wants_text and not changes.get("action_address") and fields.body:
        changes["action_address"] = fields.body
    return changes


async def _inbound_rule_view(found: Services, rule: InboundRuleRecord) -> dict[str, Any]:
    numbers = await numbers_for(found.database, AliasKind.INBOUND_RULE, [rule.id])
    user_id = await number_for(found.database, AliasKind.ACCOUNT, rule.account_id)
    return _inbound_rule_shape(rule, numbers[rule.id], user_id)


def _inbound_rule_shape(rule: InboundRuleRecord, number: int, user_id: int) -> dict[str, Any]:
    return {
        "inbound_rule_id": number,
        "user_id": user_id,
        "rule_name": rule.name,
        "message_search_type": rule.message_search_type,
        "message_search_term": rule.message_search_term,
        "action": rule.action,
        "action_address": rule.action_address,
        "enabled": 1 if rule.enabled else 0,
        "webhook_type": rule.webhook_type,
        "dedicated_number": rule.dedicated_number,
    }


async def _inbound_rule(found: Services, account: AccountRecord, number: int) -> InboundRuleRecord:
    try:
        target = await target_of(found.database, AliasKind.INBOUND_RULE, number)
        return await automation.get_rule(found.database, account, target)
    except NotFound:
        raise NotFound(f"no inbound rule {number}") from None


async def _create_inbound_rule(
    found: Services, account: AccountRecord, fields: InboundRuleFields
) -> InboundRuleRecord:
    _require(fields, _INBOUND_REQUIRED)
    values = {**_inbound_changes(fields), "payload_format": PayloadFormat.CLICKSEND.value}
    return await automation.create_rule(found.database, account, values, policy=_policy(found))


@router.get(INBOUND_RULES, summary="Inbound SMS automations")
async def view_inbound_rules(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    rules, _ = await automation.list_rules(found.database, account, limit=_MAX_RULES)
    numbers = await numbers_for(found.database, AliasKind.INBOUND_RULE, [r.id for r in rules])
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    shapes = [_inbound_rule_shape(rule, numbers[rule.id], user_id) for rule in rules]
    return envelope(_page(shapes, request, page, limit), msg="Here are your inbound rules.")


@router.post(INBOUND_RULES, summary="Create an inbound SMS automation")
async def create_inbound_rule(
    fields: InboundRuleFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    rule = await _create_inbound_rule(found, account, fields)
    return envelope(await _inbound_rule_view(found, rule), msg="New inbound rule has been saved.")


@router.get(INBOUND_RULES + "/{inbound_rule_id}", summary="One inbound SMS automation")
async def view_inbound_rule(
    inbound_rule_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    rule = await _inbound_rule(found, account, inbound_rule_id)
    return envelope(await _inbound_rule_view(found, rule), msg="Here is your inbound rule.")


@router.put(INBOUND_RULES + "/{inbound_rule_id}", summary="Update an inbound SMS automation")
async def update_inbound_rule(
    inbound_rule_id: int, fields: InboundRuleFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    rule = await _inbound_rule(found, account, inbound_rule_id)
    updated = await automation.update_rule(
        found.database, account, rule.id, _inbound_changes(fields), policy=_policy(found)
    )
    return envelope(await _inbound_rule_view(found, updated), msg="Inbound rule has been updated.")


@router.delete(INBOUND_RULES + "/{inbound_rule_id}", summary="Delete an inbound SMS automation")
@router.delete(
    MS_FLOW_INBOUND_RULES + "/{inbound_rule_id}",
    summary="Power Automate: unsubscribe the inbound SMS trigger",
)
async def delete_inbound_rule(
    inbound_rule_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    rule = await _inbound_rule(found, account, inbound_rule_id)
    await automation.delete_rule(found.database, account, rule.id)
    return envelope(None, msg="Inbound rule has been deleted.")


@router.post(MS_FLOW_INBOUND_RULES, summary="Power Automate: subscribe the inbound SMS trigger")
async def subscribe_inbound_trigger(
    request: Request, fields: InboundRuleFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    # Power Automate stores the Location and sends DELETE there when the flow is turned off.
    rule = await _create_inbound_rule(found, account, fields)
    shown = await _inbound_rule_view(found, rule)
    response = envelope(shown, http_code=201, msg="New inbound rule has been saved.")
    base = str(request.url.replace(query=None)).rstrip("/")
    response.headers["Location"] = f"{base}/{shown['inbound_rule_id']}"
    return response


# Receipt rules -------------------------------------------------------------------------------


def _receipt_changes(fields: ReceiptRuleFields) -> dict[str, Any]:
    given = fields.model_dump(exclude_unset=True, exclude_none=True)
    changes = {name: value for name, value in given.items() if name != "rule_name"}
    if "rule_name" in given:
        changes["name"] = given["rule_name"]
    if "enabled" in given:
        changes["enabled"] = bool(given["enabled"])
    return changes


def _receipt_rule_shape(view: ReceiptRuleView, number: int) -> dict[str, Any]:
    return {
        "receipt_rule_id": number,
        "rule_name": view.rule.name,
        "match_type": view.rule.match_type,
        "action": receipt_rules.URL_ACTION,
        "action_address": view.url,
        "enabled": 1 if view.rule.enabled else 0,
        "webhook_type": push.WEBHOOK_TYPE_OF_FORMAT.get(view.payload_format, "json"),
    }


async def _receipt_rule_view(found: Services, view: ReceiptRuleView) -> dict[str, Any]:
    number = await number_for(found.database, AliasKind.RECEIPT_RULE, view.rule.id)
    return _receipt_rule_shape(view, number)


async def _receipt_rule(found: Services, account: AccountRecord, number: int) -> ReceiptRuleView:
    try:
        target = await target_of(found.database, AliasKind.RECEIPT_RULE, number)
        return await receipt_rules.get_rule(found.database, account, target)
    except NotFound:
        raise NotFound(f"no receipt rule {number}") from None


@router.get(RECEIPT_RULES, summary="Delivery receipt automations")
async def view_receipt_rules(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    views = await receipt_rules.list_rules(found.database, account)
    numbers = await numbers_for(found.database, AliasKind.RECEIPT_RULE, [v.rule.id for v in views])
    shapes = [_receipt_rule_shape(view, numbers[view.rule.id]) for view in views]
    return envelope(_page(shapes, request, page, limit), msg="Here are your receipt rules.")


@router.post(RECEIPT_RULES, summary="Create a delivery receipt automation")
async def create_receipt_rule(
    fields: ReceiptRuleFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    _require(fields, _RECEIPT_REQUIRED)
    view = await receipt_rules.create_rule(
        found.database, account, _receipt_changes(fields), policy=_policy(found)
    )
    return envelope(await _receipt_rule_view(found, view), msg="New receipt rule has been saved.")


@router.get(RECEIPT_RULES + "/{receipt_rule_id}", summary="One delivery receipt automation")
async def view_receipt_rule(
    receipt_rule_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    view = await _receipt_rule(found, account, receipt_rule_id)
    return envelope(await _receipt_rule_view(found, view), msg="Here is your receipt rule.")


@router.put(RECEIPT_RULES + "/{receipt_rule_id}", summary="Update a delivery receipt automation")
async def update_receipt_rule(
    receipt_rule_id: int, fields: ReceiptRuleFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    view = await _receipt_rule(found, account, receipt_rule_id)
    updated = await receipt_rules.update_rule(
        found.database, account, view.rule.id, _receipt_changes(fields), policy=_policy(found)
    )
    return envelope(await _receipt_rule_view(found, updated), msg="Receipt rule has been updated.")


@router.delete(RECEIPT_RULES + "/{receipt_rule_id}", summary="Delete a delivery receipt automation")
async def delete_receipt_rule(
    receipt_rule_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    view = await _receipt_rule(found, account, receipt_rule_id)
    await receipt_rules.delete_rule(found.database, account, view.rule.id)
    return envelope(None, msg="Receipt rule has been deleted.")


# Test pushes ---------------------------------------------------------------------------------

# The numbers of a sample push: ClickSend's documentation examples, not anyone's handset.
_SAMPLE_HANDSET = "+61411111111"
_SAMPLE_NUMBER = "+61422222222"


@router.post("/sms/receipts", summary="Push a sample delivery receipt to a URL")
async def test_receipt_push(
    fields: TestPush, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    now = datetime.now(UTC)
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    sample = push.receipt_push(
        message_id=new_id(),
        status="delivered",
        status_at=now,
        sent_at=now,
        custom_string="test",
        error_detail=None,
        user_id=user_id,
    )
    await _send_sample(found, account, fields, sample, receipt_rules.DEFAULT_WEBHOOK_TYPE)
    return envelope(sample, msg="A test delivery receipt has been queued.")


@router.post("/sms/inbound", summary="Push a sample inbound message to a URL")
async def test_inbound_push(
    fields: TestPush, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    sample = push.inbound_push(
        message_id=new_id(),
        sender=_SAMPLE_HANDSET,
        recipient=_SAMPLE_NUMBER,
        body="This is a test inbound message.",
        at=datetime.now(UTC),
        original=None,
        user_id=user_id,
    )
    await _send_sample(found, account, fields, sample, WebhookType.JSON.value)
    return envelope(sample, msg="A test inbound message has been queued.")


async def _send_sample(
    found: Services,
    account: AccountRecord,
    fields: TestPush,
    sample: dict[str, Any],
    default_type: str,
) -> None:
    webhook_type = fields.webhook_type or default_type
    if webhook_type not in {kind.value for kind in WebhookType}:
        raise InvalidRequest("webhook_type is json or post", field="webhook_type")
    rendered = push.encode(sample, webhook_type)
    await automation.send_sample_post(
        found.database,
        account,
        fields.url,
        rendered.body,
        rendered.content_type,
        event_type="test_push",
        policy=_policy(found),
    )
