"""A running service (API, dispatcher, campaign runner, simulator) and helpers for audiences."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.integration.events.sink import Sink
from tests.integration.service.conftest import app, client, make_tenant, settings
from tidings.config import Settings

__all__ = [
    "Running",
    "app",
    "client",
    "eventually",
    "make_tenant",
    "running_service",
    "service_settings",
    "settings",
]


def campaign_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    """Webhooks to a receiver on 127.0.0.1, delivered promptly."""
    values: dict[str, Any] = {
        "webhook_allow_loopback": True,
        "webhook_backoff_base_seconds": 0.05,
        "webhook_backoff_cap_seconds": 0.2,
        "outbox_poll_seconds": 0.05,
        **overrides,
    }
    return service_settings(tmp_path, database_url, **values)


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    async with running_service(campaign_settings(tmp_path, database_url)) as started:
        yield started


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    receiver = Sink()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def make_list(
    http: httpx.AsyncClient, name: str, contacts: Sequence[dict[str, Any]]
) -> tuple[str, list[str]]:
    """A list holding new contacts; returns its id and the contacts' ids."""
    created = await ok(await http.post("/v1/lists", json={"name": name}), 201)
    ids = []
    for contact in contacts:
        existing = await ok(await http.get("/v1/contacts", params={"phone": contact["phone"]}))
        if existing["data"]:
            ids.append(existing["data"][0]["id"])
        else:
            ids.append((await ok(await http.post("/v1/contacts", json=contact), 201))["id"])
    if ids:
        await ok(
            await http.post(f"/v1/lists/{created['id']}/members", json={"contact_ids": ids}),
            200,
        )
    return created["id"], ids
