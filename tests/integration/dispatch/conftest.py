"""A running service (HTTP API, dispatcher, embedded simulator) on free ports, with a tenant to
call it as, and helpers to wait for messages to reach a status."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import free_port
from tidings.config import Settings
from tidings.core import accounts
from tidings.dispatch.transport import TransportRegistry
from tidings.service import Service
from tidings.store.records import AccountRecord

FINAL = frozenset({"delivered", "undelivered", "expired", "rejected", "failed", "cancelled"})
# Generous: a loaded CI machine may be slow, and a wait ends as soon as its condition holds.
WAIT_SECONDS = 30.0


def service_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": database_url,
        "http_port": 0,
        "simulator_port": free_port(),
        "simulator_control_port": free_port(),
        "rate_limit": "100000/60 seconds",
        # The tests drive the simulator (/v1/simulator) and read /metrics from this host as the
        # account; an operator key is needed from elsewhere (test_operations_access.py).
        "operations_networks": ["127.0.0.1/32"],
        **overrides,
    }
    return Settings(**values)


@dataclass
class Running:
    """A started service, an account of it and an HTTP client authenticated as that account."""

    service: Service
    account: AccountRecord
    http: httpx.AsyncClient

    async def send(self, **body: Any) -> dict[str, Any]:
        payload = {"from": "Tidings", "body": "Hei maailma", **body}
        response = await self.http.post("/v1/messages", json=payload)
        result: dict[str, Any] = response.json()
        # A send that accepted nobody is a 422 problem with the same messages and counts.
        refused = result.get("type") == "urn:tidings:problem:no-recipient-accepted"
        assert response.status_code == 202 or refused, response.text
        return result

    async def send_one(self, to: str, **body: Any) -> str:
        [entry] = (await self.send(to=to, **body))["messages"]
        assert "id" in entry, entry
        message_id: str = entry["id"]
        return message_id

    async def message(self, message_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/messages/{message_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def add_route(self, **route: Any) -> dict[str, Any]:
        """A route made through ``POST /v1/routes`` with an operator's key."""
        key = await accounts.create_api_key(
            self.service.database, self.account.id, role=accounts.Role.OPERATOR
        )
        async with httpx.AsyncClient(
            base_url=str(self.http.base_url),
            headers={"Authorization": f"Bearer {key.secret}"},
            timeout=30.0,
        ) as operator:
            made = await operator.post("/v1/routes", json=route)
        assert made.status_code == 201, made.text
        result: dict[str, Any] = made.json()
        return result

    async def change_route(self, name: str, **changes: Any) -> dict[str, Any]:
        """A route changed through ``PATCH /v1/routes/{name}`` with an operator's key."""
        key = await accounts.create_api_key(
            self.service.database, self.account.id, role=accounts.Role.OPERATOR
        )
        async with httpx.AsyncClient(
            base_url=str(self.http.base_url),
            headers={"Authorization": f"Bearer {key.secret}"},
            timeout=30.0,
        ) as operator:
            changed = await operator.patch(f"/v1/routes/{name}", json=changes)
        assert changed.status_code == 200, changed.text
        result: dict[str, Any] = changed.json()
        return result

    async def wait_for(self, message_id: str, statuses: Collection[str] = FINAL) -> dict[str, Any]:
        """The message once its status is one of ``statuses``."""
        message: dict[str, Any] = {}

        async def reached() -> bool:
            nonlocal message
            message = await self.message(message_id)
            return message["status"] in statuses

        await eventually(reached, f"message {message_id} to reach {sorted(statuses)}")
        return message


async def eventually(
    condition: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT_SECONDS
) -> None:
    """Poll ``condition`` until it holds; fail the test when ``timeout`` passes first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_service(
    settings: Settings,
    *,
    demo_account: bool = False,
    account: AccountRecord | None = None,
    transports: TransportRegistry | None = None,
) -> AsyncIterator[Running]:
    """Start the service (with ``transports``, the built-in ones unless given); call its API
    as ``account`` (a new one unless given)."""
    service = Service(settings, transports=transports)
    await service.start(demo_account=demo_account)
    try:
        simulator = service.simulator
        if simulator is not None:
            # The dispatcher binds in the background; inbound messages need the bind up.
            async def bound() -> bool:
                return simulator.status()["bound_connections"] != 0

            await eventually(bound, "the dispatcher to bind to the simulator")
        if account is None:
            account = await accounts.create_account(service.database, "Acme", region="FI")
        key = await accounts.create_api_key(service.database, account.id)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{service.http_port}",
            headers={"Authorization": f"Bearer {key.secret}"},
            timeout=30.0,
        ) as http:
            yield Running(service, account, http)
    finally:
        await service.stop()


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    """The whole service in this process, the embedded simulator as its default route."""
    async with running_service(service_settings(tmp_path, database_url)) as started:
        yield started
