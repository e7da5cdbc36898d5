"""Every operation of the SmartDialog connector definition, sent as Power Automate would send it
to a running tidings, and each answer checked against the definition's response schema."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import jsonschema

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed
from tidings.api.dialects.smartdialog.export import _definition

HANDSET = "+358401112223"
TRIGGER_BODY = {
    "name": "PowerAutomate (Auto Created Webhook)",
    "actionType": "HttpRequest",
    "description": "PowerAutomate auto-created webhook. Please don´t modify. Will be removed by "
    "PowerAutomate , when the Flow/Logic App is disabled or removed",
    "options": {"endpointUrl": "http://127.0.0.1:9/callback", "httpVerb": "POST"},
}
# Path values and ThreadIds that name what an earlier call made, filled in when it is made.
SENT, THREAD = "<the SendMessage MessageId>", "<the thread of that message>"
# The WhatsApp Template drop-down's value: value-path "id" of GetCustomerWhatsAppTemplates.
TEMPLATE = "<the template picked from the drop-down>"


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    found = {}
    for path, item in _definition()["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "delete", "patch"}:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Swagger 2.0 schema objects are JSON Schema draft 4 plus ``x-*`` keys; drop those."""
    if isinstance(schema, dict):
        return {k: json_schema(v) for k, v in schema.items() if not k.startswith("x-")}
    if isinstance(schema, list):
        return [json_schema(v) for v in schema]  # type: ignore[return-value]
    return schema


def operation_value_path(operation: dict[str, Any]) -> str:
    """The property of GetCustomerWhatsAppTemplates' items that TemplateName's drop-down sends."""
    [body] = [p for p in operation["parameters"] if p["in"] == "body"]
    dynamic = body["schema"]["properties"]["TemplateName"]["x-ms-dynamic-values"]
    assert dynamic["operationId"] == "GetCustomerWhatsAppTemplates"
    value_path: str = dynamic["value-path"]
    return value_path


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    assert "{" not in path, path
    return path


async def test_every_operation_answers_in_its_schema(signed: Signed) -> None:
    customer = signed.account.id
    send_headers = {"Customer-Id": customer, "Service-Id": signed.one_way.id}
    group = {"Customer": customer, "Group Service": signed.group.id}
    contact = {
        "active": True,
        "phone": "0401234567",
        "email": "anna@example.com",
        "firstName": "Anna",
        "lastName": "Virtanen",
        "gender": "Female",
        "birthYear": 1990,
        "streetAddress": "Mannerheimintie 1",
        "zipCode": "00100",
        "city": "Helsinki",
        "countryCode": "FI",
        "customContactProperties": [{"name": "tier", "value": "gold"}],
        "phoneNumberRegions": ["FI"],
    }
    message = {
        "Sender": LONG_CODE,
        "Content": "Hei {name}",
        "Protocol": "SMS",
        "Recipients": [{"Address": HANDSET, "Personalization": {"name": "Anna"}}],
        "CustomerData": "order-1",
        "AdMessage": False,
        "RequestId": "req-1",
    }
    # (operationId, path values, headers, query, body), in an order where each finds what it needs.
    calls: list[tuple[str, dict[str, str], dict[str, str], dict[str, str], Any]] = [
        ("GetUserCustomers", {}, {}, {}, None),
        ("GetCustomerServices", {"Customer-Id": customer}, {"ServiceType": "OneWay"}, {}, None),
        ("SendMessage", {}, send_headers, {}, message),
        (
            "SendReplyMessage",
            {"ParentMessageId": SENT},
            send_headers,
            {},
            {**message, "Content": "Jatkoa edelliseen", "RequestId": "req-2"},
        ),
        (
            "SendDiscussionReplyMessage",
            {},
            {"CustomerId": customer},
            {},
            {"ThreadId": THREAD, "Content": "Kiitos", "CustomerData": "order-1"},
        ),
        ("GetWhatsappTemplateCategories", {}, {}, {}, None),
        ("GetCustomerWhatsappIdentities", {"Customer-Id": customer}, {}, {}, None),
        (
            "CreateWhatsappTemplate",
            {"Customer-Id": customer, "IdentityNumber": LONG_CODE},
            {},
            {},
            {
                "DisplayName": "order_ready",
                "RawContent": "Your order {{1}} is ready",
                "Category": "Utility",
                "Language": "en",
                "Buttons": [{"Type": "Url", "Label": "Track", "Data": "https://example.com"}],
            },
        ),
        ("GetCustomerWhatsAppTemplates", {"Customer-Id": customer}, {}, {}, None),
        (
            "SendWhatsappTemplateMessage",
            {},
            send_headers,
            {},
            {
                "TemplateName": TEMPLATE,
                "Recipients": [{"Address": HANDSET}],
                "BodyParameters": ["A-17"],
                "UseSmsFallback": True,
            },
        ),
        ("WhatsAppOptIn", {"Sender": LONG_CODE, "Recipient": HANDSET}, {}, {}, None),
        ("WhatsAppOptOut", {"Sender": LONG_CODE, "Recipient": HANDSET}, {}, {}, None),
        ("GetPhoneNumberRegions", {}, {}, {}, None),
        ("CreateGroupContact", group, {}, {}, contact),
        ("GetGroupContact", {**group, "Phone": "+358401234567"}, {}, {"Region": "FI"}, None),
        (
            "UpdateGroupContact",
            {**group, "Phone": "+358401234567"},
            {},
            {},
            {"city": "Espoo", "gender": "Other"},
        ),
        ("DeleteGroupContact", {**group, "Phone": "+358401234567"}, {}, {}, None),
        ("DeleteAllGroupContacts", group, {}, {}, None),
        ("NewMessage", {"Service": signed.two_way.id}, {"Customer": customer}, {}, TRIGGER_BODY),
        ("DeleteTrigger", {}, {}, {}, None),  # path from NewMessage's Location
    ]
    defined = operations()
    assert {call[0] for call in calls} == set(defined)
    location = None
    made: dict[str, str] = {}
    for operation_id, values, headers, query, body in calls:
        method, path, operation = defined[operation_id]
        values = {k: made.get(v, v) for k, v in values.items()}
        if isinstance(body, dict) and body.get("ThreadId") in made:
            body = {**body, "ThreadId": made[body["ThreadId"]]}
        if isinstance(body, dict) and body.get("TemplateName") in made:
            body = {**body, "TemplateName": made[body["TemplateName"]]}
        if operation_id == "DeleteTrigger":
            assert location is not None
            url = location
        else:
            url = BASE + fill(path, values)
        response = await signed.http.request(
            method,
            url,
            headers={**signed.auth, **headers},
            params=query,
            json=body,
        )
        [(status, answer)] = operation["responses"].items()
        assert response.status_code == int(status), (operation_id, response.text)
        if "schema" in answer:
            jsonschema.validate(response.json(), json_schema(answer["schema"]))
        else:
            assert response.content == b"", operation_id
        if operation_id == "SendMessage":
            made[SENT] = response.json()["MessageId"]
        if operation_id == "SendReplyMessage":
            # The reply continues the conversation of the message it answers.
            assert response.json()["Recipients"][0]["Address"] == HANDSET
            threads = await signed.running.http.get("/v1/threads")
            [thread] = threads.json()["data"]
            made[THREAD] = thread["id"]
        if operation_id == "SendDiscussionReplyMessage":
            assert response.json()["ThreadId"] == made[THREAD]
        if operation_id == "NewMessage":
            location = response.headers["location"]
            assert location.startswith(str(signed.http.base_url).rstrip("/") + BASE + "/pipelines/")
        if operation_id == "GetGroupContact":
            assert response.json()["customContactProperties"] == [{"name": "tier", "value": "gold"}]
            assert response.json()["gender"] == "Female"
        if operation_id == "GetCustomerWhatsAppTemplates":
            [template] = response.json()
            assert template["displayName"] == "order_ready"
            # Power Automate puts the drop-down's value path, the id, in TemplateName.
            value_path = operation_value_path(defined["SendWhatsappTemplateMessage"][2])
            made[TEMPLATE] = template[value_path]
    # What the calls changed is there: the group is empty again, the SMS fallback was stored.
    gone = await signed.http.get(
        BASE
        + fill(
            "/groupcontact/{Customer}/{Group Service}/{Phone}", {**group, "Phone": "+358401234567"}
        ),
        headers=signed.auth,
    )
    assert gone.status_code == 404
    listed = await signed.running.http.get("/v1/messages")
    bodies = sorted(m["body"] for m in listed.json()["data"])
    assert bodies == ["Hei Anna", "Jatkoa edelliseen", "Kiitos", "Your order A-17 is ready"]
