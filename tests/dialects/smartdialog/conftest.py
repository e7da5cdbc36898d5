"""A running tidings (API + dispatcher + simulator on 127.0.0.1), a key signed in through the
OAuth2 authorization-code flow, and services to act on, as a SmartDialog client sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tidings.core import accounts, routing, services
from tidings.core.services import ServiceKind
from tidings.store.records import AccountRecord
from tidings.store.services import ServiceRecord

REDIRECT = "https://global.consent.azure-apim.net/redirect"
SCOPE = (
    "offline_access https://arenafi.onmicrosoft.com/smartdialog-integrations-api/Gateway.Send "
    "https://arenafi.onmicrosoft.com/smartdialog-integrations-api/Customer.Services "
    "https://arenafi.onmicrosoft.com/smartdialog-integrations-api/User.Customers "
    "https://arenafi.onmicrosoft.com/smartdialog-integrations-api/TwoWay.Management "
    "https://arenafi.onmicrosoft.com/smartdialog-integrations-api/WhatsApp "
    "https://arenafi.onmicrosoft.com/smartdialog-integrations-api/Discussion.Reply "
    "https://arenafi.onmicrosoft.com/smartdialog-integrations-api/Group.Management"
)
LONG_CODE = "+358409999999"
BASE = "/api-integrations/v1"


@dataclass
class Signed:
    """A tenant signed in over OAuth2, with its services."""

    running: Running
    account: AccountRecord
    key_id: str
    secret: str
    tokens: dict[str, Any]
    one_way: ServiceRecord
    two_way: ServiceRecord
    group: ServiceRecord
    http: httpx.AsyncClient

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


async def authorize(
    http: httpx.AsyncClient, key_id: str, secret: str, *, scope: str = SCOPE, state: str = "xyz"
) -> str:
    """The consent step as a browser does it: GET the form, POST the key; return the code."""
    params = {
        "response_type": "code",
        "client_id": key_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": state,
    }
    page = await http.get("/oauth2/authorize", params=params)
    assert page.status_code == 200, page.text
    assert "<form" in page.text
    approved = await http.post(
        "/oauth2/authorize",
        data={**params, "key_id": key_id, "secret": secret, "decision": "allow"},
    )
    assert approved.status_code == 302, approved.text
    location = urlsplit(approved.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


async def exchange(http: httpx.AsyncClient, key_id: str, secret: str, code: str) -> httpx.Response:
    return await http.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": key_id,
            "client_secret": secret,
        },
    )


async def sign_in(http: httpx.AsyncClient, key_id: str, secret: str) -> dict[str, Any]:
    code = await authorize(http, key_id, secret)
    response = await exchange(http, key_id, secret, code)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def make_signed(running: Running, account: AccountRecord) -> Signed:
    database = running.service.database
    key = await accounts.create_api_key(database, account.id)
    await routing.add_sender(
        database, account, LONG_CODE if account == running.account else "+358409999998"
    )
    one_way = await services.create_service(database, account, "Notices", ServiceKind.ONE_WAY)
    two_way = await services.create_service(
        database,
        account,
        "Chat",
        ServiceKind.TWO_WAY,
        senders=[LONG_CODE if account == running.account else "+358409999998"],
        allow_reply=True,
    )
    group = await services.create_service(database, account, "Members", ServiceKind.GROUP)
    http = httpx.AsyncClient(base_url=str(running.http.base_url), timeout=30.0)
    tokens = await sign_in(http, key.key.id, key.secret)
    return Signed(running, account, key.key.id, key.secret, tokens, one_way, two_way, group, http)


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(
        tmp_path, database_url, webhook_allow_loopback=True, outbox_poll_seconds=0.05
    )
    async with running_service(settings) as started:
        yield started


@pytest.fixture
async def signed(running: Running) -> AsyncIterator[Signed]:
    tenant = await make_signed(running, running.account)
    try:
        yield tenant
    finally:
        await tenant.http.aclose()
