"""Compliance: opt-outs and the blocklist, keywords, the STOP/START/HELP texts, inbound rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from tidings.console.web import ComplianceAdmin, ConsoleRoute, Page
from tidings.core import automation, lists, optout
from tidings.errors import NotFound, TidingsError
from tidings.events.ssrf import TargetPolicy
from tidings.store.optout import BLOCKED, OPTED_OUT

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_KINDS = {"optouts": OPTED_OUT, "blocklist": BLOCKED}


async def _context(page: Page, **extra: Any) -> dict[str, Any]:
    database = page.services.database
    optouts, _ = await optout.list_suppressions(database, page.account, OPTED_OUT, limit=200)
    blocked, _ = await optout.list_suppressions(database, page.account, BLOCKED, limit=200)
    keywords, _ = await automation.list_keywords(database, page.account, limit=200)
    rules, _ = await automation.list_rules(database, page.account, limit=200)
    found_lists, _ = await lists.search_lists(database, page.account, limit=200)
    return {
        "settings": await optout.get_settings(database, page.account),
        "optouts": optouts,
        "blocked": blocked,
        "keywords": keywords,
        "rules": rules,
        "lists": {item.id: item.name for item in found_lists},
        "error": None,
        **extra,
    }


async def _or_error(page: Page, action: Any, done: str) -> Response:
    try:
        await action
    except TidingsError as error:
        return page.render(
            "compliance.html", status=422, **await _context(page, error=error.message)
        )
    return page.redirect("/compliance", flash=done)


@router.get("/compliance", name="compliance")
async def compliance(page: ComplianceAdmin) -> HTMLResponse:
    return page.render("compliance.html", **await _context(page))


@router.post("/compliance/texts")
async def save_texts(page: ComplianceAdmin, request: Request) -> Response:
    form = await request.form()

    def text(name: str) -> str | None:
        value = str(form.get(name, "")).strip()
        return value or None

    changes: dict[str, Any] = {
        "stop_reply": text("stop_reply"),
        "start_reply": text("start_reply"),
        "help_text": text("help_text"),
        "scope": str(form.get("scope", "account")),
        "stop_words": [w for w in str(form.get("stop_words", "")).replace(",", " ").split() if w],
    }
    return await _or_error(
        page, optout.update_settings(page.services.database, page.account, changes), "Saved."
    )


@router.post("/compliance/numbers/{kind}")
async def add_number(
    page: ComplianceAdmin,
    kind: str,
    phone: Annotated[str, Form(max_length=32)],
) -> Response:
    suppression = _suppression(kind)
    what = "Opted out" if suppression == OPTED_OUT else "Blocked"
    return await _or_error(
        page,
        optout.add_suppression(page.services.database, page.account, suppression, phone),
        f"{what}: {phone}.",
    )


def _suppression(kind: str) -> str:
    found = _KINDS.get(kind)
    if found is None:
        raise NotFound(f"no list {kind}")
    return found


@router.post("/compliance/numbers/{kind}/{entry_id}/remove")
async def remove_number(page: ComplianceAdmin, kind: str, entry_id: str) -> Response:
    suppression = _suppression(kind)
    return await _or_error(
        page,
        optout.remove_suppression(page.services.database, page.account, suppression, entry_id),
        "Removed.",
    )


@router.post("/compliance/keywords")
async def add_keyword(
    page: ComplianceAdmin,
    number: Annotated[str, Form(max_length=20)],
    keyword: Annotated[str, Form(max_length=64)],
    reply: Annotated[str, Form(max_length=2000)] = "",
    add_to_list_id: Annotated[str, Form(max_length=26)] = "",
) -> Response:
    values = {
        "number": number,
        "keyword": keyword,
        "reply": reply.strip() or None,
        "add_to_list_id": add_to_list_id or None,
    }
    return await _or_error(
        page,
        automation.create_keyword(page.services.database, page.account, values),
        f"Keyword {keyword.upper()} added.",
    )


@router.post("/compliance/keywords/{keyword_id}/delete")
async def delete_keyword(page: ComplianceAdmin, keyword_id: str) -> Response:
    return await _or_error(
        page,
        automation.delete_keyword(page.services.database, page.account, keyword_id),
        "Keyword removed.",
    )


@router.post("/compliance/rules")
async def add_rule(page: ComplianceAdmin, request: Request) -> Response:
    form = await request.form()
    values = {
        "name": str(form.get("name", "")),
        "dedicated_number": str(form.get("dedicated_number", "")).strip() or "*",
        "message_search_type": int(str(form.get("message_search_type", "0")) or 0),
        "message_search_term": str(form.get("message_search_term", "")).strip() or None,
        "action": str(form.get("action", "NONE")),
        "action_address": str(form.get("action_address", "")).strip() or None,
        "enabled": True,
    }
    return await _or_error(
        page,
        automation.create_rule(
            page.services.database,
            page.account,
            values,
            policy=TargetPolicy.from_settings(page.services.settings),
        ),
        "Rule added.",
    )


@router.post("/compliance/rules/{rule_id}/delete")
async def delete_rule(page: ComplianceAdmin, rule_id: str) -> Response:
    return await _or_error(
        page,
        automation.delete_rule(page.services.database, page.account, rule_id),
        "Rule removed.",
    )
