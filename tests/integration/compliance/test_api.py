"""The opt-out, blocklist, compliance, keyword and inbound rule endpoints: CRUD, pagination
and the validation errors a client sees."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant, Tenant

NUMBER = "+358409999999"


@pytest.fixture
async def tenant(make_tenant: MakeTenant) -> Tenant:
    return await make_tenant("Acme")


def error_paths(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["path"] for error in response.json()["errors"]]


async def test_opt_outs_page_and_are_removed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.bearer
    ids = []
    for n in range(5):
        added = await client.post("/v1/opt-outs", json={"phone": f"040111222{n}"}, headers=headers)
        assert added.status_code == 201, added.text
        ids.append(added.json()["id"])
    again = await client.post("/v1/opt-outs", json={"phone": "0401112220"}, headers=headers)
    assert again.status_code == 409
    per_sender = await client.post(
        "/v1/opt-outs", json={"phone": "0401112220", "sender": NUMBER}, headers=headers
    )
    assert per_sender.json()["sender"] == NUMBER

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/opt-outs", params=params, headers=headers)).json()
        seen += [entry["id"] for entry in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [*ids, per_sender.json()["id"]]
    one = await client.get("/v1/opt-outs", params={"phone": "+358401112223"}, headers=headers)
    assert [e["id"] for e in one.json()["data"]] == [ids[3]]

    assert (await client.delete(f"/v1/opt-outs/{ids[0]}", headers=headers)).status_code == 204
    assert (await client.delete(f"/v1/opt-outs/{ids[0]}", headers=headers)).status_code == 404
    # An opt-out id is not a blocklist entry.
    assert (await client.delete(f"/v1/blocklist/{ids[1]}", headers=headers)).status_code == 404


async def test_invalid_numbers_and_settings_are_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant.bearer
    assert error_paths(
        await client.post("/v1/opt-outs", json={"phone": "abc"}, headers=headers)
    ) == ["phone"]
    assert error_paths(
        await client.post("/v1/blocklist", json={"phone": "1", "x": 1}, headers=headers)
    ) == ["x"]
    assert error_paths(
        await client.patch("/v1/compliance", json={"scope": "planet"}, headers=headers)
    ) == ["scope"]
    assert error_paths(
        await client.patch("/v1/compliance", json={"stop_words": ["START"]}, headers=headers)
    ) == ["stop_words"]
    defaults = (await client.get("/v1/compliance", headers=headers)).json()
    assert defaults["scope"] == "account"
    assert defaults["stop_words"] == []
    assert defaults["help_text"] == "{account}: reply STOP to opt out."
    assert defaults["start_reply"] == "{account}: you are subscribed again. Reply STOP to opt out."
    # A null stop reply turns the confirmation off; other fields keep their values.
    await client.patch("/v1/compliance", json={"help_text": "Call us"}, headers=headers)
    changed = await client.patch("/v1/compliance", json={"stop_reply": None}, headers=headers)
    assert (changed.json()["stop_reply"], changed.json()["help_text"]) == (None, "Call us")


async def test_keywords_crud_and_validation(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.bearer
    created = await client.post(
        "/v1/keywords", json={"number": NUMBER, "keyword": " join ", "reply": "Hi"}, headers=headers
    )
    assert created.status_code == 201, created.text
    keyword_id = created.json()["id"]
    assert created.json()["keyword"] == "JOIN"
    duplicate = await client.post(
        "/v1/keywords", json={"number": NUMBER, "keyword": "Join"}, headers=headers
    )
    assert duplicate.status_code == 409
    for body, path in [
        ({"number": NUMBER, "keyword": "two words"}, "keyword"),
        ({"number": NUMBER, "keyword": "stop"}, "keyword"),
        ({"number": "nope", "keyword": "X"}, "number"),
        ({"number": NUMBER, "keyword": "X", "add_to_list_id": "01NOSUCHLIST"}, "add_to_list_id"),
    ]:
        assert error_paths(await client.post("/v1/keywords", json=body, headers=headers)) == [path]

    short = await client.post(
        "/v1/keywords", json={"number": "12345", "keyword": "JOIN"}, headers=headers
    )
    assert short.status_code == 201, short.text
    assert short.json()["number"] == "12345"  # a short code stays as it is

    updated = await client.patch(
        f"/v1/keywords/{keyword_id}", json={"reply": "Hello"}, headers=headers
    )
    assert (updated.json()["reply"], updated.json()["keyword"]) == ("Hello", "JOIN")
    listed = await client.get("/v1/keywords", headers=headers)
    assert [k["id"] for k in listed.json()["data"]] == [keyword_id, short.json()["id"]]
    assert (await client.delete(f"/v1/keywords/{keyword_id}", headers=headers)).status_code == 204
    assert (await client.get(f"/v1/keywords/{keyword_id}", headers=headers)).status_code == 404


async def test_inbound_rules_crud_and_validation(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.bearer
    rule = {
        "rule_name": "Forward",
        "dedicated_number": "*",
        "message_search_type": 2,
        "message_search_term": "order",
        "action": "URL",
        "action_address": "https://example.com/in",
    }
    created = await client.post("/v1/inbound-rules", json=rule, headers=headers)
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    assert (created.json()["webhook_type"], created.json()["enabled"]) == ("json", True)
    for changes, path in [
        ({"message_search_type": 7}, "message_search_type"),
        ({"action": "EMAIL"}, "action"),
        ({"message_search_term": None}, "message_search_term"),
        ({"action_address": None}, "action_address"),
        ({"action_address": "ftp://example.com/x"}, "action_address"),
        # The SSRF guard: loopback targets are refused unless the service allows them.
        ({"action_address": "http://127.0.0.1:8080/x"}, "action_address"),
        ({"dedicated_number": "nope"}, "dedicated_number"),
    ]:
        response = await client.post("/v1/inbound-rules", json={**rule, **changes}, headers=headers)
        assert error_paths(response) == [path], changes

    # An update is checked as a whole: AUTO_REPLY needs its text in action_address.
    switched = await client.patch(
        f"/v1/inbound-rules/{rule_id}",
        json={"action": "AUTO_REPLY", "action_address": "Thanks!", "enabled": False},
        headers=headers,
    )
    assert switched.status_code == 200, switched.text
    assert (switched.json()["action"], switched.json()["enabled"]) == ("AUTO_REPLY", False)
    none = await client.patch(
        f"/v1/inbound-rules/{rule_id}", json={"action": "NONE"}, headers=headers
    )
    assert none.json()["action_address"] is None
    listed = await client.get("/v1/inbound-rules", headers=headers)
    assert [r["rule_name"] for r in listed.json()["data"]] == ["Forward"]
    assert (await client.delete(f"/v1/inbound-rules/{rule_id}", headers=headers)).status_code == 204
    assert (await client.get(f"/v1/inbound-rules/{rule_id}", headers=headers)).status_code == 404


async def test_send_accepts_force_opt_in_and_reports_reasons(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant.bearer
    await client.post("/v1/blocklist", json={"phone": "+358401234567"}, headers=headers)
    body = {"to": ["+358401234567", "+358401234567"], "from": "Tidings", "body": "hi"}
    refused = await client.post("/v1/messages", json=body, headers=headers)
    assert [m["error"]["reason"] for m in refused.json()["messages"]] == [3, 2]
    forced = await client.post("/v1/messages", json={**body, "force_opt_in": True}, headers=headers)
    assert forced.json()["accepted"] == 1
    preview = await client.post(
        "/v1/messages/preview", json={"to": ["x"], "from": "Tidings", "body": "hi"}, headers=headers
    )
    assert preview.json()["messages"][0]["error"]["reason"] == 0


async def test_a_replayed_send_reports_the_same_reasons(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = {**tenant.bearer, "Idempotency-Key": "campaign-7"}
    await client.post("/v1/opt-outs", json={"phone": "+358401234567"}, headers=tenant.bearer)
    body = {"to": ["+358401234567", "+358401234568"], "from": "Tidings", "body": "hi"}
    first = await client.post("/v1/messages", json=body, headers=headers)
    # Opted in again meanwhile: the replay still answers as the first request was answered.
    [entry] = (await client.get("/v1/opt-outs", headers=tenant.bearer)).json()["data"]
    await client.delete(f"/v1/opt-outs/{entry['id']}", headers=tenant.bearer)
    replay = await client.post("/v1/messages", json=body, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.json()["messages"][0]["error"]["reason"] == 1
