"""The web console: pages for people, served by the service at ``/`` beside the API.

Server-rendered (Jinja2) with a little of our own JavaScript for live updates (Server-Sent
Events) and counters; no build step, nothing from a CDN. Pages call the same core functions as
the API; none runs a query of its own. ``web`` holds the machinery every page shares (sessions,
CSRF, errors as pages), one module per area holds its pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from tidings.console import (
    auth,
    campaigns,
    compliance,
    compose,
    contacts,
    conversations,
    dashboard,
    developers,
    events,
    messages,
    operator,
    phones,
    return_addresses,
    users,
)
from tidings.console.web import ConsoleState, build_templates

if TYPE_CHECKING:
    from tidings.simulator import Simulator
    from tidings.simulator.whatsapp import CloudApi

__all__ = ["install_console"]


def install_console(
    app: FastAPI, *, simulator: Simulator | None = None, whatsapp: CloudApi | None = None
) -> ConsoleState:
    """Add the console's pages and static files to ``app``; ``simulator`` is the embedded
    SMSC and ``whatsapp`` the embedded Cloud API when they run in this process (their
    handsets are shown live)."""
    sources = phones.sources_of(simulator, whatsapp)
    state = ConsoleState(
        templates=build_templates(),
        extras={"simulator": simulator, "whatsapp": whatsapp, "handset_sources": sources},
    )
    if sources:
        state.watched["handsets"] = phones.watch_handsets(sources)
    app.state.console = state
    for router in (
        auth.public,
        auth.router,
        dashboard.router,
        events.router,
        messages.router,
        compose.router,
        return_addresses.router,
        phones.router,
        developers.router,
        contacts.router,
        compliance.router,
        conversations.router,
        campaigns.router,
        operator.router,
        users.router,
    ):
        app.include_router(router)
    app.mount(
        "/static", StaticFiles(packages=[("tidings.console", "static")]), name="console-static"
    )
    return state
