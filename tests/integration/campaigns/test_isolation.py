"""Account A can neither read nor change account B's campaigns, nor send to B's lists.

``CAMPAIGN_ENDPOINTS`` is part of the service's list of isolation cases, which must cover
every /v1 operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant, Tenant

CAMPAIGN = {"name": "Intruder", "from": "Tidings", "body": "x", "to": ["+358401234567"]}
CAMPAIGN_ENDPOINTS: list[tuple[str, str, dict[str, object] | None]] = [
    ("POST", "/v1/campaigns", CAMPAIGN),
    ("GET", "/v1/campaigns", None),
    ("GET", "/v1/campaigns/{campaign_id}", None),
    ("DELETE", "/v1/campaigns/{campaign_id}", None),
    ("POST", "/v1/campaigns/{campaign_id}/run", None),
    ("POST", "/v1/campaigns/{campaign_id}/cancel", None),
]


@dataclass(frozen=True)
class Victim:
    tenant: Tenant
    campaign_id: str
    list_id: str


async def _victim(client: httpx.AsyncClient, make_tenant: MakeTenant) -> Victim:
    alice = await make_tenant("Alice")
    members = await client.post("/v1/lists", json={"name": "Alice's"}, headers=alice.bearer)
    draft = await client.post(
        "/v1/campaigns",
        json={
            "name": "Alice's launch",
            "from": "Tidings",
            "body": "x",
            "lists": [members.json()["id"]],
            "execute": False,
        },
        headers=alice.bearer,
    )
    assert draft.status_code == 201, draft.text
    return Victim(alice, draft.json()["id"], members.json()["id"])


@pytest.mark.parametrize("endpoint", CAMPAIGN_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_account_cannot_read_or_change_campaigns(
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    endpoint: tuple[str, str, dict[str, object] | None],
) -> None:
    method, template, body = endpoint
    victim = await _victim(client, make_tenant)
    intruder_root = await make_tenant("Mallory Corp")
    intruder = await make_tenant("Mallory", parent=intruder_root)
    path = template.format(campaign_id=victim.campaign_id)

    as_victim = await client.request(
        method,
        path,
        params={"account_id": victim.tenant.account.id},
        json=body,
        headers=intruder.bearer,
    )
    assert as_victim.status_code in (403, 404), as_victim.text

    own = await client.request(method, path, json=body, headers=intruder.bearer)
    if "{" in template:
        assert own.status_code == 404, own.text
    else:
        assert own.status_code < 300, own.text
        for secret in (victim.tenant.account.id, victim.campaign_id, "Alice"):
            assert secret not in own.text

    owner = victim.tenant.bearer
    found = await client.get(f"/v1/campaigns/{victim.campaign_id}", headers=owner)
    assert (found.json()["status"], found.json()["name"]) == ("draft", "Alice's launch")
    listed = await client.get("/v1/campaigns", headers=owner)
    assert [c["id"] for c in listed.json()["data"]] == [victim.campaign_id]


@pytest.mark.parametrize("field", ["lists", "exclude_lists"])
async def test_another_accounts_list_is_as_unknown_as_a_typo(
    client: httpx.AsyncClient, make_tenant: MakeTenant, field: str
) -> None:
    victim = await _victim(client, make_tenant)
    intruder = await make_tenant("Mallory")
    message = {key: value for key, value in CAMPAIGN.items() if key != "name"}
    for path, body in (("/v1/campaigns", CAMPAIGN), ("/v1/messages", message)):
        response = await client.post(
            path, json={**body, field: [victim.list_id]}, headers=intruder.bearer
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == f"no list {victim.list_id}"
