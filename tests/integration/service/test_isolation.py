"""Account A can neither read nor change anything of account B, through any endpoint.

Every /v1 endpoint of the app must appear in ``ENDPOINTS``; a test fails when one is missing,
so a new endpoint cannot ship without its isolation case.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.campaigns.test_isolation import CAMPAIGN_ENDPOINTS
from tests.integration.compliance.test_isolation import COMPLIANCE_ENDPOINTS
from tests.integration.contacts.test_isolation import CONTACT_ENDPOINTS
from tests.integration.conversations.test_isolation import CONVERSATION_ENDPOINTS
from tests.integration.media.test_isolation import MEDIA_ENDPOINTS
from tests.integration.service.conftest import MakeTenant, Tenant
from tests.integration.service.test_return_addresses import RETURN_ADDRESS_ENDPOINTS
from tests.integration.service.test_services_isolation import SERVICE_ENDPOINTS
from tests.integration.service.test_whatsapp_templates_isolation import (
    WHATSAPP_TEMPLATE_ENDPOINTS,
)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: dict[str, object] | None = None


MESSAGE = {"to": "+358401234567", "from": "Tidings", "body": "hello"}
ROUTE = {"name": "intruder", "settings": {"host": "127.0.0.1", "port": 2775, "system_id": "x"}}
# Endpoints for operators only: a tenant is refused them even in its own scope.
OPERATOR_ONLY = ("/v1/route", "/v1/accounts/", "/v1/senders/{")

ENDPOINTS = [
    Endpoint("GET", "/v1/account"),
    Endpoint("PATCH", "/v1/account", {"mms_fallback_sms": True}),
    Endpoint("GET", "/v1/account/routes"),
    Endpoint("POST", "/v1/accounts", {"name": "Intruder Sub"}),
    Endpoint("GET", "/v1/accounts"),
    Endpoint("GET", "/v1/accounts/{account_id}"),
    Endpoint("PATCH", "/v1/accounts/{account_id}", {"status": "suspended"}),
    Endpoint("POST", "/v1/accounts/{account_id}/keys", {"role": "operator"}),
    Endpoint("POST", "/v1/account/keys", {"name": "intruder"}),
    Endpoint("GET", "/v1/account/keys"),
    Endpoint("DELETE", "/v1/account/keys/{key_id}"),
    Endpoint("POST", "/v1/messages", MESSAGE),
    Endpoint("GET", "/v1/messages"),
    Endpoint("POST", "/v1/messages/preview", MESSAGE),
    Endpoint("GET", "/v1/voice/languages"),
    Endpoint("GET", "/v1/messages/{message_id}"),
    Endpoint("POST", "/v1/messages/{message_id}/cancel"),
    Endpoint("GET", "/v1/senders"),
    Endpoint("POST", "/v1/senders", {"address": "Intruder"}),
    Endpoint("GET", "/v1/senders/{sender_id}"),
    Endpoint("PATCH", "/v1/senders/{sender_id}", {"route": None}),
    Endpoint("DELETE", "/v1/senders/{sender_id}"),
    Endpoint("GET", "/v1/routes"),
    Endpoint("POST", "/v1/routes", ROUTE),
    Endpoint("GET", "/v1/routes/{name}"),
    Endpoint("PATCH", "/v1/routes/{name}", {"settings": {"port": 1}}),
    Endpoint("GET", "/v1/route-kinds"),
    Endpoint("DELETE", "/v1/routes/{name}"),
    Endpoint(
        "POST", "/v1/webhooks", {"url": "https://example.org/in", "events": ["message.status"]}
    ),
    Endpoint("GET", "/v1/webhooks"),
    Endpoint("GET", "/v1/webhooks/{subscription_id}"),
    Endpoint("DELETE", "/v1/webhooks/{subscription_id}"),
    Endpoint("GET", "/v1/webhooks/{subscription_id}/deliveries"),
    Endpoint("POST", "/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/replay"),
    # An operator's: a tenant may neither take an unrouted message nor give one away.
    Endpoint(
        "POST", "/v1/inbound/unrouted/{message_id}/assign", {"account_id": "01J0000000000000"}
    ),
]


@dataclass(frozen=True)
class Victim:
    tenant: Tenant
    message_id: str
    sender_id: str
    subscription_id: str


async def _victim(client: httpx.AsyncClient, make_tenant: MakeTenant, operator: Tenant) -> Victim:
    alice = await make_tenant("Alice")
    sent = await client.post("/v1/messages", json=MESSAGE, headers=alice.bearer)
    created = await client.post(
        "/v1/senders",
        json={"address": "Alice", "route": "simulator"},
        params={"account_id": alice.account.id},
        headers=operator.bearer,
    )
    subscribed = await client.post(
        "/v1/webhooks",
        json={"url": "https://example.com/alice", "events": ["message.status"]},
        headers=alice.bearer,
    )
    return Victim(
        alice, sent.json()["messages"][0]["id"], created.json()["id"], subscribed.json()["id"]
    )


def test_every_endpoint_has_an_isolation_case(app: FastAPI) -> None:
    served = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1")
        for method in operations
    }
    assert served == (
        {(e.method, e.path) for e in ENDPOINTS}
        | {e[:2] for e in CONTACT_ENDPOINTS}
        | {e[:2] for e in COMPLIANCE_ENDPOINTS}
        | {e[:2] for e in CONVERSATION_ENDPOINTS}
        | {e[:2] for e in SERVICE_ENDPOINTS}
        | {e[:2] for e in CAMPAIGN_ENDPOINTS}
        | {e[:2] for e in RETURN_ADDRESS_ENDPOINTS}
        | {e[:2] for e in MEDIA_ENDPOINTS}
        | {e[:2] for e in WHATSAPP_TEMPLATE_ENDPOINTS}
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_another_account_cannot_read_or_change_anything(
    client: httpx.AsyncClient, make_tenant: MakeTenant, endpoint: Endpoint
) -> None:
    operator = await make_tenant("Operator", operator=True)
    victim = await _victim(client, make_tenant, operator)
    # The intruder is a sub-account elsewhere: it may not manage routes either.
    intruder_root = await make_tenant("Mallory Corp")
    intruder = await make_tenant("Mallory", parent=intruder_root)
    path = endpoint.path.format(
        message_id=victim.message_id,
        sender_id=victim.sender_id,
        name="simulator",
        account_id=victim.tenant.account.id,
        subscription_id=victim.subscription_id,
        delivery_id="0",
        key_id=victim.tenant.key_id,
    )

    # Acting for the victim's account is refused outright.
    as_victim = await client.request(
        endpoint.method,
        path,
        params={"account_id": victim.tenant.account.id},
        json=endpoint.body,
        headers=intruder.bearer,
    )
    assert as_victim.status_code in (403, 404), as_victim.text

    # With its own scope, the intruder sees none of the victim's things.
    own = await client.request(endpoint.method, path, json=endpoint.body, headers=intruder.bearer)
    listing_accounts = (endpoint.method, endpoint.path) == ("GET", "/v1/accounts")
    if "{" in endpoint.path or listing_accounts or endpoint.path.startswith(OPERATOR_ONLY):
        assert own.status_code in (403, 404), own.text
    else:
        assert own.status_code < 300, own.text
        victim_ids = (
            victim.tenant.account.id,
            victim.message_id,
            victim.sender_id,
            victim.subscription_id,
            victim.tenant.key_id,
        )
        for secret_id in victim_ids:
            assert secret_id not in own.text

    # And nothing of the victim's changed.
    message = await client.get(f"/v1/messages/{victim.message_id}", headers=victim.tenant.bearer)
    assert message.json()["status"] == "queued"
    listed = await client.get("/v1/messages", headers=victim.tenant.bearer)
    assert [m["id"] for m in listed.json()["data"]] == [victim.message_id]
    sender = await client.get(f"/v1/senders/{victim.sender_id}", headers=victim.tenant.bearer)
    assert sender.json()["route"] == "simulator"
    account = await client.get("/v1/account", headers=victim.tenant.bearer)
    assert account.json()["sub_accounts"] == []
    assert account.json()["status"] == "active"
    hooks = await client.get("/v1/webhooks", headers=victim.tenant.bearer)
    assert [h["id"] for h in hooks.json()["webhooks"]] == [victim.subscription_id]
    routes = await client.get("/v1/routes", headers=operator.bearer)
    assert [(r["name"], r["settings"]["port"]) for r in routes.json()] == [("simulator", 2775)]
