"""``tidings connectors export --dialect clicksend``: a valid Swagger 2.0 custom connector that
points at the given host, and whose every operation tidings answers as the definition says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from openapi_spec_validator import OpenAPIV2SpecValidator
from typer.testing import CliRunner

from tests.dialects.clicksend.conftest import ClickSend
from tests.dialects.clicksend.test_post import RECIPIENT, return_address, upload
from tests.document_samples import pdf_with_pages, postcard_side
from tidings.cli import app


def export(*args: str) -> Any:
    result = CliRunner().invoke(app, ["connectors", "export", *args])
    return result


def test_the_export_is_valid_swagger_2_pointing_at_the_host(tmp_path: Path) -> None:
    target = tmp_path / "clicksend.swagger.json"
    result = export(
        "--dialect", "clicksend", "--host", "https://sms.example.com:8443", "--file", str(target)
    )
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text())
    OpenAPIV2SpecValidator(document).validate()
    assert (document["host"], document["basePath"], document["schemes"]) == (
        "sms.example.com:8443",
        "/v3",
        ["https"],
    )
    assert document["securityDefinitions"] == {"basic_auth": {"type": "basic"}}
    operations = {
        op["operationId"]
        for path in document["paths"].values()
        for name, op in path.items()
        if not name.startswith("x-")
    }
    assert operations == {
        "sms_send",
        "send_voice",
        "send_mms",
        "send_fax",
        "send_letter",
        "send_postcard",
        "upload_media",
        "sms_campaign_send",
        "create_list",
        "get_contact_lists",
        "delete_list",
        "create_list_contact",
        "view_list_contacts",
        "delete_list_contact",
        "search_contact_list",
        "sms_inbound_automation",
        "delete_sms_inbound_automation",
    }
    trigger = document["paths"]["/ms-flow/automations/sms/inbound"]
    assert trigger["post"]["x-ms-trigger"] == "single"
    [body] = trigger["post"]["parameters"]
    assert body["schema"]["properties"]["action_address"]["x-ms-notification-url"] is True
    assert "201" in trigger["post"]["responses"]

    plain = export("--dialect", "clicksend", "--host", "127.0.0.1:8000")
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.output)["schemes"] == ["https"]


def test_unknown_dialects_and_bad_hosts_are_refused() -> None:
    unknown = export("--dialect", "nope", "--host", "example.com")
    assert unknown.exit_code == 2 and "clicksend" in unknown.output
    bad = export("--dialect", "clicksend", "--host", "ftp://example.com/path")
    assert bad.exit_code == 2


def _without_nulls(value: Any) -> Any:
    # Swagger 2.0 cannot say "nullable"; ClickSend (and tidings) send null for absent values.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


async def test_every_operation_answers_as_the_definition_says(clicksend: ClickSend) -> None:
    result = export("--dialect", "clicksend", "--host", "127.0.0.1")
    document = json.loads(result.output)
    paths = document["paths"]
    http = clicksend.http

    def check(path: str, method: str, response: Any, status: int = 200) -> None:
        assert response.status_code == status, response.text
        schema = {
            **paths[path][method]["responses"][str(status)]["schema"],
            "definitions": document["definitions"],
        }
        jsonschema.Draft4Validator(schema).validate(_without_nulls(response.json()))
        assert response.json()["response_code"] == "SUCCESS"

    created = await http.post("/lists", json={"list_name": "Flow list"})
    check("/lists", "post", created)
    list_id = created.json()["data"]["list_id"]
    check("/lists", "get", await http.get("/lists", params={"page": 1, "limit": 10}))
    contact = await http.post(
        f"/lists/{list_id}/contacts",
        json={"first_name": "Aino", "last_name": "K", "phone_number": "+358401234567"},
    )
    check("/lists/{list_id}/contacts", "post", contact)
    check("/lists/{list_id}/contacts", "get", await http.get(f"/lists/{list_id}/contacts"))
    check(
        "/search/contacts-lists",
        "get",
        await http.get("/search/contacts-lists", params={"q": "Flow"}),
    )
    sent = await http.post(
        "/sms/send",
        json={"messages": [{"body": "From a flow", "list_id": list_id, "source": "flow"}]},
    )
    check("/sms/send", "post", sent)
    assert sent.json()["data"]["queued_count"] == 1
    called = await http.post(
        "/voice/send",
        json={
            "messages": [
                {
                    "body": "A call from a flow",
                    "list_id": list_id,
                    "voice": "female",
                    "lang": "en-us",
                    "require_input": 1,
                    "source": "flow",
                }
            ]
        },
    )
    check("/voice/send", "post", called)
    assert called.json()["data"]["queued_count"] == 1
    # Fax, letter and postcard as a flow sends them, with the fields the definition names.
    pdf = await upload(clicksend, pdf_with_pages(["From a flow"]))
    faxed = await http.post(
        "/fax/send",
        json={"file_url": pdf, "messages": [{"to": "+61261111111", "source": "flow"}]},
    )
    check("/fax/send", "post", faxed)
    assert faxed.json()["data"]["queued_count"] == 1
    back = await return_address(clicksend)
    posted = await http.post(
        "/post/letters/send",
        json={
            "file_url": pdf,
            "template_used": 0,
            "colour": 1,
            "duplex": 0,
            "priority_post": 0,
            "source": "MSPowerAutomate",
            "recipients": [{**RECIPIENT, "return_address_id": back}],
        },
    )
    check("/post/letters/send", "post", posted)
    assert posted.json()["data"]["queued_count"] == 1
    sides = [await upload(clicksend, postcard_side(side)) for side in ("Front", "Back")]
    card = await http.post(
        "/post/postcards/send", json={"file_urls": sides, "recipients": [RECIPIENT]}
    )
    check("/post/postcards/send", "post", card)
    assert card.json()["data"]["queued_count"] == 1
    campaign = await http.post(
        "/sms-campaigns/send",
        json={"list_id": list_id, "name": "Flow campaign", "body": "From a flow", "schedule": 0},
    )
    check("/sms-campaigns/send", "post", campaign)
    assert campaign.json()["data"]["list_id"] == list_id
    contact_id = contact.json()["data"]["contact_id"]
    check(
        "/lists/{list_id}/contacts/{contact_id}",
        "delete",
        await http.delete(f"/lists/{list_id}/contacts/{contact_id}"),
    )
    check("/lists/{list_id}", "delete", await http.delete(f"/lists/{list_id}"))

    # The trigger as Power Automate calls it: the body's defaults, its own callback URL.
    trigger = paths["/ms-flow/automations/sms/inbound"]["post"]
    properties = trigger["parameters"][0]["schema"]["properties"]
    body = {name: spec["default"] for name, spec in properties.items() if "default" in spec}
    body["action_address"] = "https://flow.example.com/callback"
    subscribed = await http.post("/ms-flow/automations/sms/inbound", json=body)
    check("/ms-flow/automations/sms/inbound", "post", subscribed, status=201)
    location = subscribed.headers["location"]
    rule_id = subscribed.json()["data"]["inbound_rule_id"]
    assert location.endswith(f"/v3/ms-flow/automations/sms/inbound/{rule_id}")
    check(
        "/ms-flow/automations/sms/inbound/{inbound_rule_id}",
        "delete",
        await http.delete(location),
    )
