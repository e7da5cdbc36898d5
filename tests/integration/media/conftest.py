"""The API served over real HTTP on 127.0.0.1, against a real database, with tenants."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tidings.api import create_app
from tidings.config import Settings
from tidings.core import accounts
from tidings.http_server import EmbeddedHttpServer
from tidings.store.engine import Database


@dataclass(frozen=True)
class Tenant:
    account_id: str
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@dataclass(frozen=True)
class Running:
    url: str
    settings: Settings
    database: Database


MakeTenant = Callable[[str], Awaitable[Tenant]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, rate_limit="1000/60 seconds")


@pytest.fixture
async def running(settings: Settings, database: Database) -> AsyncIterator[Running]:
    server = await EmbeddedHttpServer.start(create_app(settings, database=database), "127.0.0.1", 0)
    try:
        yield Running(f"http://127.0.0.1:{server.port}", settings, database)
    finally:
        await server.stop()


@pytest.fixture
async def http(running: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.url, timeout=60) as client:
        yield client


@pytest.fixture
def make_tenant(database: Database) -> MakeTenant:
    async def make(name: str) -> Tenant:
        account = await accounts.create_account(database, name, region="FI")
        created = await accounts.create_api_key(database, account.id)
        return Tenant(account.id, created.secret)

    return make
