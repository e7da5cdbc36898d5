"""Account A can neither read nor change account B's contacts or lists, through any endpoint.

``CONTACT_ENDPOINTS`` is part of the service's list of isolation cases, which must cover every
/v1 operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant, Tenant

VICTIM_PHONE = "+358401234567"
# (method, path, body): a dict is sent as JSON, a str as a text/csv body.
CONTACT_ENDPOINTS: list[tuple[str, str, dict[str, object] | str | None]] = [
    ("POST", "/v1/contacts", {"phone": VICTIM_PHONE}),
    ("GET", "/v1/contacts", None),
    ("POST", "/v1/contacts/import", f"phone\n{VICTIM_PHONE}\n"),
    ("GET", "/v1/contacts/export", None),
    ("GET", "/v1/contacts/{contact_id}", None),
    ("PATCH", "/v1/contacts/{contact_id}", {"first_name": "Mallory"}),
    ("POST", "/v1/contacts/{contact_id}/clear-errors", None),
    ("DELETE", "/v1/contacts/{contact_id}", None),
    ("POST", "/v1/lists", {"name": "Victims"}),
    ("GET", "/v1/lists", None),
    ("GET", "/v1/lists/{list_id}", None),
    ("PATCH", "/v1/lists/{list_id}", {"name": "Taken"}),
    ("DELETE", "/v1/lists/{list_id}", None),
    ("GET", "/v1/lists/{list_id}/members", None),
    ("POST", "/v1/lists/{list_id}/members", {"contact_ids": ["{contact_id}"]}),
    ("DELETE", "/v1/lists/{list_id}/members", None),
    ("DELETE", "/v1/lists/{list_id}/members/{contact_id}", None),
    ("POST", "/v1/lists/{list_id}/members/{contact_id}/copy", {"target_list_id": "{other}"}),
    ("POST", "/v1/lists/{list_id}/members/{contact_id}/move", {"target_list_id": "{other}"}),
]


@dataclass(frozen=True)
class Victim:
    tenant: Tenant
    contact_id: str
    list_id: str
    other_list_id: str


async def _victim(client: httpx.AsyncClient, make_tenant: MakeTenant) -> Victim:
    alice = await make_tenant("Alice")
    contact = await client.post(
        "/v1/contacts", json={"phone": VICTIM_PHONE, "first_name": "Alice"}, headers=alice.bearer
    )
    members = await client.post("/v1/lists", json={"name": "Members"}, headers=alice.bearer)
    other = await client.post("/v1/lists", json={"name": "Other"}, headers=alice.bearer)
    victim = Victim(alice, contact.json()["id"], members.json()["id"], other.json()["id"])
    await client.post(
        f"/v1/lists/{victim.list_id}/members",
        json={"contact_ids": [victim.contact_id]},
        headers=alice.bearer,
    )
    return victim


def _fill(value: object, victim: Victim) -> object:
    if isinstance(value, str):
        return value.format(
            contact_id=victim.contact_id, list_id=victim.list_id, other=victim.other_list_id
        )
    if isinstance(value, list):
        return [_fill(item, victim) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, victim) for key, item in value.items()}
    return value


@pytest.mark.parametrize("endpoint", CONTACT_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_account_cannot_read_or_change_contacts_or_lists(
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    endpoint: tuple[str, str, dict[str, object] | str | None],
) -> None:
    method, template, body = endpoint
    victim = await _victim(client, make_tenant)
    intruder_root = await make_tenant("Mallory Corp")
    intruder = await make_tenant("Mallory", parent=intruder_root)
    path = str(_fill(template, victim))
    filled = _fill(body, victim)
    extra: dict[str, object] = (
        {"content": filled, "headers": {**intruder.bearer, "Content-Type": "text/csv"}}
        if isinstance(filled, str)
        else {"json": filled, "headers": intruder.bearer}
    )

    as_victim = await client.request(
        method,
        path,
        params={"account_id": victim.tenant.account.id},
        **extra,  # type: ignore[arg-type]
    )
    assert as_victim.status_code in (403, 404), as_victim.text

    own = await client.request(method, path, **extra)  # type: ignore[arg-type]
    if "{" in template:
        assert own.status_code == 404, own.text
    else:
        assert own.status_code < 300, own.text
        for secret in (victim.tenant.account.id, victim.contact_id, victim.list_id, "Alice"):
            assert secret not in own.text

    owner = victim.tenant.bearer
    contact = await client.get(f"/v1/contacts/{victim.contact_id}", headers=owner)
    assert contact.json()["first_name"] == "Alice"
    listed = await client.get("/v1/lists", headers=owner)
    assert [(entry["name"], entry["member_count"]) for entry in listed.json()["data"]] == [
        ("Members", 1),
        ("Other", 0),
    ]
    everyone = await client.get("/v1/contacts", headers=owner)
    assert [c["id"] for c in everyone.json()["data"]] == [victim.contact_id]
