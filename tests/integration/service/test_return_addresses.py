"""``/v1/return-addresses``: checked as the printer will need them, and each account's own.

``RETURN_ADDRESS_ENDPOINTS`` is part of the service's list of isolation cases, which must cover
every /v1 operation.
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant

ADDRESS = {
    "name": "Acme Pty Ltd",
    "line_1": "1 Example Lane",
    "city": "Melbourne",
    "state": "VIC",
    "postal_code": "3000",
    "country": "au",
}

RETURN_ADDRESS_ENDPOINTS: list[tuple[str, str, dict[str, object] | None]] = [
    ("POST", "/v1/return-addresses", ADDRESS),
    ("GET", "/v1/return-addresses", None),
    ("GET", "/v1/return-addresses/{address_id}", None),
    ("PATCH", "/v1/return-addresses/{address_id}", {"city": "Elsewhere"}),
    ("DELETE", "/v1/return-addresses/{address_id}", None),
]


async def test_create_read_change_and_remove(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    created = await client.post("/v1/return-addresses", json=ADDRESS, headers=alice.bearer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/v1/return-addresses/{body['id']}"
    assert (body["country"], body["line_2"]) == ("AU", "")

    listed = await client.get("/v1/return-addresses", headers=alice.bearer)
    assert [a["id"] for a in listed.json()["return_addresses"]] == [body["id"]]

    changed = await client.patch(
        f"/v1/return-addresses/{body['id']}", json={"line_2": "Suite 4"}, headers=alice.bearer
    )
    assert changed.status_code == 200
    assert (changed.json()["line_2"], changed.json()["city"]) == ("Suite 4", "Melbourne")

    removed = await client.delete(f"/v1/return-addresses/{body['id']}", headers=alice.bearer)
    assert removed.status_code == 204
    gone = await client.get(f"/v1/return-addresses/{body['id']}", headers=alice.bearer)
    assert gone.status_code == 404


async def test_addresses_that_cannot_be_printed_are_refused(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    bad_country = await client.post(
        "/v1/return-addresses", json={**ADDRESS, "country": "XX"}, headers=alice.bearer
    )
    assert bad_country.status_code == 422
    assert "not an ISO 3166 country code" in bad_country.json()["detail"]
    blank = await client.post(
        "/v1/return-addresses", json={**ADDRESS, "city": "  "}, headers=alice.bearer
    )
    assert blank.status_code == 422
    assert "has no city" in blank.json()["detail"]
    created = (await client.post("/v1/return-addresses", json=ADDRESS, headers=alice.bearer)).json()
    emptied = await client.patch(
        f"/v1/return-addresses/{created['id']}", json={"postal_code": ""}, headers=alice.bearer
    )
    assert emptied.status_code == 422
    unknown = await client.post(
        "/v1/return-addresses", json={**ADDRESS, "zip": "3000"}, headers=alice.bearer
    )
    assert unknown.status_code == 422


@pytest.mark.parametrize("endpoint", RETURN_ADDRESS_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_account_cannot_see_or_change_an_address(
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    endpoint: tuple[str, str, dict[str, object] | None],
) -> None:
    method, template, body = endpoint
    alice, mallory = await make_tenant("Alice"), await make_tenant("Mallory")
    created = (await client.post("/v1/return-addresses", json=ADDRESS, headers=alice.bearer)).json()
    path = template.format(address_id=created["id"])

    as_alice = await client.request(
        method, path, params={"account_id": alice.account.id}, json=body, headers=mallory.bearer
    )
    assert as_alice.status_code in (403, 404), as_alice.text
    own = await client.request(method, path, json=body, headers=mallory.bearer)
    if "{" in template:
        assert own.status_code == 404, own.text
    else:
        assert own.status_code < 300 and created["id"] not in own.text

    still = await client.get(f"/v1/return-addresses/{created['id']}", headers=alice.bearer)
    assert still.status_code == 200 and still.json()["city"] == "Melbourne"
