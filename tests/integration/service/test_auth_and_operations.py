"""Authentication, sub-account scoping, rate limits, body size and the operations endpoints."""

from __future__ import annotations

import asyncio
import base64
import gc
import os
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.service.conftest import MakeTenant
from tidings.api import create_app
from tidings.config import Settings
from tidings.core import accounts
from tidings.store.engine import Database


async def test_no_credentials_is_401_with_a_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/account")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "Basic" in response.headers["www-authenticate"]
    assert response.json()["status"] == 401


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer nonsense",
        "Bearer tdk_nokey_secret",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Digest whatever",
        "Bearer ",
    ],
)
async def test_malformed_or_unknown_credentials_are_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.get("/v1/account", headers={"Authorization": authorization})
    assert response.status_code == 401


async def test_basic_and_bearer_both_work(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant("Acme")
    for headers in (tenant.basic, tenant.bearer):
        response = await client.get("/v1/account", headers=headers)
        assert response.status_code == 200
        assert response.json()["id"] == tenant.account.id
        assert response.json()["name"] == "Acme"


async def test_a_wrong_secret_or_mismatched_key_id_is_refused(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("Alice"), await make_tenant("Bob")
    wrong_secret = alice.secret[:-1] + ("x" if alice.secret[-1] != "x" else "y")
    assert (
        await client.get("/v1/account", headers={"Authorization": f"Bearer {wrong_secret}"})
    ).status_code == 401
    mixed = base64.b64encode(f"{bob.key_id}:{alice.secret}".encode()).decode()
    assert (
        await client.get("/v1/account", headers={"Authorization": f"Basic {mixed}"})
    ).status_code == 401


async def test_a_revoked_key_stops_working(
    tmp_path: Path, database_url: str, database: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    # A fresh app without the verified-secret cache, as after the cache time has passed.
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url, auth_cache_seconds=0))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/v1/account", headers=tenant.bearer)).status_code == 200
            await accounts.revoke_api_key(database, tenant.key_id)
            assert (await client.get("/v1/account", headers=tenant.bearer)).status_code == 401


async def test_a_parent_acts_for_its_sub_accounts_but_not_the_other_way(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    parent = await make_tenant("Parent")
    child = await make_tenant("Child", parent=parent)
    grandchild = await make_tenant("Grandchild", parent=child)
    as_child = await client.get(
        "/v1/account", params={"account_id": child.account.id}, headers=parent.bearer
    )
    assert as_child.json()["id"] == child.account.id
    deep = await client.get(
        "/v1/account", params={"account_id": grandchild.account.id}, headers=parent.bearer
    )
    assert deep.json()["id"] == grandchild.account.id
    upward = await client.get(
        "/v1/account", params={"account_id": parent.account.id}, headers=child.bearer
    )
    assert upward.status_code == 404
    own = (await client.get("/v1/account", headers=parent.bearer)).json()
    assert own["sub_accounts"] == [{"id": child.account.id, "name": "Child"}]

    sent = await client.post(
        "/v1/messages",
        params={"account_id": child.account.id},
        json={"to": "+358401234567", "from": "Tidings", "body": "hi"},
        headers=parent.bearer,
    )
    message_id = sent.json()["messages"][0]["id"]
    mine = await client.get(f"/v1/messages/{message_id}", headers=child.bearer)
    assert mine.json()["account_id"] == child.account.id
    # The parent's own scope does not include the child's messages unless it asks for them.
    assert (
        await client.get(f"/v1/messages/{message_id}", headers=parent.bearer)
    ).status_code == 404


async def test_the_rate_limit_answers_429_with_retry_after(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    limited = await make_tenant("Limited", rate_limit="3/60 seconds")
    other = await make_tenant("Other")
    statuses = [
        (await client.get("/v1/account", headers=limited.bearer)).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    refused = await client.get("/v1/account", headers=limited.bearer)
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Limits are per key: another account is unaffected.
    assert (await client.get("/v1/account", headers=other.bearer)).status_code == 200


async def test_the_default_rate_limit_comes_from_the_settings(
    tmp_path: Path, database_url: str, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url, rate_limit="2/minute"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            codes = [
                (await client.get("/v1/account", headers=tenant.bearer)).status_code
                for _ in range(3)
            ]
    assert codes == [200, 200, 429]


async def test_an_oversized_body_is_413(
    tmp_path: Path, database_url: str, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url, max_body_bytes=1000))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = {"to": "+358401234567", "from": "Tidings", "body": "x" * 2000}
            declared = await client.post("/v1/messages", json=body, headers=tenant.bearer)
            assert declared.status_code == 413
            assert declared.headers["content-type"] == "application/problem+json"

            async def chunks():  # no Content-Length: the limit applies while reading
                yield b'{"to": "+358401234567", "from": "Tidings", "body": "'
                for _ in range(20):
                    yield b"y" * 100
                yield b'"}'

            streamed = await client.post(
                "/v1/messages",
                content=chunks(),
                headers={**tenant.bearer, "Content-Type": "application/json"},
            )
            assert streamed.status_code == 413
            small = await client.post(
                "/v1/messages", json={**body, "body": "hi"}, headers=tenant.bearer
            )
            assert small.status_code == 202


async def test_malformed_json_is_a_422_problem(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    response = await client.post(
        "/v1/messages",
        content=b'{"to": [1, 2',
        headers={**tenant.bearer, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_validation_errors_carry_field_paths(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    response = await client.post(
        "/v1/messages",
        # body may be absent (a fax or letter has none), so a body of the wrong type is the
        # schema's error here; an empty one is refused by the send itself (test_messages_api).
        json={"to": ["+358401234567", 5], "from": "Tidings", "body": 7, "max_parts": 0},
        headers=tenant.bearer,
    )
    assert response.status_code == 422
    paths = {error["path"] for error in response.json()["errors"]}
    assert {"body", "max_parts"} <= paths
    assert any(path.startswith("to") and "[1]" in path for path in paths)


async def test_health_readiness_metrics_and_openapi(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    tenant = await make_tenant()
    await client.post(
        "/v1/messages",
        json={"to": ["+358401234567", "+358401234568"], "from": "Tidings", "body": "hi"},
        headers=tenant.bearer,
    )
    operator = await make_tenant("Operations", operator=True)
    metrics = (await client.get("/metrics", headers=operator.bearer)).text
    assert 'tidings_messages{status="queued"} 2.0' in metrics
    assert "tidings_queue_depth 2.0" in metrics
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/messages" in document["paths"]
    assert {"HTTPBasic", "HTTPBearer"} <= set(document["components"]["securitySchemes"])
    assert (await client.get("/docs")).status_code == 200


async def test_each_app_has_its_own_metrics_registry(app: FastAPI, settings: Settings) -> None:
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        assert other.state.services.metrics is not app.state.services.metrics


async def test_readyz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    missing = tmp_path / "not-a-dir" / "sub"
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{missing}/x.db")
    app = create_app(settings, migrate=False)
    async with app.router.lifespan_context(app):
        (missing / "x.db").mkdir()  # a directory where the database file should be
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    # The failed connection's aiosqlite thread finishes on its own; collect it and let it post
    # its last result while this test's event loop still runs, not into a later test's.
    gc.collect()
    await asyncio.sleep(0.2)


async def test_an_account_creates_sub_accounts_and_keys_through_the_api(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    parent = await make_tenant("Parent", region="US")
    created = await client.post(
        "/v1/accounts",
        json={"name": "Team B", "timezone": "Europe/Helsinki"},
        headers=parent.bearer,
    )
    assert created.status_code == 201
    child = created.json()
    assert (child["parent_id"], child["region"], child["timezone"]) == (
        parent.account.id,
        "US",
        "Europe/Helsinki",
    )
    key = await client.post(
        "/v1/account/keys",
        params={"account_id": child["id"]},
        json={"name": "ci"},
        headers=parent.bearer,
    )
    assert key.status_code == 201
    secret = key.json()["secret"]
    as_child = await client.get("/v1/account", headers={"Authorization": f"Bearer {secret}"})
    assert as_child.json()["id"] == child["id"]
    bad_zone = await client.post(
        "/v1/accounts", json={"name": "X", "timezone": "Mars/Base"}, headers=parent.bearer
    )
    assert bad_zone.status_code == 422
    assert bad_zone.json()["errors"][0]["path"] == "timezone"


async def test_api_processes_sharing_redis_share_each_keys_limit(
    tmp_path: Path, database_url: str, make_tenant: MakeTenant
) -> None:
    """Two API apps (as two processes would) count one key's requests together in Redis."""
    redis_url = "redis://127.0.0.1:6379/15"
    if not await _redis_answers("127.0.0.1", 6379):
        if os.environ.get("TIDINGS_REQUIRE_PEERS"):
            pytest.fail("Redis on 127.0.0.1:6379 is not answering")
        pytest.skip("Redis on 127.0.0.1:6379 is not answering")
    tenant = await make_tenant(rate_limit="3/60 seconds")  # a new key: a fresh count in Redis
    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=redis_url)
    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            for app in (first, second)
        ]
        try:
            codes = [
                (await clients[n % 2].get("/v1/account", headers=tenant.bearer)).status_code
                for n in range(4)
            ]
        finally:
            for client in clients:
                await client.aclose()
    assert codes == [200, 200, 200, 429]


async def _redis_answers(host: str, port: int) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
    except (OSError, TimeoutError):
        return False
    writer.write(b"PING\r\n")
    answer = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    await writer.wait_closed()
    return answer.startswith(b"+PONG")
