"""Services are managed through the native API and are what SmartDialog clients pick from."""

from __future__ import annotations

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed


async def test_a_service_made_with_v1_is_offered_to_smartdialog_clients(signed: Signed) -> None:
    native = signed.running.http
    created = await native.post(
        "/v1/services",
        json={"name": "Support", "type": "TwoWay", "senders": [LONG_CODE], "allow_reply": True},
    )
    assert created.status_code == 201, created.text
    service = created.json()
    assert (service["type"], service["senders"], service["list_id"]) == (
        "TwoWay",
        [LONG_CODE],
        None,
    )
    offered = await signed.http.get(
        f"{BASE}/services/{signed.account.id}",
        headers={**signed.auth, "ServiceType": "TwoWay", "AllowReplyMessage": "true"},
    )
    assert offered.status_code == 200, offered.text
    assert offered.json() == [
        {"id": signed.two_way.id, "name": "Chat"},
        {"id": service["id"], "name": "Support"},
    ]
    one_way = await signed.http.get(
        f"{BASE}/services/{signed.account.id}", headers={**signed.auth, "ServiceType": "OneWay"}
    )
    assert one_way.json() == [{"id": signed.one_way.id, "name": "Notices"}]

    group = await native.post("/v1/services", json={"name": "Club", "type": "Group"})
    assert group.status_code == 201, group.text
    assert group.json()["list_id"] is not None
    listed = await native.get("/v1/services")
    assert [s["name"] for s in listed.json()["services"]] == [
        "Notices",
        "Chat",
        "Members",
        "Support",
        "Club",
    ]
    duplicate = await native.post("/v1/services", json={"name": "Club", "type": "OneWay"})
    assert duplicate.status_code == 409
    bad = await native.post("/v1/services", json={"name": "X", "type": "Fax"})
    assert bad.status_code == 422

    assert (await native.delete(f"/v1/services/{service['id']}")).status_code == 204
    assert (await native.get(f"/v1/services/{service['id']}")).status_code == 404
    gone = await signed.http.post(
        f"{BASE}/service/{service['id']}/pipelines/actions",
        headers={**signed.auth, "Customer": signed.account.id},
        json={
            "name": "x",
            "actionType": "HttpRequest",
            "description": "x",
            "options": {"endpointUrl": "http://127.0.0.1:9/x", "httpVerb": "POST"},
        },
    )
    assert gone.status_code == 404


async def test_a_service_sends_only_from_its_senders(signed: Signed) -> None:
    answer = await signed.http.post(
        f"{BASE}/messages",
        headers={**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.two_way.id},
        json={
            "Sender": "+358401000000",
            "Content": "Hei",
            "Recipients": [{"Address": "+358401112223"}],
        },
    )
    assert answer.status_code == 400, answer.text
    assert "Sender" in answer.json()["errors"]
