"""Contacts through /v1: create, read, update, delete, validation, search and pagination."""

from __future__ import annotations

import httpx

from tests.integration.service.conftest import MakeTenant


async def test_create_read_update_delete(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice", region="FI")
    created = await client.post(
        "/v1/contacts",
        json={
            "phone": "040 123 4567",
            "email": "Maija@Example.fi",
            "first_name": "Maija",
            "last_name": "Meikäläinen",
            "gender": "female",
            "birth_year": 1985,
            "street": "Mannerheimintie 1",
            "zip": "00100",
            "city": "Helsinki",
            "country": "FIN",
            "organisation": "Acme Oy",
            "fax": "09 123 4567",
            "properties": {"tier": "gold"},
        },
        headers=alice.bearer,
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["phone"] == "+358401234567"
    assert contact["fax"] == "+35891234567"
    assert contact["country"] == "FI"
    assert contact["properties"] == {"tier": "gold"}
    assert contact["active"] is True
    assert contact["health"]["failed_messages"] == 0
    assert contact["account_id"] == alice.account.id

    again = await client.post("/v1/contacts", json={"phone": "+358401234567"}, headers=alice.bearer)
    assert again.status_code == 409

    fetched = await client.get(f"/v1/contacts/{contact['id']}", headers=alice.bearer)
    assert fetched.json() == contact

    patched = await client.patch(
        f"/v1/contacts/{contact['id']}",
        json={"city": "Espoo", "email": None, "active": False, "properties": {"a": "1"}},
        headers=alice.bearer,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["city"], body["email"], body["active"]) == ("Espoo", None, False)
    assert body["properties"] == {"a": "1"}
    assert body["first_name"] == "Maija"  # untouched fields stay

    deleted = await client.delete(f"/v1/contacts/{contact['id']}", headers=alice.bearer)
    assert deleted.status_code == 204
    gone = await client.get(f"/v1/contacts/{contact['id']}", headers=alice.bearer)
    assert gone.status_code == 404
    assert (
        await client.delete(f"/v1/contacts/{contact['id']}", headers=alice.bearer)
    ).status_code == 404


async def test_the_same_phone_may_be_a_contact_of_two_accounts(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    for name in ("Alice", "Bob"):
        tenant = await make_tenant(name)
        answer = await client.post(
            "/v1/contacts", json={"phone": "+358401234567"}, headers=tenant.bearer
        )
        assert answer.status_code == 201, answer.text


async def test_invalid_fields_are_reported_by_name(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    cases = {
        "phone": {"phone": "12"},
        "email": {"phone": "+358401234567", "email": "not-an-email"},
        "country": {"phone": "+358401234567", "country": "XX"},
        "gender": {"phone": "+358401234567", "gender": "robot"},
        "birth_year": {"phone": "+358401234567", "birth_year": 1700},
        "properties": {"phone": "+358401234567", "properties": {"": "x"}},
    }
    for field, body in cases.items():
        answer = await client.post("/v1/contacts", json=body, headers=alice.bearer)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in answer.text
    blank_phone = await client.post(
        "/v1/contacts", json={"phone": "+358401234567"}, headers=alice.bearer
    )
    cleared = await client.patch(
        f"/v1/contacts/{blank_phone.json()['id']}", json={"phone": None}, headers=alice.bearer
    )
    assert cleared.status_code == 422
    taken = await client.post("/v1/contacts", json={"phone": "+358401234568"}, headers=alice.bearer)
    clash = await client.patch(
        f"/v1/contacts/{taken.json()['id']}", json={"phone": "+358401234567"}, headers=alice.bearer
    )
    assert clash.status_code == 409


async def test_search_by_phone_email_name_and_pagination(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice", region="FI")
    people = [
        ("+358401000001", "anna@example.com", "Anna", "Virtanen"),
        ("+358401000002", "bert@example.com", "Bert", "Korhonen"),
        ("+358451000003", "cecilia@example.org", "Cecilia", "Virtanen"),
        ("+358451000004", None, "Dan", "Nieminen"),
        ("+358451000005", "eve_x@example.org", "Eve", "100%"),
    ]
    ids = []
    for phone, email, first, last in people:
        answer = await client.post(
            "/v1/contacts",
            json={"phone": phone, "email": email, "first_name": first, "last_name": last},
            headers=alice.bearer,
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])

    async def search(**params: object) -> list[str]:
        answer = await client.get("/v1/contacts", params=params, headers=alice.bearer)
        assert answer.status_code == 200, answer.text
        return [c["first_name"] for c in answer.json()["data"]]

    assert await search(phone="0401000002") == ["Bert"]  # a local number, read in FI
    assert await search(email="CECILIA@example.org") == ["Cecilia"]
    assert sorted(await search(name="virtanen")) == ["Anna", "Cecilia"]
    assert sorted(await search(q="+35845")) == ["Cecilia", "Dan", "Eve"]
    assert sorted(await search(q="example.org")) == ["Cecilia", "Eve"]
    assert await search(q="0%") == ["Eve"]  # LIKE wildcards are matched literally
    assert await search(q="_x") == ["Eve"]
    assert await search(name="nobody") == []

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, object] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = (await client.get("/v1/contacts", params=params, headers=alice.bearer)).json()
        seen.extend(c["id"] for c in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)  # id order, without repeats or gaps

    bad = await client.get("/v1/contacts", params={"phone": "abc"}, headers=alice.bearer)
    assert bad.status_code == 422
