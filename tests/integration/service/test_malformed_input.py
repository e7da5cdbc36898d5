"""Whatever a client sends, the answer is a documented status with a problem document."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.service.conftest import MakeTenant

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
