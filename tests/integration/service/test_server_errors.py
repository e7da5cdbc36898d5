"""Requests that once answered 500: each is now a clear client error (or a success)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.service.conftest import MakeTenant, Tenant

TOO_BIG = 2**63  # one past the largest 64-bit integer a database column holds


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees a 500 as an answer rather than as the app's exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tidings.test") as http:
        yield http


@pytest.fixture
async def tenant(make_tenant: MakeTenant) -> Tenant:
    return await make_tenant("Shop")


@pytest.mark.parametrize(
    "path",
    [
        f"/v3/lists/{TOO_BIG}",
        f"/v3/lists/{TOO_BIG}/contacts",
        f"/v3/lists/1/contacts/{TOO_BIG}",
        f"/v3/sms/inbound/{TOO_BIG}",
        f"/v3/sms-campaigns/{TOO_BIG}",
    ],
)
async def test_clicksend_ids_beyond_64_bits_name_nothing(
    raw_client: httpx.AsyncClient, tenant: Tenant, path: str
) -> None:
    answer = await raw_client.get(path, auth=(tenant.key_id, tenant.secret))
    assert answer.status_code == 404, answer.text
    assert answer.json()["http_code"] == 404  # ClickSend's envelope


@pytest.mark.parametrize(
    "path", ["/v3/lists", "/v3/sms/inbound", "/v3/sms-campaigns", "/v3/sms/history"]
)
async def test_clicksend_pages_beyond_64_bits_are_empty(
    raw_client: httpx.AsyncClient, tenant: Tenant, path: str
) -> None:
    answer = await raw_client.get(
        path, params={"page": TOO_BIG}, auth=(tenant.key_id, tenant.secret)
    )
    assert answer.status_code == 200, answer.text
    page = answer.json()["data"]
    assert (page["current_page"], page["data"]) == (TOO_BIG, [])


async def test_clicksend_send_to_a_list_beyond_64_bits(
    raw_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    answer = await raw_client.post(
        "/v3/sms/send",
        json={"messages": [{"list_id": TOO_BIG, "body": "hi", "source": "sdk"}]},
        auth=(tenant.key_id, tenant.secret),
    )
    assert answer.status_code < 500, answer.text


@pytest.mark.parametrize("field", ["number", "keyword"])
async def test_a_keyword_patched_with_null(
    raw_client: httpx.AsyncClient, tenant: Tenant, field: str
) -> None:
    await raw_client.post("/v1/senders", json={"address": "+358401234567"}, headers=tenant.bearer)
    created = await raw_client.post(
        "/v1/keywords",
        json={"number": "+358401234567", "keyword": "JOIN", "reply": "Welcome"},
        headers=tenant.bearer,
    )
    assert created.status_code == 201, created.text
    keyword_id = created.json()["id"]
    answer = await raw_client.patch(
        f"/v1/keywords/{keyword_id}", json={field: None}, headers=tenant.bearer
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["path"] == field
    unchanged = await raw_client.get(f"/v1/keywords/{keyword_id}", headers=tenant.bearer)
    assert unchanged.json()[field] == created.json()[field]


@pytest.mark.parametrize(
    "field",
    [
        "rule_name",
        "dedicated_number",
        "message_search_type",
        "action",
        "webhook_type",
        "enabled",
        "payload_format",
    ],
)
async def test_an_inbound_rule_patched_with_null(
    raw_client: httpx.AsyncClient, tenant: Tenant, field: str
) -> None:
    created = await raw_client.post(
        "/v1/inbound-rules",
        json={
            "rule_name": "Replies",
            "dedicated_number": "*",
            "message_search_type": 0,
            "action": "AUTO_REPLY",
            "action_address": "Thanks!",
        },
        headers=tenant.bearer,
    )
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    answer = await raw_client.patch(
        f"/v1/inbound-rules/{rule_id}", json={field: None}, headers=tenant.bearer
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["path"] == field
    unchanged = await raw_client.get(f"/v1/inbound-rules/{rule_id}", headers=tenant.bearer)
    assert unchanged.json()[field] == created.json()[field]


async def test_compliance_scope_patched_with_null(
    raw_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    answer = await raw_client.patch("/v1/compliance", json={"scope": None}, headers=tenant.bearer)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["path"] == "scope"


async def test_a_history_export_named_in_any_script(
    raw_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    answer = await raw_client.get(
        "/v3/sms/history/export/file",
        params={"filename": "中 историја.csv"},
        auth=(tenant.key_id, tenant.secret),
    )
    assert answer.status_code == 200, answer.text
    disposition = answer.headers["content-disposition"]
    # RFC 6266: an ASCII fallback, and the name itself in RFC 8187 encoding.
    assert disposition.startswith("attachment; filename=")
    assert "filename*=UTF-8''%E4%B8%AD%20" in disposition
    assert answer.text.startswith("message_id,")


async def test_a_reply_reusing_another_sends_request_id_is_a_conflict(
    raw_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """It answered 500: the replayed answer of a send to two numbers has two messages."""
    sent = await raw_client.post(
        "/v1/messages",
        json={
            "to": ["+358401234567", "+358401234568"],
            "from": "Shop",
            "body": "hi",
            "request_id": "order-1",
        },
        headers=tenant.bearer,
    )
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["messages"][0]["id"]
    reply = await raw_client.post(
        f"/v1/messages/{message_id}/reply",
        json={"body": "again", "request_id": "order-1"},
        headers=tenant.bearer,
    )
    assert reply.status_code in (409, 422), reply.text
