"""Lists through /v1: create, rename, search, delete, and member add/remove/copy/move/clear."""

from __future__ import annotations

import httpx

from tests.integration.service.conftest import MakeTenant, Tenant


async def _contact(client: httpx.AsyncClient, tenant: Tenant, phone: str) -> str:
    answer = await client.post("/v1/contacts", json={"phone": phone}, headers=tenant.bearer)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _list(client: httpx.AsyncClient, tenant: Tenant, name: str) -> str:
    answer = await client.post("/v1/lists", json={"name": name}, headers=tenant.bearer)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_create_rename_search_delete(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    customers = await _list(client, alice, "Customers")
    await _list(client, alice, "Staff")
    duplicate = await client.post("/v1/lists", json={"name": "Customers"}, headers=alice.bearer)
    assert duplicate.status_code == 409

    renamed = await client.patch(
        f"/v1/lists/{customers}", json={"name": "VIP customers"}, headers=alice.bearer
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "VIP customers"
    clash = await client.patch(
        f"/v1/lists/{customers}", json={"name": "Staff"}, headers=alice.bearer
    )
    assert clash.status_code == 409

    found = await client.get("/v1/lists", params={"name": "vip"}, headers=alice.bearer)
    assert [entry["name"] for entry in found.json()["data"]] == ["VIP customers"]
    everything = await client.get("/v1/lists", params={"limit": 1}, headers=alice.bearer)
    assert len(everything.json()["data"]) == 1
    assert everything.json()["next_cursor"] is not None
    rest = await client.get(
        "/v1/lists",
        params={"limit": 1, "cursor": everything.json()["next_cursor"]},
        headers=alice.bearer,
    )
    assert len(rest.json()["data"]) == 1
    assert rest.json()["next_cursor"] is None

    contact = await _contact(client, alice, "+358401234567")
    await client.post(
        f"/v1/lists/{customers}/members", json={"contact_ids": [contact]}, headers=alice.bearer
    )
    assert (await client.delete(f"/v1/lists/{customers}", headers=alice.bearer)).status_code == 204
    assert (await client.get(f"/v1/lists/{customers}", headers=alice.bearer)).status_code == 404
    # Deleting a list keeps its contacts.
    assert (await client.get(f"/v1/contacts/{contact}", headers=alice.bearer)).status_code == 200


async def test_member_operations_and_counts(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    source = await _list(client, alice, "Source")
    target = await _list(client, alice, "Target")
    first = await _contact(client, alice, "+358401000001")
    second = await _contact(client, alice, "+358401000002")
    third = await _contact(client, alice, "+358401000003")

    added = await client.post(
        f"/v1/lists/{source}/members",
        json={"contact_ids": [first, second, third, first]},
        headers=alice.bearer,
    )
    assert added.status_code == 200, added.text
    assert (added.json()["added"], added.json()["list"]["member_count"]) == (3, 3)
    again = await client.post(
        f"/v1/lists/{source}/members", json={"contact_ids": [first]}, headers=alice.bearer
    )
    assert (again.json()["added"], again.json()["list"]["member_count"]) == (0, 3)
    unknown = await client.post(
        f"/v1/lists/{source}/members", json={"contact_ids": ["NOPE"]}, headers=alice.bearer
    )
    assert unknown.status_code == 404

    copied = await client.post(
        f"/v1/lists/{source}/members/{first}/copy",
        json={"target_list_id": target},
        headers=alice.bearer,
    )
    assert copied.status_code == 200, copied.text
    assert copied.json()["member_count"] == 1
    moved = await client.post(
        f"/v1/lists/{source}/members/{second}/move",
        json={"target_list_id": target},
        headers=alice.bearer,
    )
    assert moved.json()["member_count"] == 2
    source_now = (await client.get(f"/v1/lists/{source}", headers=alice.bearer)).json()
    assert source_now["member_count"] == 2  # first and third
    not_member = await client.post(
        f"/v1/lists/{source}/members/{second}/copy",
        json={"target_list_id": target},
        headers=alice.bearer,
    )
    assert not_member.status_code == 404

    members = await client.get(f"/v1/lists/{target}/members", headers=alice.bearer)
    assert sorted(c["id"] for c in members.json()["data"]) == sorted([first, second])
    in_list = await client.get("/v1/contacts", params={"list_id": source}, headers=alice.bearer)
    assert sorted(c["id"] for c in in_list.json()["data"]) == sorted([first, third])

    removed = await client.delete(f"/v1/lists/{source}/members/{third}", headers=alice.bearer)
    assert removed.status_code == 204
    removed_again = await client.delete(f"/v1/lists/{source}/members/{third}", headers=alice.bearer)
    assert removed_again.status_code == 404

    # Deleting a contact takes it out of its lists.
    await client.delete(f"/v1/contacts/{second}", headers=alice.bearer)
    assert (await client.get(f"/v1/lists/{target}", headers=alice.bearer)).json()[
        "member_count"
    ] == 1

    cleared = await client.delete(f"/v1/lists/{target}/members", headers=alice.bearer)
    assert (cleared.json()["removed"], cleared.json()["list"]["member_count"]) == (1, 0)
    assert (await client.get(f"/v1/contacts/{first}", headers=alice.bearer)).status_code == 200
