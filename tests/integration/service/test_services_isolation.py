"""Account A can neither see nor remove B's services (the groupings SmartDialog clients use).

``SERVICE_ENDPOINTS`` is part of the service's list of isolation cases, which must cover every
/v1 operation.
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant

SERVICE_ENDPOINTS: list[tuple[str, str, dict[str, object] | None]] = [
    ("POST", "/v1/services", {"name": "Intruder", "type": "OneWay"}),
    ("GET", "/v1/services", None),
    ("GET", "/v1/services/{service_id}", None),
    ("DELETE", "/v1/services/{service_id}", None),
]


@pytest.mark.parametrize("endpoint", SERVICE_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_account_cannot_read_or_remove_services(
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    endpoint: tuple[str, str, dict[str, object] | None],
) -> None:
    method, template, body = endpoint
    alice = await make_tenant("Alice")
    created = await client.post(
        "/v1/services", json={"name": "Alerts", "type": "OneWay"}, headers=alice.bearer
    )
    assert created.status_code == 201, created.text
    service_id = created.json()["id"]
    intruder_root = await make_tenant("Mallory Corp")
    intruder = await make_tenant("Mallory", parent=intruder_root)
    path = template.format(service_id=service_id)

    as_victim = await client.request(
        method, path, params={"account_id": alice.account.id}, json=body, headers=intruder.bearer
    )
    assert as_victim.status_code in (403, 404), as_victim.text

    own = await client.request(method, path, json=body, headers=intruder.bearer)
    if "{" in template:
        assert own.status_code == 404, own.text
    else:
        assert own.status_code < 300, own.text
        assert service_id not in own.text
        assert alice.account.id not in own.text

    # Alice's service is still there, unchanged.
    mine = await client.get(f"/v1/services/{service_id}", headers=alice.bearer)
    assert mine.status_code == 200, mine.text
    assert mine.json()["name"] == "Alerts"
