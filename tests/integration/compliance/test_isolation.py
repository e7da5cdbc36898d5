"""Account A can neither read nor change account B's opt-outs, blocklist, compliance settings,
keywords or inbound rules.

``COMPLIANCE_ENDPOINTS`` is part of the service's list of isolation cases, which must cover
every /v1 operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant, Tenant

PHONE = "+358401234567"
NUMBER = "+358409999999"
RULE = {
    "rule_name": "forward",
    "dedicated_number": "*",
    "message_search_type": 0,
    "action": "AUTO_REPLY",
    "action_address": "thanks",
}
COMPLIANCE_ENDPOINTS: list[tuple[str, str, dict[str, object] | None]] = [
    ("GET", "/v1/opt-outs", None),
    ("POST", "/v1/opt-outs", {"phone": PHONE}),
    ("DELETE", "/v1/opt-outs/{entry_id}", None),
    ("GET", "/v1/blocklist", None),
    ("POST", "/v1/blocklist", {"phone": PHONE}),
    ("DELETE", "/v1/blocklist/{entry_id}", None),
    ("GET", "/v1/compliance", None),
    ("PATCH", "/v1/compliance", {"help_text": "Mallory was here"}),
    ("POST", "/v1/keywords", {"number": NUMBER, "keyword": "JOIN", "reply": "hi"}),
    ("GET", "/v1/keywords", None),
    ("GET", "/v1/keywords/{keyword_id}", None),
    ("PATCH", "/v1/keywords/{keyword_id}", {"reply": "taken"}),
    ("DELETE", "/v1/keywords/{keyword_id}", None),
    ("POST", "/v1/inbound-rules", RULE),
    ("GET", "/v1/inbound-rules", None),
    ("GET", "/v1/inbound-rules/{rule_id}", None),
    ("PATCH", "/v1/inbound-rules/{rule_id}", {"enabled": False}),
    ("DELETE", "/v1/inbound-rules/{rule_id}", None),
]


@dataclass(frozen=True)
class Victim:
    tenant: Tenant
    optout_id: str
    block_id: str
    keyword_id: str
    rule_id: str


async def _victim(client: httpx.AsyncClient, make_tenant: MakeTenant) -> Victim:
    alice = await make_tenant("Alice")
    headers = alice.bearer
    opted = await client.post("/v1/opt-outs", json={"phone": PHONE}, headers=headers)
    blocked = await client.post("/v1/blocklist", json={"phone": "+358401234568"}, headers=headers)
    await client.patch("/v1/compliance", json={"help_text": "Alice help"}, headers=headers)
    keyword = await client.post(
        "/v1/keywords", json={"number": NUMBER, "keyword": "ALICE", "reply": "a"}, headers=headers
    )
    rule = await client.post("/v1/inbound-rules", json=RULE, headers=headers)
    return Victim(
        alice,
        opted.json()["id"],
        blocked.json()["id"],
        keyword.json()["id"],
        rule.json()["id"],
    )


@pytest.mark.parametrize("endpoint", COMPLIANCE_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_account_cannot_read_or_change_compliance_or_automation(
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    endpoint: tuple[str, str, dict[str, object] | None],
) -> None:
    method, template, body = endpoint
    victim = await _victim(client, make_tenant)
    intruder_root = await make_tenant("Mallory Corp")
    intruder = await make_tenant("Mallory", parent=intruder_root)
    path = template.format(
        entry_id=victim.block_id if template.startswith("/v1/blocklist") else victim.optout_id,
        keyword_id=victim.keyword_id,
        rule_id=victim.rule_id,
    )

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
        ids = (victim.optout_id, victim.block_id, victim.keyword_id, victim.rule_id)
        for secret in (*ids, "Alice help", "ALICE"):
            assert secret not in own.text

    owner = victim.tenant.bearer
    opt_outs = await client.get("/v1/opt-outs", headers=owner)
    assert [e["id"] for e in opt_outs.json()["data"]] == [victim.optout_id]
    blocked = await client.get("/v1/blocklist", headers=owner)
    assert [e["id"] for e in blocked.json()["data"]] == [victim.block_id]
    settings = await client.get("/v1/compliance", headers=owner)
    assert settings.json()["help_text"] == "Alice help"
    keyword = await client.get(f"/v1/keywords/{victim.keyword_id}", headers=owner)
    assert keyword.json()["reply"] == "a"
    rule = await client.get(f"/v1/inbound-rules/{victim.rule_id}", headers=owner)
    assert rule.json()["enabled"] is True
