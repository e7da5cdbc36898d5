"""The operator's pages: routes with their binds, window and live submit rate, the accounts
(suspend, reactivate), inbound traffic nobody owns, and the service's health."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CollectorRegistry

from tidings.console.dashboard import far_end
from tidings.console.web import ConsoleRoute, Operator, Page, console_state
from tidings.core import accounts, activity, routing, unrouted
from tidings.core.accounts import AccountStatus

UNROUTED_SHOWN = 50

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class RouteLive:
    name: str
    kind: str
    far_end: str
    channels: str
    binds: int
    window: int | None
    max_tps: int | None
    binds_up: int | None
    window_in_use: int | None
    submits: int | None
    tps: float | None  # submits per second since the page last asked


def _samples(registry: CollectorRegistry, metric: str, sample: str) -> dict[tuple[str, str], float]:
    """Every sample of one metric by its labels (route, and outcome or state where it has one)."""
    found: dict[tuple[str, str], float] = {}
    for family in registry.collect():
        if family.name != metric:
            continue
        for item in family.samples:
            if item.name == sample:
                labels = item.labels
                key = (labels.get("route", ""), labels.get("outcome", ""))
                found[key] = found.get(key, 0.0) + item.value
    return found


async def _routes(page: Page) -> list[RouteLive]:
    registry = page.services.metrics
    binds = _samples(registry, "tidings_binds_up", "tidings_binds_up")
    window = _samples(registry, "tidings_window_in_use", "tidings_window_in_use")
    submits = _samples(registry, "tidings_submits", "tidings_submits_total")
    # The rate is the change since this app's previous look, per route.
    last: dict[str, tuple[float, float, float | None]] = console_state(
        page.request
    ).extras.setdefault("route_rates", {})
    now = time.monotonic()
    found = []
    for route in await routing.list_routes(page.services.database):
        accepted = [v for (name, _), v in submits.items() if name == route.name]
        total = sum(accepted) if accepted else None
        tps = None
        if total is not None:
            previous = last.get(route.name)
            if previous is not None and now - previous[0] >= 0.5:
                tps = (total - previous[1]) / (now - previous[0])
                last[route.name] = (now, total, tps)
            elif previous is not None:
                tps = previous[2]
            else:
                last[route.name] = (now, total, None)
        up = binds.get((route.name, ""))
        in_use = window.get((route.name, ""))
        found.append(
            RouteLive(
                name=route.name,
                kind=route.kind,
                far_end=far_end(route),
                channels=", ".join(sorted(route.channels)),
                binds=int(route.settings.get("binds", 1)),
                window=route.settings.get("window"),
                max_tps=route.settings.get("max_tps"),
                binds_up=None if up is None else int(up),
                window_in_use=None if in_use is None else int(in_use),
                submits=None if total is None else int(total),
                tps=tps,
            )
        )
    return found


async def _context(page: Page) -> dict[str, Any]:
    registry = page.services.metrics
    inbound = _samples(registry, "tidings_inbound_messages", "tidings_inbound_messages_total")
    unroutable = [v for (_, outcome), v in inbound.items() if outcome == "unroutable"]
    simulator = console_state(page.request).extras.get("simulator")
    return {
        "routes": await _routes(page),
        "accounts": await accounts.list_accounts(page.services.database),
        "health": await activity.service_health(page.services.database),
        "unroutable": int(sum(unroutable)) if unroutable else None,
        # Kept to be assigned: the newest first (the API and CLI page through the rest).
        "unrouted": (await unrouted.list_unrouted(page.services.database, limit=UNROUTED_SHOWN))[0],
        "dispatcher_here": bool(_samples(registry, "tidings_binds_up", "tidings_binds_up"))
        or bool(inbound),
        "simulator": None if simulator is None else simulator.status(),
        "role": page.services.settings.role.value,
    }


@router.get("/operator", name="operator")
async def operator(page: Operator) -> HTMLResponse:
    return page.render("operator.html", **await _context(page))


@router.get("/fragments/operator")
async def operator_fragment(page: Operator) -> HTMLResponse:
    return page.render("operator_live.html", **await _context(page))


@router.post("/operator/unrouted/{message_id}/assign")
async def assign_unrouted(
    page: Operator, message_id: str, account_id: Annotated[str, Form(max_length=64)]
) -> Response:
    """The account receives the message as if it had just arrived (as the API's assign)."""
    target = await accounts.get_account(page.services.database, account_id)
    await page.services.reception.assign(message_id, target.id)
    return page.redirect("/operator", flash=f"The message went to {target.name}.")


@router.post("/operator/accounts/{account_id}/status")
async def set_status(
    page: Operator, account_id: str, status: Annotated[str, Form(max_length=16)]
) -> Response:
    if account_id == page.account.id and status == AccountStatus.SUSPENDED:
        return page.redirect("/operator", flash="Your own account stays active.")
    changed = await accounts.update_account(page.services.database, account_id, {"status": status})
    page.services.authenticator.forget_account(account_id)
    return page.redirect("/operator", flash=f"{changed.name} is {changed.status}.")
