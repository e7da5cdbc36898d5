"""Operations endpoints are an operator's: /metrics and the embedded simulator's control routes
answer 401 without a key and 403 to a tenant's key (nothing changes), unless the client's
address is in TIDINGS_OPERATIONS_NETWORKS."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.integration.dispatch.conftest import running_service, service_settings
from tests.integration.service.conftest import MakeTenant
from tidings.api import create_app
from tidings.config import Settings
from tidings.core import accounts
from tidings.store.engine import Database


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://tidings.test")


async def test_metrics_need_an_operator_key_unless_the_client_is_in_the_operations_networks(
    app: FastAPI,
    make_tenant: MakeTenant,
    tmp_path: Path,
    database_url: str,
    database: Database,
) -> None:
    tenant, operator = await make_tenant("Tenant"), await make_tenant("Ops", operator=True)
    async with _client(app, "203.0.113.9") as outside, _client(app, "127.0.0.1") as local:
        assert (await outside.get("/metrics")).status_code == 401
        assert (await local.get("/metrics")).status_code == 401  # loopback is not trusted either
        assert (await outside.get("/metrics", headers=tenant.bearer)).status_code == 403
        scraped = await outside.get("/metrics", headers=operator.bearer)
        assert scraped.status_code == 200
        assert "tidings_queue_depth" in scraped.text

    settings = Settings(
        data_dir=tmp_path, database_url=database_url, operations_networks=["127.0.0.1/32"]
    )
    scraper_here = create_app(settings, database=database)
    async with (
        scraper_here.router.lifespan_context(scraper_here),
        _client(scraper_here, "127.0.0.1") as local,
        _client(scraper_here, "203.0.113.9") as outside,
    ):
        assert (await local.get("/metrics")).status_code == 200
        assert (await outside.get("/metrics")).status_code == 401


async def test_the_simulators_control_routes_need_an_operator_key(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url, operations_networks=[])
    async with running_service(settings) as running:
        operator = await accounts.create_api_key(
            running.service.database, running.account.id, role=accounts.Role.OPERATOR
        )
        rules = {"rules": [{"prefix": "35840", "state": "UNDELIV", "err": 1}]}
        inbound = {"from": "+358401234567", "to": "+358401000000", "text": "hi"}
        async with httpx.AsyncClient(base_url=str(running.http.base_url)) as anyone:
            assert (await anyone.get("/v1/simulator/rules")).status_code == 401
            assert (await anyone.put("/v1/simulator/rules", json=rules)).status_code == 401
        # The tenant's key (running.http's) reads no handset, changes no rule, injects nothing.
        assert (await running.http.get("/v1/simulator/handsets/358401234567")).status_code == 403
        assert (await running.http.put("/v1/simulator/rules", json=rules)).status_code == 403
        assert (await running.http.post("/v1/simulator/inbound", json=inbound)).status_code == 403
        as_operator = {"Authorization": f"Bearer {operator.secret}"}
        before = await running.http.get("/v1/simulator/rules", headers=as_operator)
        assert before.status_code == 200
        assert before.json()["rules"] != rules["rules"]  # the tenant's PUT changed nothing
        changed = await running.http.put("/v1/simulator/rules", json=rules, headers=as_operator)
        assert changed.status_code < 300, changed.text
        after = await running.http.get("/v1/simulator/rules", headers=as_operator)
        assert [r["prefix"] for r in after.json()["rules"]] == ["35840"]
