"""The dashboard: today's messages, delivery rate, the last hour, the queue, routes, webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from prometheus_client import CollectorRegistry

from tidings.console.web import ConsoleRoute, Page, Reader, is_operator
from tidings.core import activity, routing
from tidings.lifecycle import MessageStatus
from tidings.store.records import RouteRecord

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# The order statuses are shown in: the way a message goes.
STATUS_ORDER = tuple(s.value for s in MessageStatus)


@dataclass(frozen=True, slots=True)
class RouteState:
    name: str
    kind: str
    far_end: str
    binds: int
    # Binds up now, from the dispatcher's gauge; None when no dispatcher runs in this process.
    binds_up: int | None
    window_in_use: int | None


def _gauge(registry: CollectorRegistry, name: str, route: str) -> int | None:
    value = registry.get_sample_value(name, {"route": route})
    return None if value is None else int(value)


async def route_states(page: Page) -> list[RouteState]:
    registry = page.services.metrics
    return [
        RouteState(
            name=route.name,
            kind=route.kind,
            far_end=far_end(route),
            binds=int(route.settings.get("binds", 1)),
            binds_up=_gauge(registry, "tidings_binds_up", route.name),
            window_in_use=_gauge(registry, "tidings_window_in_use", route.name),
        )
        for route in await routing.list_routes(page.services.database)
    ]


def far_end(route: RouteRecord) -> str:
    """Where a route's transport connects, as its settings say (host and port, or a URL)."""
    settings = route.settings
    if "host" in settings:
        port = settings.get("port")
        return f"{settings['host']}:{port}" if port else str(settings["host"])
    for name in ("url", "endpoint", "uri"):
        if name in settings:
            return str(settings[name])
    return route.kind


async def _context(page: Page) -> dict[str, Any]:
    found = await activity.activity(page.services.database, page.account)
    peak = max((max(p.sent, p.received, p.delivered) for p in found.per_minute), default=0)
    return {
        "activity": found,
        "statuses": STATUS_ORDER,
        # SMS always, other channels once they carried something today.
        "channels": ["sms", *sorted(c for c in found.by_channel if c != "sms")],
        "peak": max(peak, 1),
        "routes": await route_states(page) if is_operator(page.signed_in) else None,
    }


@router.get("/", name="dashboard")
async def dashboard(page: Reader) -> HTMLResponse:
    return page.render("dashboard.html", **await _context(page))


@router.get("/fragments/dashboard")
async def dashboard_fragment(page: Reader) -> HTMLResponse:
    """The dashboard's figures alone, re-read by the page as messages change."""
    return page.render("dashboard_figures.html", **await _context(page))
