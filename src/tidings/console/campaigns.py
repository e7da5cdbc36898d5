"""Campaigns: create (a draft, or started at once or at a time), start, cancel, live progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tidings.console.compose import parse_recipients
from tidings.console.web import ConsoleRoute, Page, Reader, Sender
from tidings.core import campaigns, lists
from tidings.errors import InvalidRequest, TidingsError

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


async def _list_context(page: Page, **extra: Any) -> dict[str, Any]:
    database = page.services.database
    found, _ = await campaigns.list_campaigns(database, page.account, limit=100)
    all_lists, _ = await lists.search_lists(database, page.account, limit=200)
    return {"campaigns": found, "lists": all_lists, "error": None, "values": {}, **extra}


@router.get("/campaigns", name="campaigns")
async def campaign_list(page: Reader) -> HTMLResponse:
    return page.render("campaigns.html", **await _list_context(page))


def _send_at(raw: str, zone: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        raise InvalidRequest(f"not a date and time: {raw!r}", field="send_at") from None


@router.post("/campaigns")
async def create(page: Sender, request: Request) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    try:
        spec = campaigns.CampaignSpec(
            name=values.get("name", ""),
            body=values.get("body", ""),
            sender=values.get("from", "").strip(),
            targets=parse_recipients(values.get("to", "")),
            list_ids=[v for v in form.getlist("lists") if isinstance(v, str) and v],
            send_at=_send_at(values.get("send_at", ""), page.account.timezone),
            execute=values.get("start") == "now",
        )
        created = await campaigns.create_campaign(
            page.services.database,
            page.account,
            spec,
            max_recipients=page.services.settings.max_recipients,
        )
    except TidingsError as error:
        context = await _list_context(page, error=error.message, values=values)
        return page.render("campaigns.html", status=422, **context)
    return page.redirect(f"/campaigns/{created.campaign.id}")


async def _detail(page: Page, campaign_id: str) -> dict[str, Any]:
    detail = await campaigns.get_campaign(page.services.database, page.account, campaign_id)
    counts = detail.counts
    done = counts.delivered + counts.failed + counts.cancelled + counts.sent
    total = counts.targets - sum(counts.invalid.values())
    return {
        "detail": detail,
        "c": detail.campaign,
        "counts": counts,
        "percent": int(100 * done / total) if total > 0 else 0,
    }


@router.get("/campaigns/{campaign_id}", name="campaign")
async def campaign(page: Reader, campaign_id: str) -> HTMLResponse:
    return page.render("campaign.html", **await _detail(page, campaign_id))


@router.get("/fragments/campaigns/{campaign_id}")
async def campaign_fragment(page: Reader, campaign_id: str) -> HTMLResponse:
    return page.render("campaign_progress.html", **await _detail(page, campaign_id))


@router.post("/campaigns/{campaign_id}/start")
async def start(page: Sender, campaign_id: str) -> Response:
    await campaigns.run_campaign(page.services.database, page.account, campaign_id)
    return page.redirect(f"/campaigns/{campaign_id}", flash="Started.")


@router.post("/campaigns/{campaign_id}/cancel")
async def cancel(page: Sender, campaign_id: str) -> Response:
    await campaigns.cancel_campaign(page.services.database, page.account, campaign_id)
    return page.redirect(
        f"/campaigns/{campaign_id}", flash="Cancelled: messages not yet sent will not be."
    )
