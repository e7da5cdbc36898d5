"""tidings as the OAuth2 authorization server of the SmartDialog dialect, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, update

from tests.dialects.smartdialog.conftest import (
    BASE,
    REDIRECT,
    Signed,
    authorize,
    exchange,
)
from tidings.core import accounts
from tidings.store.models import oauth_codes, oauth_tokens


async def customers(signed: Signed, token: str) -> httpx.Response:
    return await signed.http.get(f"{BASE}/customers", headers={"Authorization": f"Bearer {token}"})


async def test_authorization_code_flow_gives_a_token_that_calls_the_api(signed: Signed) -> None:
    tokens = signed.tokens
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] > 0
    assert "refresh_token" in tokens
    assert set(tokens["scope"].split()) >= {"Gateway.Send", "Group.Management", "offline_access"}
    answer = await customers(signed, tokens["access_token"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "customerUsers": [{"customerId": signed.account.id, "customerName": "Acme"}]
    }
    # Only digests are stored, never the plain values.
    async with signed.running.service.database.read() as connection:
        rows = (await connection.execute(select(oauth_tokens))).all()
    stored = {value for row in rows for value in row._mapping.values()}
    assert tokens["access_token"] not in stored
    assert tokens["refresh_token"] not in stored


async def test_a_code_works_once(signed: Signed) -> None:
    code = await authorize(signed.http, signed.key_id, signed.secret)
    async with signed.running.service.database.read() as connection:
        assert code not in {row.code_hash for row in await connection.execute(select(oauth_codes))}
    first = await exchange(signed.http, signed.key_id, signed.secret, code)
    assert first.status_code == 200, first.text
    again = await exchange(signed.http, signed.key_id, signed.secret, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


async def test_refresh_rotates_the_tokens(signed: Signed) -> None:
    old = signed.tokens
    refreshed = await signed.http.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": old["refresh_token"],
            "client_id": signed.key_id,
            "client_secret": signed.secret,
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    assert (await customers(signed, new["access_token"])).status_code == 200
    # The old pair is revoked: its access token and its refresh token are refused.
    assert (await customers(signed, old["access_token"])).status_code == 401
    reuse = await signed.http.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": old["refresh_token"]},
        auth=(signed.key_id, signed.secret),
    )
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"


async def test_client_credentials_for_machines(signed: Signed) -> None:
    answer = await signed.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(signed.key_id, signed.secret),
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert "refresh_token" not in token
    assert (await customers(signed, token["access_token"])).status_code == 200


async def test_wrong_secret_is_refused_everywhere(signed: Signed) -> None:
    other = await accounts.create_api_key(signed.running.service.database, signed.account.id)
    token = await signed.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(signed.key_id, other.secret),
    )
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"
    params = {
        "response_type": "code",
        "client_id": signed.key_id,
        "redirect_uri": REDIRECT,
        "scope": "offline_access Gateway.Send",
    }
    consent = await signed.http.post(
        "/oauth2/authorize", data={**params, "key_id": signed.key_id, "secret": "tdk_x_y"}
    )
    assert consent.status_code == 401
    assert "location" not in consent.headers
    # A redirect URI that is not registered never receives a code.
    page = await signed.http.get(
        "/oauth2/authorize", params={**params, "redirect_uri": "https://evil.example/cb"}
    )
    assert page.status_code == 400


async def test_expired_and_revoked_tokens_are_refused(signed: Signed) -> None:
    database = signed.running.service.database
    token = signed.tokens["access_token"]
    async with database.write() as connection:
        await connection.execute(
            update(oauth_tokens).values(access_expires_at=accounts.utcnow() - timedelta(seconds=1))
        )
    answer = await customers(signed, token)
    assert answer.status_code == 401
    assert answer.json()["status"] == 401
    fresh = await signed.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(signed.key_id, signed.secret),
    )
    access = fresh.json()["access_token"]
    assert (await customers(signed, access)).status_code == 200
    await accounts.revoke_api_key(database, signed.key_id)
    assert (await customers(signed, access)).status_code == 401


async def test_a_missing_scope_is_forbidden(signed: Signed) -> None:
    answer = await signed.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "Gateway.Send"},
        auth=(signed.key_id, signed.secret),
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    refused = await customers(signed, token)
    assert refused.status_code == 403
    assert "User.Customers" in refused.json()["detail"]


async def test_a_refresh_token_only_with_offline_access(signed: Signed) -> None:
    code = await authorize(
        signed.http,
        signed.key_id,
        signed.secret,
        scope="https://arenafi.onmicrosoft.com/smartdialog-integrations-api/Gateway.Send",
    )
    answer = await exchange(signed.http, signed.key_id, signed.secret, code)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["scope"] == "Gateway.Send"
    assert "refresh_token" not in token


async def test_denying_consent_redirects_with_access_denied(signed: Signed) -> None:
    params = {
        "response_type": "code",
        "client_id": signed.key_id,
        "redirect_uri": REDIRECT,
        "scope": "offline_access Gateway.Send",
        "state": "s1",
    }
    denied = await signed.http.post("/oauth2/authorize", data={**params, "decision": "deny"})
    assert denied.status_code == 302
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s1"]
    assert "code" not in query


async def test_pkce_binds_the_code_to_its_verifier(signed: Signed) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": signed.key_id,
        "redirect_uri": REDIRECT,
        "scope": "Gateway.Send",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    approved = await signed.http.post(
        "/oauth2/authorize", data={**params, "key_id": signed.key_id, "secret": signed.secret}
    )
    assert approved.status_code == 302, approved.text
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": signed.key_id,
        "client_secret": signed.secret,
    }
    wrong = await signed.http.post("/oauth2/token", data={**form, "code_verifier": "x" * 50})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    right = await signed.http.post("/oauth2/token", data={**form, "code_verifier": verifier})
    assert right.status_code == 200, right.text
