"""Routes, accounts and unrouted inbound traffic belong to the operator: a tenant's key, even a
top-level account's, is refused every such endpoint and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from tests.integration.service.conftest import MakeTenant, Tenant
from tidings.api.auth import operator as operator_dependency
from tidings.store.engine import Database
from tidings.store.models import accounts, api_keys, routes, senders

ROUTE = {
    "name": "carrier-b",
    "settings": {"host": "127.0.0.1", "port": 12900, "system_id": "mallory"},
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: dict[str, Any] | None = None


# Every endpoint that manages routes or accounts, and the operator-only uses of the others.
TENANT_REFUSED = [
    Case("GET", "/v1/routes"),
    Case("POST", "/v1/routes", ROUTE),
    Case("GET", "/v1/routes/simulator"),
    Case("PATCH", "/v1/routes/simulator", {"settings": {"port": 12900, "system_id": "mallory"}}),
    Case("PATCH", "/v1/routes/simulator", {"name": "renamed"}),
    Case("DELETE", "/v1/routes/simulator"),
    Case("GET", "/v1/route-kinds"),
    Case("GET", "/v1/accounts"),
    Case("POST", "/v1/accounts", {"name": "Another tenant", "top_level": True}),
    Case("GET", "/v1/accounts/{other}"),
    Case("GET", "/v1/accounts/{own}"),
    Case("PATCH", "/v1/accounts/{other}", {"status": "suspended"}),
    Case("PATCH", "/v1/accounts/{own}", {"rate_limit": "1000000/1 second"}),
    Case("POST", "/v1/accounts/{own}/keys", {"role": "operator"}),
    Case("POST", "/v1/accounts/{other}/keys", {"name": "stolen"}),
    Case("POST", "/v1/senders", {"address": "Mallory", "route": "simulator"}),
    Case("PATCH", "/v1/senders/{own_sender}", {"route": "simulator"}),
    Case("PATCH", "/v1/senders/{own_sender}", {"route": None}),
]


async def _snapshot(database: Database) -> dict[str, list[Any]]:
    async with database.read() as connection:
        return {
            table.name: sorted(map(tuple, (await connection.execute(select(table))).all()), key=str)
            for table in (routes, accounts, api_keys, senders)
        }


def _depends_on_operator(route: APIRoute) -> bool:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is operator_dependency:
            return True
        pending.extend(dependant.dependencies)
    return False


def test_every_operator_endpoint_has_a_tenant_case(app: FastAPI) -> None:
    operator_only = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        and (_depends_on_operator(route) or route.path.startswith(("/v1/routes", "/v1/accounts")))
        for method in route.methods
    }
    operator_only.discard(("POST", "/v1/accounts"))  # a tenant's sub-accounts; top_level below
    covered = {(case.method, case.path) for case in TENANT_REFUSED}
    normalised = {
        (method, path.replace("{account_id}", "{other}").replace("{name}", "simulator"))
        for method, path in operator_only
    }
    normalised = {(m, p.replace("{sender_id}", "{own_sender}")) for m, p in normalised}
    assert normalised <= covered | {("POST", "/v1/accounts")}


@pytest.mark.parametrize("case", TENANT_REFUSED, ids=lambda c: f"{c.method} {c.path} {c.body}")
async def test_a_top_level_tenant_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, case: Case
) -> None:
    other = await make_tenant("Account A")
    mallory = await make_tenant("Account B")  # top-level, like every `accounts create`
    sender = await client.post("/v1/senders", json={"address": "Bee"}, headers=mallory.bearer)
    assert sender.status_code == 201
    before = await _snapshot(database)

    path = case.path.format(
        other=other.account.id, own=mallory.account.id, own_sender=sender.json()["id"]
    )
    answer = await client.request(case.method, path, json=case.body, headers=mallory.bearer)

    assert answer.status_code in (403, 404), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert await _snapshot(database) == before


async def test_an_operator_manages_routes_and_accounts_and_acts_for_any_account(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    operator = await make_tenant("Operator", operator=True)
    tenant = await make_tenant("Shop")
    sent = await client.post(
        "/v1/messages",
        json={"to": "+358401234567", "from": "Shop", "body": "hi"},
        headers=tenant.bearer,
    )
    assert sent.status_code == 202

    listed = await client.get("/v1/accounts", headers=operator.bearer)
    assert {a["id"] for a in listed.json()} >= {operator.account.id, tenant.account.id}
    # Acting for a tenant it has no relation to.
    messages = await client.get(
        "/v1/messages", params={"account_id": tenant.account.id}, headers=operator.bearer
    )
    assert [m["id"] for m in messages.json()["data"]] == [sent.json()["messages"][0]["id"]]

    made = await client.post(
        "/v1/accounts", json={"name": "New tenant", "top_level": True}, headers=operator.bearer
    )
    assert made.status_code == 201
    assert made.json()["parent_id"] is None
    new_id = made.json()["id"]
    key = await client.post(f"/v1/accounts/{new_id}/keys", json={}, headers=operator.bearer)
    assert (key.status_code, key.json()["role"]) == (201, "tenant")
    new_tenant = {"Authorization": f"Bearer {key.json()['secret']}"}
    assert (await client.get("/v1/routes", headers=new_tenant)).status_code == 403

    limited = await client.patch(
        f"/v1/accounts/{new_id}", json={"rate_limit": "5/1 second"}, headers=operator.bearer
    )
    assert limited.json()["rate_limit"] == "5/1 second"
    suspended = await client.patch(
        f"/v1/accounts/{new_id}", json={"status": "suspended"}, headers=operator.bearer
    )
    assert suspended.json()["status"] == "suspended"
    refused = await client.get("/v1/account", headers=new_tenant)
    assert (refused.status_code, refused.json()["type"]) == (
        403,
        "urn:tidings:problem:account-suspended",
    )

    second = await client.post(
        f"/v1/accounts/{operator.account.id}/keys",
        json={"role": "operator"},
        headers=operator.bearer,
    )
    assert second.json()["role"] == "operator"
    assert (
        await client.get(
            "/v1/routes", headers={"Authorization": f"Bearer {second.json()['secret']}"}
        )
    ).status_code == 200


async def test_a_tenant_sees_the_names_and_state_of_its_routes_only(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    operator = await make_tenant("Operator", operator=True)
    for name in ("carrier-a", "carrier-b"):
        created = await client.post(
            "/v1/routes",
            json={
                "name": name,
                "settings": {"host": "127.0.0.1", "port": 2775, "system_id": name},
            },
            headers=operator.bearer,
        )
        assert created.status_code == 201
    tenant: Tenant = await make_tenant("Shop")
    sender = await client.post("/v1/senders", json={"address": "Shop"}, headers=tenant.bearer)
    assert sender.json()["route"] is None

    seen = await client.get("/v1/account/routes", headers=tenant.bearer)
    # No dispatcher runs in this process: the state is not known here.
    assert seen.json() == [{"name": "simulator", "is_default": True, "state": "unknown"}]

    assigned = await client.patch(
        f"/v1/senders/{sender.json()['id']}",
        json={"route": "carrier-b"},
        params={"account_id": tenant.account.id},
        headers=operator.bearer,
    )
    assert assigned.json()["route"] == "carrier-b"
    seen = await client.get("/v1/account/routes", headers=tenant.bearer)
    assert sorted(r["name"] for r in seen.json()) == ["carrier-b", "simulator"]
    assert all(set(r) == {"name", "is_default", "state"} for r in seen.json())


async def test_renaming_a_route_in_the_body_of_its_patch(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    """It answered 500 (``name`` given twice to the core call)."""
    operator = await make_tenant("Operator", operator=True)
    await client.post(
        "/v1/routes",
        json={
            "name": "old-name",
            "settings": {"host": "127.0.0.1", "port": 2775, "system_id": "x"},
        },
        headers=operator.bearer,
    )
    renamed = await client.patch(
        "/v1/routes/old-name", json={"name": "new-name"}, headers=operator.bearer
    )
    assert (renamed.status_code, renamed.json()["name"]) == (200, "new-name")
    assert (await client.get("/v1/routes/old-name", headers=operator.bearer)).status_code == 404
    assert (await client.get("/v1/routes/new-name", headers=operator.bearer)).status_code == 200
