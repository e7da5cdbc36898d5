"""Signing in with API keys: keyed hashes (old scrypt ones still accepted, then replaced), the
same work for unknown key ids, failed attempts limited per client address, revocation and
suspension made by another process that take effect at once despite the verified-secret cache
(SQLite: on the next request; PostgreSQL: through LISTEN/NOTIFY), OAuth2 over plain HTTP
refused clearly (and accepted behind a trusted TLS proxy)."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.integration.dispatch.conftest import eventually, running_service
from tests.integration.service.conftest import MakeTenant
from tests.ports import free_port
from tidings.api import create_app
from tidings.config import Settings
from tidings.core import accounts
from tidings.core.accounts import Authenticator
from tidings.errors import Unauthorized
from tidings.store import accounts as account_store
from tidings.store.engine import Database


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://tidings.test")


@pytest.fixture
async def strict_app(
    tmp_path: Path, database_url: str, database: Database
) -> AsyncIterator[FastAPI]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        failed_sign_in_rate="5/60 seconds",
        auth_cache_seconds=60,
    )
    application = create_app(settings, database=database)
    async with application.router.lifespan_context(application):
        yield application


async def test_failed_sign_ins_are_limited_per_client_address(
    strict_app: FastAPI, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("Alice"), await make_tenant("Bob")
    async with (
        _client(strict_app, "198.51.100.7") as guesser,
        _client(strict_app, "198.51.100.8") as neighbour,
    ):
        assert (await guesser.get("/v1/account", headers=alice.bearer)).status_code == 200
        for attempt in range(5):
            wrong = {"Authorization": f"Bearer tdk_{bob.key_id}_guess{attempt}"}
            assert (await guesser.get("/v1/account", headers=wrong)).status_code == 401
        # Spent: the next guess is not even checked, and neither is a right secret.
        refused = await guesser.get("/v1/account", headers=bob.bearer)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        # A secret this address proved moments ago is not a guess.
        assert (await guesser.get("/v1/account", headers=alice.bearer)).status_code == 200
        # Other addresses are not affected.
        assert (await neighbour.get("/v1/account", headers=bob.bearer)).status_code == 200


# What another process does to the keys (the CLI on the host, another API process): revoke one
# key, suspend one account; through the store, as they would.
_ELSEWHERE = """
import asyncio, sys
from tidings.core import accounts
from tidings.store.engine import Database

async def main(url, key_id, account_id):
    database = Database.from_url(url)
    try:
        await accounts.revoke_api_key(database, key_id)
        await accounts.update_account(
            database, account_id, {"status": accounts.AccountStatus.SUSPENDED}
        )
    finally:
        await database.close()

asyncio.run(main(*sys.argv[1:]))
"""


async def test_on_sqlite_a_key_revoked_or_an_account_suspended_elsewhere_stops_at_once(
    tmp_path: Path, database_url: str, database: Database, make_tenant: MakeTenant
) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite's: PostgreSQL's processes hear of it by NOTIFY (the test below)")
    revoked, suspended, bystander = (
        await make_tenant("Revoked"),
        await make_tenant("Suspended"),
        await make_tenant("Bystander"),
    )
    # Remembered far longer than the test runs: only news of the change can make it forget.
    settings = Settings(data_dir=tmp_path, database_url=database_url, auth_cache_seconds=3600)
    app = create_app(settings, database=database)
    async with app.router.lifespan_context(app), _client(app, "192.0.2.1") as client:
        for tenant in (revoked, suspended, bystander):
            assert (await client.get("/v1/account", headers=tenant.bearer)).status_code == 200
        elsewhere = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _ELSEWHERE,
            database_url,
            revoked.key_id,
            suspended.account.id,
            stderr=asyncio.subprocess.PIPE,
        )
        _, errors = await elsewhere.communicate()
        assert elsewhere.returncode == 0, errors.decode()
        # The very next request of each.
        assert (await client.get("/v1/account", headers=revoked.bearer)).status_code == 401
        assert (await client.get("/v1/account", headers=suspended.bearer)).status_code == 403
        assert (await client.get("/v1/account", headers=bystander.bearer)).status_code == 200


async def test_on_postgresql_a_key_revoked_or_an_account_suspended_elsewhere_stops_at_once(
    tmp_path: Path, database_url: str, database: Database, make_tenant: MakeTenant
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite's processes read a count (above)")
    revoked, suspended = await make_tenant("Revoked"), await make_tenant("Suspended")
    # Remembered far longer than the test runs: only the notice can make the app forget.
    settings = Settings(data_dir=tmp_path, database_url=database_url, auth_cache_seconds=3600)
    app = create_app(settings, database=database)
    elsewhere = Database.from_url(database_url)  # the CLI's, or another API process's
    try:
        async with app.router.lifespan_context(app), _client(app, "192.0.2.2") as client:

            def refused(tenant: Any, status: int) -> Any:
                async def check() -> bool:
                    answer = await client.get("/v1/account", headers=tenant.bearer)
                    return answer.status_code == status

                return check

            for tenant in (revoked, suspended):
                assert (await client.get("/v1/account", headers=tenant.bearer)).status_code == 200
            await accounts.revoke_api_key(elsewhere, revoked.key_id)
            await accounts.update_account(
                elsewhere, suspended.account.id, {"status": accounts.AccountStatus.SUSPENDED}
            )
            await eventually(refused(revoked, 401), "the revocation to reach the app")
            await eventually(refused(suspended, 403), "the suspension to reach the app")
    finally:
        await elsewhere.close()


def test_the_default_cache_time_is_a_second() -> None:
    assert Settings().auth_cache_seconds <= 1.0


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/oauth2/token"), ("GET", "/oauth2/authorize"), ("POST", "/oauth2/authorize")],
)
async def test_oauth2_over_plain_http_is_a_clear_400(
    app: FastAPI, make_tenant: MakeTenant, method: str, path: str
) -> None:
    tenant = await make_tenant()
    async with _client(app, "203.0.113.5") as client:
        answer = await client.request(
            method,
            path,
            params={"response_type": "code", "client_id": tenant.key_id},
            data={"grant_type": "client_credentials"},
        )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"
    assert "TIDINGS_TRUSTED_PROXIES" in answer.json()["error_description"]


async def test_oauth2_behind_a_trusted_tls_proxy(tmp_path: Path, database_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        http_port=free_port(),
        simulator_port=free_port(),
        simulator_control_port=free_port(),
        trusted_proxies=["127.0.0.1"],
    )
    async with running_service(settings) as running:
        base = f"http://127.0.0.1:{running.service.http_port}"
        async with httpx.AsyncClient(base_url=base) as proxy:
            # The proxy forwards a request for the public name, received over TLS.
            public = {"Host": "sms.example.com"}
            plain = await proxy.get("/oauth2/authorize", headers=public)
            forwarded = await proxy.get(
                "/oauth2/authorize",
                params={"response_type": "code", "client_id": "nobody"},
                headers={**public, "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"},
            )
    assert plain.status_code == 400
    # Past the transport check: authlib judges the request itself (an unknown client here).
    assert forwarded.status_code != 400 or forwarded.json()["error"] != "invalid_request", (
        forwarded.text
    )
    assert "TIDINGS_TRUSTED_PROXIES" not in forwarded.text


async def test_oauth2_behind_a_tls_proxy_named_by_the_public_url(
    tmp_path: Path, database_url: str, database: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, public_url="https://sms.example.com"
    )
    app = create_app(settings, database=database)
    # The proxy hands requests on over plain HTTP, and is not among the trusted proxies.
    async with app.router.lifespan_context(app), _client(app, "203.0.113.5") as proxy:
        consent = await proxy.get(
            "/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": tenant.key_id,
                "redirect_uri": settings.oauth_redirect_uris[0],
                "scope": "Gateway.Send offline_access",
            },
        )
        token = await proxy.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(tenant.key_id, tenant.secret),
        )
    assert consent.status_code == 200, consent.text
    assert "Allow access" in consent.text
    assert token.status_code == 200, token.text
    assert token.json()["token_type"].lower() == "bearer"


async def test_keys_are_stored_as_keyed_hashes_and_old_scrypt_keys_keep_working(
    client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    fresh, old = await make_tenant("Fresh"), await make_tenant("Old")
    async with database.read() as connection:
        key = await account_store.find_api_key(connection, fresh.key_id)
    assert key is not None and key.secret_hash.startswith("hmac-sha256$")

    # A key from before keyed hashing: its secret under scrypt, as it was stored then.
    salt = bytes(range(16))
    digest = hashlib.scrypt(old.secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    scrypt_hash = f"scrypt${2**14}$8$1${salt.hex()}${digest.hex()}"
    async with database.write() as connection:
        current = await account_store.find_api_key(connection, old.key_id)
        assert current is not None
        await account_store.replace_secret_hash(
            connection, old.key_id, current.secret_hash, scrypt_hash
        )
    assert (await client.get("/v1/account", headers=old.bearer)).status_code == 200
    async with database.read() as connection:
        upgraded = await account_store.find_api_key(connection, old.key_id)
    assert upgraded is not None and upgraded.secret_hash.startswith("hmac-sha256$")
    # and it still works under its new hash, from another app (nothing remembered)
    assert (await client.get("/v1/account", headers=old.bearer)).status_code == 200


async def test_an_unknown_key_id_does_the_work_of_a_known_one(
    tmp_path: Path, database_url: str, database: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    authenticator = Authenticator(database, cache_seconds=0)
    await authenticator.authenticate(None, tenant.secret)  # the server secret is read once
    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        for secret in (f"tdk_{tenant.key_id}_wrong", "tdk_nosuchkey_wrong"):
            with pytest.raises(Unauthorized):
                await authenticator.authenticate(None, secret)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    # The same statement once each: a key id that exists is no slower to refuse.
    assert len(statements) == 2 and statements[0] == statements[1]
