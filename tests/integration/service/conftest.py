"""An app against a real, migrated database, and accounts with keys to call it with."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tidings.api import create_app
from tidings.config import Settings
from tidings.core import accounts
from tidings.store.engine import Database
from tidings.store.records import AccountRecord


@dataclass(frozen=True)
class Tenant:
    account: AccountRecord
    key_id: str
    secret: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    @property
    def basic(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.key_id}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


# make_tenant(name, *, region, parent, rate_limit, restrict_to_registered_senders, operator):
# an account with one key (an operator key with operator=True).
MakeTenant = Callable[..., Awaitable[Tenant]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        rate_limit="1000/60 seconds",
        simulator_port=2775,
    )


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database=database)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tidings.test") as http:
        yield http


@pytest.fixture
def make_tenant(app: FastAPI, database: Database) -> MakeTenant:
    async def make(
        name: str = "Tenant",
        *,
        region: str = "FI",
        parent: Tenant | None = None,
        rate_limit: str | None = None,
        restrict_to_registered_senders: bool = False,
        operator: bool = False,
    ) -> Tenant:
        account = await accounts.create_account(
            database,
            name,
            region=region,
            parent_id=None if parent is None else parent.account.id,
            rate_limit=rate_limit,
            restrict_to_registered_senders=restrict_to_registered_senders,
        )
        role = accounts.Role.OPERATOR if operator else accounts.Role.TENANT
        created = await accounts.create_api_key(database, account.id, role=role)
        return Tenant(account=account, key_id=created.key.id, secret=created.secret)

    return make
