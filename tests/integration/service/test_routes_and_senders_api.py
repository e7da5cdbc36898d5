"""/v1/routes (operators only) and /v1/senders, and how a message picks its route."""

from __future__ import annotations

import httpx

from tests.integration.service.conftest import MakeTenant
from tidings.core import routing
from tidings.store.engine import Database
from tidings.store.messages import find_message
from tidings.store.routes import find_route_by_name

SMPP = {
    "host": "smsc.example.net",
    "port": 2775,
    "system_id": "acme",
    "password": "s3cret",
    "bind_mode": "tx_rx",
    "binds": 2,
    "window": 50,
    "max_tps": 100,
    "source_ton": 5,
    "source_npi": 0,
    "concat_method": "sar",
    "default_encoding": "ucs2",
    "request_receipts": False,
}
ROUTE = {"name": "carrier-a", "kind": "smpp", "settings": SMPP}


async def test_the_simulator_route_exists_and_is_the_default(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    admin = await make_tenant("Operator", operator=True)
    [route] = (await client.get("/v1/routes", headers=admin.bearer)).json()
    settings = route["settings"]
    assert (route["name"], route["kind"]) == ("simulator", "smpp")
    assert (settings["host"], settings["port"]) == ("127.0.0.1", 2775)
    assert (route["is_default"], route["default_for"], route["channels"]) == (
        True,
        ["sms"],
        ["sms"],
    )


async def test_an_operator_manages_routes(
    client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    admin = await make_tenant("Operator", operator=True)
    created = await client.post("/v1/routes", json=ROUTE, headers=admin.bearer)
    assert created.status_code == 201
    body = created.json()
    assert "password" not in body["settings"]
    assert "s3cret" not in created.text
    for key, value in SMPP.items():
        if key != "password":
            assert body["settings"][key] == value, key
    assert body["is_default"] is False
    assert (body["kind"], body["channels"], body["default_for"]) == ("smpp", ["sms"], [])

    duplicate = await client.post("/v1/routes", json=ROUTE, headers=admin.bearer)
    assert duplicate.status_code == 409

    patched = await client.patch(
        "/v1/routes/carrier-a",
        json={"settings": {"window": 5, "max_tps": None}},
        headers=admin.bearer,
    )
    settings = patched.json()["settings"]
    assert (settings["window"], settings["max_tps"], settings["binds"]) == (5, None, 2)
    async with database.read() as connection:
        stored = await find_route_by_name(connection, "carrier-a")
    assert stored is not None and stored.secrets == {"password": "s3cret"}  # kept unchanged

    made_default = await client.patch(
        "/v1/routes/carrier-a", json={"is_default": True}, headers=admin.bearer
    )
    assert made_default.json()["is_default"] is True
    simulator = (await client.get("/v1/routes/simulator", headers=admin.bearer)).json()
    assert simulator["is_default"] is False

    refused = await client.delete("/v1/routes/carrier-a", headers=admin.bearer)
    assert refused.status_code == 409  # the default route cannot go
    await client.patch("/v1/routes/simulator", json={"is_default": True}, headers=admin.bearer)
    assert (await client.delete("/v1/routes/carrier-a", headers=admin.bearer)).status_code == 204
    assert (await client.get("/v1/routes/carrier-a", headers=admin.bearer)).status_code == 404


async def test_route_settings_are_validated(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    admin = await make_tenant("Operator", operator=True)
    for bad in (
        {"port": 0},
        {"system_id": "x" * 16},
        {"password": "123456789"},
        {"bind_mode": "rx"},
        {"concat_method": "udh7"},
        {"destination_ton": 9},
        {"unheard_of": 1},
    ):
        route = {**ROUTE, "settings": {**SMPP, **bad}}
        response = await client.post("/v1/routes", json=route, headers=admin.bearer)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["path"] == "settings." + next(iter(bad))
    for bad, path in (
        ({"name": "no spaces"}, "name"),
        ({"kind": "pigeon"}, "kind"),
        ({"channels": ["mms"]}, "channels"),
        ({"settings": {}}, "settings.host"),
    ):
        response = await client.post("/v1/routes", json={**ROUTE, **bad}, headers=admin.bearer)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["path"] == path, bad


async def test_a_sub_account_may_not_manage_routes(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    parent = await make_tenant("Parent")
    child = await make_tenant("Child", parent=parent)
    assert (await client.get("/v1/routes", headers=child.bearer)).status_code == 403
    assert (await client.post("/v1/routes", json=ROUTE, headers=child.bearer)).status_code == 403


async def test_senders_are_registered_listed_rerouted_and_removed(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    admin = await make_tenant("Operator", operator=True)
    await client.post("/v1/routes", json=ROUTE, headers=admin.bearer)
    tenant = await make_tenant("Shop")
    # The operator assigns routes; it acts for the tenant with account_id.
    for_tenant = {"account_id": tenant.account.id}
    alpha = await client.post("/v1/senders", json={"address": "Shop"}, headers=tenant.bearer)
    assert alpha.status_code == 201
    assert (alpha.json()["kind"], alpha.json()["route"]) == ("alpha", None)
    long_code = await client.post(
        "/v1/senders",
        json={"address": "040 1234567", "route": "carrier-a"},
        params=for_tenant,
        headers=admin.bearer,
    )
    assert long_code.json()["address"] == "+358401234567"
    assert long_code.json()["account_id"] == tenant.account.id
    assert (long_code.json()["kind"], long_code.json()["route"]) == ("long", "carrier-a")
    short = await client.post("/v1/senders", json={"address": "12345"}, headers=tenant.bearer)
    assert short.json()["kind"] == "short"

    again = await client.post("/v1/senders", json={"address": "Shop"}, headers=tenant.bearer)
    assert again.status_code == 409
    unknown_route = await client.post(
        "/v1/senders",
        json={"address": "Other", "route": "nope"},
        params=for_tenant,
        headers=admin.bearer,
    )
    assert unknown_route.status_code == 422
    assert unknown_route.json()["errors"][0]["path"] == "route"
    bad = await client.post("/v1/senders", json={"address": "Much too long"}, headers=tenant.bearer)
    assert bad.status_code == 422

    listed = (await client.get("/v1/senders", headers=tenant.bearer)).json()
    assert sorted(s["address"] for s in listed) == ["+358401234567", "12345", "Shop"]

    sender_id = alpha.json()["id"]
    moved = await client.patch(
        f"/v1/senders/{sender_id}",
        json={"route": "carrier-a"},
        params=for_tenant,
        headers=admin.bearer,
    )
    assert moved.json()["route"] == "carrier-a"
    # A route that senders use cannot be removed.
    assert (await client.delete("/v1/routes/carrier-a", headers=admin.bearer)).status_code == 409
    assert (
        await client.delete(f"/v1/senders/{sender_id}", headers=tenant.bearer)
    ).status_code == 204
    assert (await client.get(f"/v1/senders/{sender_id}", headers=tenant.bearer)).status_code == 404


async def test_a_message_takes_its_senders_route_or_the_default(
    client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    admin = await make_tenant("Operator", operator=True)
    carrier = (await client.post("/v1/routes", json=ROUTE, headers=admin.bearer)).json()
    simulator = (await client.get("/v1/routes/simulator", headers=admin.bearer)).json()
    tenant = await make_tenant("Shop")
    await client.post(
        "/v1/senders",
        json={"address": "Shop", "route": "carrier-a"},
        params={"account_id": tenant.account.id},
        headers=admin.bearer,
    )

    async def route_of(sender: str) -> int | None:
        response = await client.post(
            "/v1/messages",
            json={"to": "+358401234567", "from": sender, "body": "hi"},
            headers=tenant.bearer,
        )
        message_id = response.json()["messages"][0]["id"]
        async with database.read() as connection:
            message = await find_message(connection, tenant.account.id, message_id)
        assert message is not None
        return message.route_id

    assert await route_of("Shop") == carrier["id"]
    assert await route_of("Anything") == simulator["id"]


async def test_an_account_restricted_to_registered_senders(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant("Strict", restrict_to_registered_senders=True)
    await client.post("/v1/senders", json={"address": "Strict"}, headers=tenant.bearer)
    message = {"to": "+358401234567", "body": "hi"}
    refused = await client.post(
        "/v1/messages", json={**message, "from": "Spoofed"}, headers=tenant.bearer
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "from"
    allowed = await client.post(
        "/v1/messages", json={**message, "from": "Strict"}, headers=tenant.bearer
    )
    assert allowed.status_code == 202


async def test_inbound_routing_finds_the_owner_of_a_number(
    client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant("Shop")
    await client.post("/v1/senders", json={"address": "+358401234567"}, headers=tenant.bearer)
    await client.post("/v1/senders", json={"address": "Shop"}, headers=tenant.bearer)
    owner = await routing.owner_of_number(database, "+358401234567")
    assert owner is not None and owner.account_id == tenant.account.id
    assert await routing.owner_of_number(database, "Shop") is None  # ids cannot receive
    assert await routing.owner_of_number(database, "+358401234568") is None


async def test_an_account_has_one_default_sender(
    client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    other = await make_tenant("Other")
    assert await routing.default_sender(database, tenant.account) is None

    async def add(address: str, **fields: object) -> dict[str, object]:
        response = await client.post(
            "/v1/senders", json={"address": address, **fields}, headers=tenant.bearer
        )
        assert response.status_code == 201, response.text
        answer: dict[str, object] = response.json()
        return answer

    shop = await add("Shop")
    assert shop["default"] is False
    # Without a chosen default, the first long code registered is the default.
    first = await add("+358401111111")
    await add("+358402222222")
    found = await routing.default_sender(database, tenant.account)
    assert found is not None and found.address == first["address"]

    chosen = await add("Brand", default=True)
    assert chosen["default"] is True
    found = await routing.default_sender(database, tenant.account)
    assert found is not None and found.address == "Brand"
    # Another sender made the default takes over; the one before is no longer the default.
    patched = await client.patch(
        f"/v1/senders/{shop['id']}", json={"default": True}, headers=tenant.bearer
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["default"], patched.json()["route"]) == (True, None)
    listed = (await client.get("/v1/senders", headers=tenant.bearer)).json()
    assert [s["address"] for s in listed if s["default"]] == ["Shop"]
    # Another account's choice is its own.
    assert await routing.default_sender(database, other.account) is None
    foreign = await client.patch(
        f"/v1/senders/{shop['id']}", json={"default": True}, headers=other.bearer
    )
    assert foreign.status_code == 404
