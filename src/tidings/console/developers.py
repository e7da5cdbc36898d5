"""Developers: API keys (the secret shown once; revoke), webhooks with their delivery log and
replay, links to each API surface's docs, and the Power Automate connectors to download."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import URL

from tidings.api.openapi import SURFACES
from tidings.cli.connectors import DEFINITIONS
from tidings.console.web import ConsoleRoute, Developer, Page
from tidings.core import accounts
from tidings.errors import InvalidRequest, NotFound, TidingsError
from tidings.events import subscriptions
from tidings.events.ssrf import TargetPolicy

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


async def _context(page: Page, **extra: Any) -> dict[str, Any]:
    database = page.services.database
    return {
        "keys": await accounts.list_api_keys(database, page.account.id),
        "webhooks": await subscriptions.list_subscriptions(database, page.account.id),
        "event_types": sorted(subscriptions.EVENT_TYPES),
        "surfaces": SURFACES,  # each API surface, its OpenAPI document and what it is
        "dialects": sorted(DEFINITIONS),
        "new_key": None,
        "new_webhook": None,
        "error": None,
        "values": {},
        **extra,
    }


@router.get("/developers", name="developers")
async def developers(page: Developer) -> HTMLResponse:
    return page.render("developers.html", **await _context(page))


@router.post("/developers/keys")
async def create_key(page: Developer, name: Annotated[str, Form(max_length=200)] = "") -> Response:
    created = await accounts.create_api_key(
        page.services.database, page.account.id, name=name.strip() or None
    )
    # Rendered, not redirected: the secret is on this page once and nowhere else.
    return page.render("developers.html", **await _context(page, new_key=created))


@router.post("/developers/keys/{key_id}/revoke")
async def revoke_key(page: Developer, key_id: str) -> Response:
    database = page.services.database
    # Another account's key is as absent as a missing one.
    await accounts.revoke_api_key(database, key_id, account_id=page.account.id)
    page.services.authenticator.forget_key(key_id)
    return page.redirect("/developers", flash=f"Key {key_id} revoked: it no longer works.")


@router.post("/developers/webhooks")
async def create_webhook(page: Developer, request: Request) -> Response:
    form = await request.form()
    url = form.get("url", "")
    events = [e for e in form.getlist("events") if isinstance(e, str)]
    try:
        if not isinstance(url, str) or len(url) > 2000:
            raise InvalidRequest("give the URL to send to", field="url")
        created = await subscriptions.create_subscription(
            page.services.database,
            page.account.id,
            url.strip(),
            events,
            policy=TargetPolicy.from_settings(page.services.settings),
        )
    except TidingsError as error:
        context = await _context(page, error=error.message, values={"url": url, "events": events})
        return page.render("developers.html", status=422, **context)
    return page.render("developers.html", **await _context(page, new_webhook=created))


async def _webhook_context(page: Page, subscription_id: str) -> dict[str, Any]:
    database = page.services.database
    subscription = await subscriptions.get_subscription(database, page.account.id, subscription_id)
    deliveries = await subscriptions.list_deliveries(
        database, page.account.id, subscription_id, limit=50
    )
    return {
        "webhook": subscription,
        "events": subscriptions.event_types_of(subscription),
        "deliveries": deliveries,
        "pretty": _pretty,
    }


def _pretty(body: str | None) -> str:
    if not body:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


@router.get("/developers/webhooks/{subscription_id}", name="webhook")
async def webhook(page: Developer, subscription_id: str) -> HTMLResponse:
    return page.render("webhook.html", **await _webhook_context(page, subscription_id))


@router.get("/fragments/developers/webhooks/{subscription_id}")
async def webhook_deliveries(page: Developer, subscription_id: str) -> HTMLResponse:
    return page.render("webhook_deliveries.html", **await _webhook_context(page, subscription_id))


@router.post("/developers/webhooks/{subscription_id}/deliveries/{delivery_id}/replay")
async def replay(page: Developer, subscription_id: str, delivery_id: str) -> Response:
    await subscriptions.replay_delivery(
        page.services.database, page.account.id, subscription_id, delivery_id
    )
    return page.redirect(
        f"/developers/webhooks/{subscription_id}",
        flash=f"Delivery {delivery_id} queued again: it is sent with the same webhook-id.",
    )


@router.post("/developers/webhooks/{subscription_id}/delete")
async def delete_webhook(page: Developer, subscription_id: str) -> Response:
    await subscriptions.delete_subscription(
        page.services.database, page.account.id, subscription_id
    )
    return page.redirect("/developers", flash="Webhook removed.")


@router.get("/developers/connectors/{dialect}.json")
async def connector(page: Developer, dialect: str) -> Response:
    """A dialect's Power Automate connector definition pointing at TIDINGS_PUBLIC_URL, else at
    the host this page is on (its API and OAuth2 URLs: behind a TLS proxy, the request here is
    plain HTTP to an inside address)."""
    build = DEFINITIONS.get(dialect)
    if build is None:
        raise NotFound(f"no dialect {dialect}")
    public = page.services.settings.public_url
    url = URL(public) if public else page.request.url
    definition = build(url.netloc, url.scheme)
    return JSONResponse(
        definition,
        headers={"Content-Disposition": f'attachment; filename="tidings-{dialect}-connector.json"'},
    )
