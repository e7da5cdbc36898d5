"""Every operation of TrueDialog's published connector, called on a running tidings, answers
with what the connector's own response schema describes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from openapi_spec_validator import validate

from tests.dialects.truedialog.conftest import HANDSET, SWAGGER, TrueDialog
from tests.integration.events.sink import Sink
from tidings.api.dialects.truedialog import export_definition

DEFINITION: dict[str, Any] = json.loads(SWAGGER.read_text("utf-8"))


def json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A Swagger 2.0 schema as JSON Schema, with the document's definitions for its $refs.

    Swagger 2.0 cannot say "nullable" and TrueDialog (.NET) writes absent values as null, so a
    typed value may also be null. The connector's boolean enums list the *strings* "true" and
    "false", which a JSON boolean never equals; the type alone is checked there.
    """

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: convert(v) for k, v in node.items() if not k.startswith("x-")}
        if out.get("type") == "boolean":
            out.pop("enum", None)
        if isinstance(out.get("type"), str) and out["type"] != "null":
            out["type"] = [out["type"], "null"]
        return out

    converted: dict[str, Any] = convert(copy.deepcopy(schema))
    converted["definitions"] = convert(copy.deepcopy(DEFINITION["definitions"]))
    return converted


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    found = {}
    for path, item in DEFINITION["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


async def test_every_connector_operation_answers_with_its_declared_schema(
    truedialog: TrueDialog, sink: Sink
) -> None:
    account = truedialog.account_id
    contact = await truedialog.http.post(
        f"/api/v2.1/account/{account}/contact", json={"PhoneNumber": "+358401111111"}
    )
    assert contact.status_code == 201, contact.text
    contact_id = contact.json()["id"]
    callback_url = f"{sink.url}/flow"
    created_callbacks: list[str] = []
    requests: dict[str, tuple[dict[str, str], Any]] = {
        "Incoming_SMS_Received": (
            {"AccountId": str(account)},
            {"CallbackType": 11, "URL": callback_url, "Active": True},
        ),
        "Keyword_received": (
            {"accountId": str(account)},
            {"CallbackType": 1, "URL": callback_url, "Active": True},
        ),
        "Stop_received": (
            {"accountId": str(account)},
            {"CallbackType": 6, "URL": callback_url, "Active": True},
        ),
        "Delivery_Notice_received": (
            {"accountId": str(account)},
            {"CallbackType": 12, "URL": callback_url, "Active": True},
        ),
        "Invalid_Targets": (
            {"accountId": str(account)},
            {"CallbackType": 13, "URL": callback_url, "Active": True},
        ),
        "Account_Get_Info": ({"accountId": str(account)}, None),
        "Contact_Search": ({"accountId": str(account), "phone": "+358401111111"}, None),
        "Contact_Create": (
            {"accountId": str(account)},
            {"PhoneNumber": "+358402222222", "Email": "a@example.com", "FirstName": "Aino"},
        ),
        "Contact_Update": (
            {"accountId": str(account), "contactid": str(contact_id)},
            {"LastName": "Virtanen"},
        ),
        "Campaign_Push": (
            {"accountId": str(account)},
            {
                # The connector's default, which users are told to leave.
                "Channels": ["22"],
                "Targets": [HANDSET],
                "CampaignId": 0,
                "Message": "Hello from a flow",
                "Execute": True,
            },
        ),
        "User_Get_Self_Info": ({}, None),
    }
    ops = operations()
    # The delete runs last, on a callback created above.
    assert set(ops) == {*requests, "Callback_Delete"}, "an operation has no test request"
    for operation_id, (path_values, body) in requests.items():
        method, path, operation = ops[operation_id]
        response = await call(truedialog.http, method, path, path_values, body)
        check(operation, response)
        if "x-ms-trigger" in operation:
            location = response.headers["location"]
            assert location.endswith(
                f"/api/v2.1/account/{account}/callback/{response.json()['id']}"
            )
            created_callbacks.append(location)
    method, path, operation = ops["Callback_Delete"]
    for location in created_callbacks:
        callback_id = location.rsplit("/", 1)[1]
        response = await call(
            truedialog.http,
            method,
            path,
            {"accountId": str(account), "callbackId": callback_id},
            None,
        )
        check(operation, response)
    listed = await truedialog.http.get(f"/api/v2.1/account/{account}/callback")
    assert listed.json() == []


async def call(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    values: dict[str, str],
    body: Any,
) -> httpx.Response:
    url = "/api/v2.1" + path.format(**values)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    content = None if body is None else json.dumps(body)
    return await http.request(method, url, content=content, headers=headers)


def check(operation: dict[str, Any], response: httpx.Response) -> None:
    declared = operation["responses"]
    success = next(code for code in declared if code.startswith("2"))
    assert str(response.status_code) == success, (operation["operationId"], response.text)
    schema = declared[success].get("schema")
    if schema is not None:
        jsonschema.validate(response.json(), json_schema(schema))


def test_the_exported_connector_is_valid_swagger_2_pointing_at_the_host() -> None:
    exported = export_definition("https://sms.example.com:8443")
    validate(exported)
    assert (exported["host"], exported["schemes"], exported["basePath"]) == (
        "sms.example.com:8443",
        ["https"],
        "/api/v2.1",
    )
    # Everything a flow depends on stays as TrueDialog published it.
    assert exported["paths"] == DEFINITION["paths"]
    assert export_definition("127.0.0.1:8000")["host"] == "127.0.0.1:8000"


def test_the_connector_has_no_media_upload_and_the_docs_say_so() -> None:
    # TrueDialog's connector knows media only as Campaign_Push's MediaId; the upload tidings
    # serves is not invented into the exported definition, and the dialect's page says so.
    operations = [
        (method, path)
        for path, methods in export_definition("127.0.0.1:8000")["paths"].items()
        for method in methods
        if method in ("get", "post", "put", "delete")
    ]
    assert not [op for op in operations if "media" in op[1].lower()]
    push = DEFINITION["paths"]["/account/{accountId}/action-pushcampaign"]["post"]
    body = push["parameters"][-1]["schema"]
    assert "MediaId" in json.dumps(DEFINITION["definitions"][body["$ref"].rsplit("/", 1)[1]])
    page = " ".join((Path(__file__).parents[3] / "docs" / "dialects.md").read_text().split())
    assert "POST /account/{accountId}/media" in page
    assert "published connector has no media upload operation" in page
