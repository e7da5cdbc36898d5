"""A running tidings (API, dispatcher, simulator over TCP) called as a TrueDialog client would,
and a real webhook receiver on 127.0.0.1 for the callbacks."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tests.integration.events.sink import Sink
from tidings.core import accounts, routing

LONG_CODE = "+358409999999"
HANDSET = "+358401234567"
SWAGGER = Path(__file__).parents[3] / "src/tidings/api/dialects/truedialog/truedialog.swagger.json"


def basic(key_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class TrueDialog:
    """The running service, a TrueDialog client of one account, and that account's ids."""

    running: Running
    http: httpx.AsyncClient
    account_id: int
    channel_id: int

    async def subscribe(self, callback_type: int, url: str) -> httpx.Response:
        """Subscribe a trigger exactly as the connector's operation does."""
        body = {"CallbackType": callback_type, "URL": url, "Active": True}
        path = f"/api/v2.1/account/{self.account_id}/callback"
        if callback_type == 11:
            return await self.http.post(path, json=body)
        return await self.http.put(f"{path}/-{callback_type}", json=body)


async def client_for(running: Running, account: Any) -> httpx.AsyncClient:
    key = await accounts.create_api_key(running.service.database, account.id, name="flows")
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{running.service.http_port}",
        headers=basic(key.key.id, key.secret),
        timeout=30.0,
    )


@contextlib.asynccontextmanager
async def open_truedialog(
    tmp_path: Path, database_url: str, **overrides: Any
) -> AsyncIterator[TrueDialog]:
    settings = service_settings(
        tmp_path,
        database_url,
        webhook_allow_loopback=True,
        webhook_backoff_base_seconds=0.01,
        webhook_backoff_cap_seconds=0.05,
        outbox_poll_seconds=0.02,
        **overrides,
    )
    async with running_service(settings) as running:
        database = running.service.database
        sender = await routing.add_sender(database, running.account, LONG_CODE)
        async with await client_for(running, running.account) as http:
            info = await http.get("/api/v2.1/userinfo")
            assert info.status_code == 200, info.text
            account_id = info.json()["accountId"]
            channels = await http.get(f"/api/v2.1/account/{account_id}/channel")
            assert channels.status_code == 200, channels.text
            [channel] = [c for c in channels.json() if c["code"] == sender.sender.address]
            channel_id = channel["id"]
            yield TrueDialog(running, http, account_id, channel_id)


@pytest.fixture
async def truedialog(tmp_path: Path, database_url: str) -> AsyncIterator[TrueDialog]:
    async with open_truedialog(tmp_path, database_url) as truedialog:
        yield truedialog


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    receiver = Sink()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def body_of(sink: Sink, number: int = 0) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(sink.received[number].body)
    return payload
