"""Callback targets on this host or a private network are refused when they are saved, in any
spelling, with the same clear error as at delivery: the user learns at once."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant

SPELLINGS = ["localhost", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0"]


@pytest.mark.parametrize("host", SPELLINGS)
async def test_forbidden_targets_are_refused_when_saved(
    client: httpx.AsyncClient, make_tenant: MakeTenant, host: str
) -> None:
    tenant = await make_tenant("Shop")
    url = f"http://{host}:8080/hook"

    webhook = await client.post(
        "/v1/webhooks", json={"url": url, "events": ["message.status"]}, headers=tenant.bearer
    )
    message = await client.post(
        "/v1/messages",
        json={"to": "+358401234567", "from": "Shop", "body": "hi", "dlr_url": url},
        headers=tenant.bearer,
    )
    rule = await client.post(
        "/v1/inbound-rules",
        json={
            "rule_name": "Forward",
            "dedicated_number": "*",
            "message_search_type": 0,
            "action": "URL",
            "action_address": url,
        },
        headers=tenant.bearer,
    )
    receipt_rule = await client.post(
        "/v3/automations/sms/receipts",
        json={"rule_name": "R", "match_type": 0, "action": "URL", "action_address": url},
        auth=(tenant.key_id, tenant.secret),
    )
    for answer in (webhook, message, rule):
        assert answer.status_code == 422, answer.text
        assert "loopback" in answer.text or "unspecified" in answer.text, answer.text
    assert receipt_rule.status_code == 400, receipt_rule.text
    assert "loopback" in receipt_rule.text or "unspecified" in receipt_rule.text

    # Nothing was saved.
    assert (await client.get("/v1/webhooks", headers=tenant.bearer)).json()["webhooks"] == []
    assert (await client.get("/v1/messages", headers=tenant.bearer)).json()["data"] == []
    assert (await client.get("/v1/inbound-rules", headers=tenant.bearer)).json()["data"] == []
