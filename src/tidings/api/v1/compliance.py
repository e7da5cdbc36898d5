"""``/v1/opt-outs``, ``/v1/blocklist``, ``/v1/compliance``, ``/v1/keywords`` and
``/v1/inbound-rules``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.v1.compliance_schemas import (
    BlockCreate,
    ComplianceUpdate,
    ComplianceView,
    KeywordCreate,
    KeywordPage,
    KeywordUpdate,
    KeywordView,
    OptOutCreate,
    RuleCreate,
    RulePage,
    RuleUpdate,
    RuleView,
    SuppressionPage,
    SuppressionView,
)
from tidings.core import automation, optout
from tidings.events.ssrf import TargetPolicy
from tidings.store.optout import BLOCKED, OPTED_OUT

router = APIRouter(prefix="/v1")

_Limit = Annotated[int, Query(ge=1, le=optout.PAGE_LIMIT_MAX)]
_Cursor = Annotated[str | None, Query(max_length=64)]
_Phone = Annotated[str | None, Query(max_length=32, description="only this number")]


# Opt-outs and the blocklist ------------------------------------------------------------------


async def _page(
    found: ServicesDep,
    account: AccountDep,
    kind: str,
    limit: int,
    phone: str | None,
    cursor: str | None,
) -> SuppressionPage:
    page, next_cursor = await optout.list_suppressions(
        found.database, account, kind, limit=limit, phone=phone, cursor=cursor
    )
    return SuppressionPage(data=[SuppressionView.of(r) for r in page], next_cursor=next_cursor)


@router.get("/opt-outs", response_model=SuppressionPage, tags=["compliance"])
async def list_opt_outs(
    account: AccountDep,
    found: ServicesDep,
    phone: _Phone = None,
    limit: _Limit = 100,
    cursor: _Cursor = None,
) -> SuppressionPage:
    """Numbers that opted out (a STOP from the handset, or added here), newest first: messages to
    them are refused unless a send forces it."""
    return await _page(found, account, OPTED_OUT, limit, phone, cursor)


@router.post("/opt-outs", response_model=SuppressionView, status_code=201, tags=["compliance"])
async def add_opt_out(
    body: OptOutCreate, account: AccountDep, found: ServicesDep
) -> SuppressionView:
    """Opt a number out, for the whole account or only for one of its numbers (`sender`), as if it
    had replied STOP."""
    record = await optout.add_suppression(
        found.database, account, OPTED_OUT, body.phone, sender=body.sender
    )
    return SuppressionView.of(record)


@router.delete("/opt-outs/{entry_id}", status_code=204, tags=["compliance"])
async def remove_opt_out(entry_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Remove an opt-out: the number can be sent to again."""
    await optout.remove_suppression(found.database, account, OPTED_OUT, entry_id)
    return Response(status_code=204)


@router.get("/blocklist", response_model=SuppressionPage, tags=["compliance"])
async def list_blocked(
    account: AccountDep,
    found: ServicesDep,
    phone: _Phone = None,
    limit: _Limit = 100,
    cursor: _Cursor = None,
) -> SuppressionPage:
    """Numbers on the account's blocklist: never sent to, and their inbound messages get no
    automatic reply."""
    return await _page(found, account, BLOCKED, limit, phone, cursor)


@router.post("/blocklist", response_model=SuppressionView, status_code=201, tags=["compliance"])
async def block(body: BlockCreate, account: AccountDep, found: ServicesDep) -> SuppressionView:
    """Add a number to the account's blocklist."""
    return SuppressionView.of(
        await optout.add_suppression(found.database, account, BLOCKED, body.phone)
    )


@router.delete("/blocklist/{entry_id}", status_code=204, tags=["compliance"])
async def unblock(entry_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Take a number off the blocklist."""
    await optout.remove_suppression(found.database, account, BLOCKED, entry_id)
    return Response(status_code=204)


@router.get("/compliance", response_model=ComplianceView, tags=["compliance"])
async def get_compliance(account: AccountDep, found: ServicesDep) -> ComplianceView:
    """The account's opt-out rules: whether a STOP stops the whole account or one number, extra
    stop words, the STOP, START and HELP replies, and the hard-error limit."""
    return ComplianceView.of(await optout.get_settings(found.database, account))


@router.patch("/compliance", response_model=ComplianceView, tags=["compliance"])
async def update_compliance(
    body: ComplianceUpdate, account: AccountDep, found: ServicesDep
) -> ComplianceView:
    """Change the account's opt-out rules; only the fields given change (`null` turns a reply
    off)."""
    changes = body.model_dump(exclude_unset=True)
    return ComplianceView.of(await optout.update_settings(found.database, account, changes))


# Keywords ------------------------------------------------------------------------------------


@router.post("/keywords", response_model=KeywordView, status_code=201, tags=["keywords"])
async def create_keyword(
    body: KeywordCreate, account: AccountDep, found: ServicesDep
) -> KeywordView:
    """Make a keyword on one of the account's numbers: an inbound message whose first word is the
    keyword gets the reply, and its sender can be added to or removed from a list."""
    values = body.model_dump(exclude_unset=True)
    return KeywordView.of(await automation.create_keyword(found.database, account, values))


@router.get("/keywords", response_model=KeywordPage, tags=["keywords"])
async def list_keywords(
    account: AccountDep, found: ServicesDep, limit: _Limit = 100, cursor: _Cursor = None
) -> KeywordPage:
    """The account's keywords, per receiving number."""
    page, next_cursor = await automation.list_keywords(
        found.database, account, limit=limit, cursor=cursor
    )
    return KeywordPage(data=[KeywordView.of(k) for k in page], next_cursor=next_cursor)


@router.get("/keywords/{keyword_id}", response_model=KeywordView, tags=["keywords"])
async def get_keyword(keyword_id: str, account: AccountDep, found: ServicesDep) -> KeywordView:
    """One keyword with its reply and list actions."""
    return KeywordView.of(await automation.get_keyword(found.database, account, keyword_id))


@router.patch("/keywords/{keyword_id}", response_model=KeywordView, tags=["keywords"])
async def update_keyword(
    keyword_id: str, body: KeywordUpdate, account: AccountDep, found: ServicesDep
) -> KeywordView:
    """Change a keyword; only the fields given change."""
    changes = body.model_dump(exclude_unset=True)
    return KeywordView.of(
        await automation.update_keyword(found.database, account, keyword_id, changes)
    )


@router.delete("/keywords/{keyword_id}", status_code=204, tags=["keywords"])
async def delete_keyword(keyword_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Delete a keyword: its first word no longer triggers anything on that number."""
    await automation.delete_keyword(found.database, account, keyword_id)
    return Response(status_code=204)


# Inbound rules -------------------------------------------------------------------------------


def _rule_values(body: RuleCreate | RuleUpdate) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=True)
    if "rule_name" in values:
        values["name"] = values.pop("rule_name")
    return values


@router.post("/inbound-rules", response_model=RuleView, status_code=201, tags=["inbound rules"])
async def create_rule(body: RuleCreate, account: AccountDep, found: ServicesDep) -> RuleView:
    """Make an inbound rule (ClickSend's automation): for inbound messages to a number (or `*`)
    whose text matches, POST them to a URL, reply automatically, or do nothing."""
    policy = TargetPolicy.from_settings(found.settings)
    return RuleView.of(
        await automation.create_rule(found.database, account, _rule_values(body), policy=policy)
    )


@router.get("/inbound-rules", response_model=RulePage, tags=["inbound rules"])
async def list_rules(
    account: AccountDep, found: ServicesDep, limit: _Limit = 100, cursor: _Cursor = None
) -> RulePage:
    """The account's inbound rules, enabled or not."""
    page, next_cursor = await automation.list_rules(
        found.database, account, limit=limit, cursor=cursor
    )
    return RulePage(data=[RuleView.of(r) for r in page], next_cursor=next_cursor)


@router.get("/inbound-rules/{rule_id}", response_model=RuleView, tags=["inbound rules"])
async def get_rule(rule_id: str, account: AccountDep, found: ServicesDep) -> RuleView:
    """One inbound rule: its number, match and action."""
    return RuleView.of(await automation.get_rule(found.database, account, rule_id))


@router.patch("/inbound-rules/{rule_id}", response_model=RuleView, tags=["inbound rules"])
async def update_rule(
    rule_id: str, body: RuleUpdate, account: AccountDep, found: ServicesDep
) -> RuleView:
    """Change an inbound rule; only the fields given change."""
    policy = TargetPolicy.from_settings(found.settings)
    return RuleView.of(
        await automation.update_rule(
            found.database, account, rule_id, _rule_values(body), policy=policy
        )
    )


@router.delete("/inbound-rules/{rule_id}", status_code=204, tags=["inbound rules"])
async def delete_rule(rule_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Delete an inbound rule: inbound messages no longer trigger its action."""
    await automation.delete_rule(found.database, account, rule_id)
    return Response(status_code=204)
