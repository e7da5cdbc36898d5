"""Bad input, in SmartDialog's error shape (ASP.NET problem details); nothing crosses accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed, make_signed
from tests.integration.dispatch.conftest import Running
from tidings.core import accounts, templates

HANDSET = "+358401112223"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://tools.ietf.org/html/")
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
async def other(running: Running) -> AsyncIterator[Signed]:
    """Another root account, signed in with its own key, with services of its own."""
    account = await accounts.create_account(running.service.database, "Rival", region="FI")
    tenant = await make_signed(running, account)
    try:
        yield tenant
    finally:
        await tenant.http.aclose()


def send_headers(signed: Signed) -> dict[str, str]:
    return {**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.one_way.id}


MESSAGE = {"Sender": LONG_CODE, "Content": "Hei", "Recipients": [{"Address": HANDSET}]}


async def test_missing_fields_and_wrong_types(signed: Signed) -> None:
    missing = await signed.http.post(
        f"{BASE}/messages", headers=send_headers(signed), json={"Sender": LONG_CODE}
    )
    assert set(problem(missing, 400)["errors"]) >= {"Content", "Recipients"}
    no_header = await signed.http.post(
        f"{BASE}/messages", headers={**signed.auth, "Customer-Id": signed.account.id}, json=MESSAGE
    )
    assert "Service-Id" in problem(no_header, 400)["errors"]
    wrong = await signed.http.post(
        f"{BASE}/messages",
        headers=send_headers(signed),
        json={**MESSAGE, "Recipients": HANDSET, "AdMessage": "sometimes"},
    )
    assert set(problem(wrong, 400)["errors"]) >= {"Recipients", "AdMessage"}
    protocol = await signed.http.post(
        f"{BASE}/messages", headers=send_headers(signed), json={**MESSAGE, "Protocol": "MMS"}
    )
    assert "Protocol" in problem(protocol, 400)["errors"]
    bad_number = await signed.http.post(
        f"{BASE}/messages",
        headers=send_headers(signed),
        json={**MESSAGE, "Recipients": [{"Address": "not a number"}]},
    )
    assert "Recipients[0].Address" in problem(bad_number, 400)["errors"]
    contact = await signed.http.post(
        f"{BASE}/groupcontact/{signed.account.id}/{signed.group.id}",
        headers=signed.auth,
        json={"phone": "0401234567", "birthYear": "nineteen", "gender": "Robot"},
    )
    assert set(problem(contact, 400)["errors"]) >= {"birthYear", "gender"}
    listed = await signed.running.http.get("/v1/messages")
    assert listed.json()["data"] == []


async def test_unknown_ids(signed: Signed) -> None:
    unknown_service = await signed.http.post(
        f"{BASE}/messages",
        headers={**send_headers(signed), "Service-Id": "01NOSUCHSERVICE"},
        json=MESSAGE,
    )
    problem(unknown_service, 404)
    unknown_customer = await signed.http.get(f"{BASE}/services/01NOSUCH", headers=signed.auth)
    problem(unknown_customer, 404)
    # A OneWay service is not a Group service.
    not_group = await signed.http.delete(
        f"{BASE}/groupcontact/{signed.account.id}/{signed.one_way.id}", headers=signed.auth
    )
    problem(not_group, 404)
    no_contact = await signed.http.get(
        f"{BASE}/groupcontact/{signed.account.id}/{signed.group.id}/0409998877",
        headers=signed.auth,
    )
    problem(no_contact, 404)
    no_template = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={"TemplateName": "nope", "Recipients": [{"Address": HANDSET}], "UseSmsFallback": True},
    )
    problem(no_template, 404)
    no_trigger = await signed.http.delete(
        f"{BASE}/pipelines/{signed.two_way.id}/actions/01NOSUCH", headers=signed.auth
    )
    problem(no_trigger, 404)


async def test_a_template_send_without_sms_fallback_says_why(signed: Signed) -> None:
    await templates.create_template(
        signed.running.service.database,
        signed.account,
        identity=LONG_CODE,
        display_name="hello",
        raw_content="Hello {{1}}",
        category="Utility",
        language="en",
    )
    refused = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": "hello",
            "Recipients": [{"Address": HANDSET}],
            "BodyParameters": ["x"],
        },
    )
    assert "UseSmsFallback" in problem(refused, 400)["detail"]


async def test_bad_credentials(signed: Signed) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        # An API key secret is not an OAuth2 access token.
        {"Authorization": f"Bearer {signed.secret}"},
        {"Authorization": "Basic " + "eDp5"},
    ):
        answer = await signed.http.get(f"{BASE}/customers", headers=headers)
        problem(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_another_account_s_ids_are_not_found(signed: Signed, other: Signed) -> None:
    # Another account's customer id, in every place a customer is named.
    theirs = other.account.id
    for method, path, headers, body in (
        ("GET", f"/services/{theirs}", {}, None),
        ("POST", "/messages", {"Customer-Id": theirs, "Service-Id": other.one_way.id}, MESSAGE),
        ("GET", f"/whatsapp/templates/{theirs}", {}, None),
        ("GET", f"/whatsapp/identities/{theirs}", {}, None),
        ("DELETE", f"/groupcontact/{theirs}/{other.group.id}", {}, None),
        (
            "POST",
            f"/service/{other.two_way.id}/pipelines/actions",
            {"Customer": theirs},
            {
                "name": "x",
                "actionType": "HttpRequest",
                "description": "x",
                "options": {"endpointUrl": "http://127.0.0.1:9/x", "httpVerb": "POST"},
            },
        ),
    ):
        answer = await signed.http.request(
            method, BASE + path, headers={**signed.auth, **headers}, json=body
        )
        problem(answer, 404)
    # Our customer with their service ids.
    for answer in (
        await signed.http.post(
            f"{BASE}/messages",
            headers={**send_headers(signed), "Service-Id": other.one_way.id},
            json=MESSAGE,
        ),
        await signed.http.delete(
            f"{BASE}/groupcontact/{signed.account.id}/{other.group.id}", headers=signed.auth
        ),
    ):
        problem(answer, 404)
    # Their trigger cannot be deleted by us, and stays.
    created = await other.http.post(
        f"{BASE}/service/{other.two_way.id}/pipelines/actions",
        headers={**other.auth, "Customer": theirs},
        json={
            "name": "x",
            "actionType": "HttpRequest",
            "description": "x",
            "options": {"endpointUrl": "http://127.0.0.1:9/x", "httpVerb": "POST"},
        },
    )
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    problem(await signed.http.delete(location, headers=signed.auth), 404)
    assert (await other.http.delete(location, headers=other.auth)).status_code == 204
    # Each sees only itself as a customer.
    mine = (await signed.http.get(f"{BASE}/customers", headers=signed.auth)).json()
    assert [c["customerId"] for c in mine["customerUsers"]] == [signed.account.id]


async def test_a_sub_account_is_a_customer_of_its_parent(signed: Signed) -> None:
    database = signed.running.service.database
    sub = await accounts.create_account(
        database, "Branch", region="FI", parent_id=signed.account.id
    )
    listed = (await signed.http.get(f"{BASE}/customers", headers=signed.auth)).json()
    assert listed["customerUsers"] == [
        {"customerId": signed.account.id, "customerName": "Acme"},
        {"customerId": sub.id, "customerName": "Branch"},
    ]
    services_of_sub = await signed.http.get(
        f"{BASE}/services/{sub.id}", headers={**signed.auth, "ServiceType": "TwoWay"}
    )
    assert services_of_sub.status_code == 200 and services_of_sub.json() == []
    # The parent's services are not the sub-account's.
    answer = await signed.http.post(
        f"{BASE}/messages",
        headers={**signed.auth, "Customer-Id": sub.id, "Service-Id": signed.one_way.id},
        json=MESSAGE,
    )
    problem(answer, 404)
