"""Whatever a client sends, the answer is a documented status with a problem document."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.service.conftest import MakeTenant
from tidings.api.dialects.smartdialog.oauth import SCOPES as SMARTDIALOG_SCOPES
from tidings.core import oauth
from tidings.store.engine import Database

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
message_like = st.fixed_dictionaries(
    {},
    optional={
        "to": json_values | st.lists(st.text(max_size=20), max_size=5),
        "from": json_values | st.text(max_size=15),
        "body": json_values | st.text(max_size=200),
        "send_at": json_values | st.datetimes().map(lambda d: d.isoformat()),
        "personalization": json_values,
        "max_parts": json_values,
        "customer_data": json_values,
        "dlr_url": json_values | st.text(max_size=40),
    },
)


async def test_random_message_requests_get_documented_answers(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    seen: list[Any] = []

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.one_of(message_like, json_values))
    def collect(payload: Any) -> None:
        seen.append(payload)

    collect()
    for payload in seen:
        for path in ("/v1/messages", "/v1/messages/preview"):
            response = await client.post(
                path,
                content=json.dumps(payload),
                headers={**tenant.bearer, "Content-Type": "application/json"},
            )
            assert response.status_code in (200, 202, 422), (payload, response.text)
            if response.status_code == 422:
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["errors"]


async def test_odd_query_parameters_are_422_not_500(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    for params in (
        {"limit": "0"},
        {"limit": "99999"},
        {"status": "lost"},
        {"since": "yesterday"},
        {"since": "2030-01-01T00:00:00"},
        {"recipient": "not a number"},
        {"cursor": "x" * 100},
    ):
        response = await client.get("/v1/messages", params=params, headers=tenant.bearer)
        assert response.status_code == 422, params
    odd_cursor = await client.get("/v1/messages", params={"cursor": "☃"}, headers=tenant.bearer)
    assert odd_cursor.status_code == 200
    long_id = await client.get("/v1/messages/" + "z" * 500, headers=tenant.bearer)
    assert long_id.status_code == 404


async def test_base64_with_characters_beyond_ascii_is_refused_not_500(
    app: FastAPI, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    not_base64 = "\u00e9t\u00e9"
    beyond_ascii = {"Authorization": b"Basic \xe9t\xe9"}
    transport = httpx.ASGITransport(app=app)
    # On loopback: OAuth2 over plain HTTP is allowed there.
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        media = await client.post("/v1/media", json={"content": not_base64}, headers=tenant.bearer)
        assert media.status_code == 422, media.text
        assert media.headers["content-type"] == "application/problem+json"
        upload = await client.post(
            "/v3/uploads", json={"content": not_base64}, headers=tenant.basic
        )
        assert upload.status_code == 400 and "not base64" in upload.text, upload.text
        account_id = (await client.get("/api/v2.1/userinfo", headers=tenant.basic)).json()[
            "accountId"
        ]
        pushed = await client.post(
            f"/api/v2.1/account/{account_id}/media",
            json={"Content": not_base64, "FileName": "a.png"},
            headers=tenant.basic,
        )
        assert pushed.status_code == 400 and "not base64" in pushed.text, pushed.text
        token = await client.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, headers=beyond_ascii
        )
        assert token.status_code == 401, token.text
        assert (await client.get("/v1/account", headers=beyond_ascii)).status_code == 401


async def test_a_body_that_does_not_parse_is_refused_in_each_surfaces_own_shape(
    client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    await oauth.issue_token(
        database,
        key_id=tenant.key_id,
        access_token="unparsable-body-token",
        refresh_token=None,
        scope=" ".join(SMARTDIALOG_SCOPES),
        expires_in=3600,
    )
    native = await client.post(
        "/v1/messages",
        content=b"\xff\xfe{",
        headers={"Content-Type": "application/json", **tenant.bearer},
    )
    assert native.status_code == 400
    assert native.headers["content-type"] == "application/problem+json"
    smartdialog = await client.post(
        "/api-integrations/v1/messages",
        content=b"\xff\xfe{",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Bearer unparsable-body-token",
        },
    )
    assert smartdialog.status_code == 400
    # ASP.NET Core's problem details, as every other SmartDialog error.
    assert smartdialog.headers["content-type"] == "application/json"
    assert smartdialog.json()["title"] == "One or more validation errors occurred."
