"""The OpenAPI documents: one for /v1 and one per dialect, each valid OpenAPI 3.1, with the
error bodies each surface really answers, a description for every /v1 operation and an example
for every request; and /docs served from local files."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from tests.integration.service.conftest import MakeTenant
from tidings.api.openapi import ASSETS, SURFACES

DOCUMENTS = {s.name: s for s in SURFACES}
OPERATIONS = ("get", "put", "post", "delete", "patch")


async def _document(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    answer = await client.get(DOCUMENTS[name].url)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in OPERATIONS
    ]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
async def test_each_document_is_valid_openapi_3_1_of_its_surface_only(
    client: httpx.AsyncClient, name: str
) -> None:
    document = await _document(client, name)
    assert document["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(document).validate()
    prefixes = DOCUMENTS[name].prefixes
    assert document["paths"]
    assert all(path.startswith(prefixes) for path in document["paths"]), name
    text = json.dumps(document)
    assert "HTTPValidationError" not in text and '"ValidationError"' not in text


async def test_the_native_document_documents_problem_details(client: httpx.AsyncClient) -> None:
    document = await _document(client, "native")
    assert (await client.get("/openapi.json")).json() == document
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        expected = set()
        if operation.get("security"):
            expected |= {"401", "429"}
        if "{" in path:
            expected.add("404")
        if operation.get("requestBody"):
            expected.add("422")
        if method in ("post", "patch", "delete"):
            expected.add("409")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {"application/problem+json": {"schema": problem}}, (
                    method,
                    path,
                    status,
                )
            for header in response.get("headers", {}).values():
                assert "schema" in header, (method, path, status)
    replayed = document["paths"]["/v1/messages"]["post"]["responses"]["202"]["headers"]
    assert replayed["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}


async def test_every_v1_operation_has_a_description_and_every_request_an_example(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client, "native")
    missing_descriptions, missing_examples = [], []
    for path, method, operation in _operations(document):
        if not path.startswith("/v1"):
            continue
        if len(operation.get("description", "").strip()) < 20:
            missing_descriptions.append(f"{method.upper()} {path}")
        body = operation.get("requestBody")
        if body is None:
            continue
        for media in body["content"].values():
            schema = _resolve(document, media.get("schema", {}))
            if not ("example" in media or "examples" in media or "examples" in schema):
                missing_examples.append(f"{method.upper()} {path}")
    assert missing_descriptions == []
    assert missing_examples == []


async def test_request_examples_are_valid_against_their_schemas(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client, "native")
    schemas = document["components"]["schemas"]
    for path, method, operation in _operations(document):
        body = operation.get("requestBody")
        if body is None or "application/json" not in body["content"]:
            continue
        schema = body["content"]["application/json"]["schema"]
        examples = _resolve(document, schema).get("examples", [])
        resolvable = {**schema, "components": {"schemas": schemas}}
        resolvable = json.loads(
            json.dumps(resolvable).replace("#/components/schemas/", "#/components/schemas/")
        )
        validator = Draft202012Validator(resolvable)
        for example in examples:
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], (method, path, example, errors)


async def test_a_real_error_answer_matches_the_documented_problem(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    document = await _document(client, "native")
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    )
    tenant = await make_tenant()
    invalid = await client.post("/v1/messages", json={"to": []}, headers=tenant.bearer)
    missing = await client.get("/v1/messages/NOPE", headers=tenant.bearer)
    refused = await client.get("/v1/messages")
    for answer, status in ((invalid, 422), (missing, 404), (refused, 401)):
        assert answer.status_code == status
        assert answer.headers["content-type"] == "application/problem+json"
        assert list(validator.iter_errors(answer.json())) == []


async def test_dialect_documents_show_the_providers_error_shapes(
    client: httpx.AsyncClient,
) -> None:
    shapes = {
        "clicksend": "ClickSendError",
        "truedialog": "TrueDialogError",
        "smartdialog": "SmartDialogProblem",
    }
    for name, schema in shapes.items():
        document = await _document(client, name)
        assert schema in document["components"]["schemas"]
        statuses = {
            status for _, _, operation in _operations(document) for status in operation["responses"]
        }
        assert "422" not in statuses and "400" in statuses, name


async def test_docs_are_served_from_local_files(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    assert not re.search(r"https?://", page.text)
    for name, media_type in ASSETS.items():
        asset = await client.get(f"/docs/assets/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(media_type)
        assert len(asset.content) > 100
    for surface in SURFACES:
        assert surface.url in page.text
    assert (await client.get("/docs/assets/index.html")).status_code == 404


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
async def test_the_statuses_every_operation_can_answer_are_documented(
    client: httpx.AsyncClient, name: str
) -> None:
    """What schemathesis's status-code conformance found undocumented: a body that does not
    parse (400), an account named by account_id (SmartDialog: a customer header) that is not
    there for the caller (404), and SmartDialog's refused or scope-lacking tokens (401, 403)."""
    document = await _document(client, name)
    missing = []
    for path, method, operation in _operations(document):
        documented = set(operation["responses"])
        expected = set()
        if "requestBody" in operation:
            expected.add("400")
        names = {p["name"] for p in operation.get("parameters", [])}
        if names & {"account_id", "Customer-Id", "CustomerId"}:
            expected.add("404")
        if name == "smartdialog":
            expected |= {"401", "403", "429"}
        missing += [f"{method.upper()} {path}: {s}" for s in sorted(expected - documented)]
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
async def test_every_reference_resolves_within_its_document(
    client: httpx.AsyncClient, name: str
) -> None:
    document = await _document(client, name)
    schemas = document["components"]["schemas"]
    references = set(re.findall(r'"\$ref": "([^"]*)"', json.dumps(document)))
    assert references
    unresolved = [
        ref
        for ref in references
        if not ref.startswith("#/components/schemas/") or ref.rsplit("/", 1)[-1] not in schemas
    ]
    assert not unresolved, unresolved


async def test_files_are_documented_as_what_they_are(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    """Not JSON: Prometheus's text, ClickSend's exported history as CSV."""
    operator = await make_tenant("Ops", operator=True)
    documents = {name: await _document(client, name) for name in ("native", "clicksend")}
    exports = [p for p in documents["clicksend"]["paths"] if p.endswith("/history/export/file")]
    assert "/v3/sms/history/export/file" in exports
    for name, path in [("native", "/metrics")] + [("clicksend", path) for path in exports]:
        document = documents[name]
        documented = set(document["paths"][path]["get"]["responses"]["200"]["content"])
        answer = await client.get(path, headers=operator.basic)
        assert answer.status_code == 200, (path, answer.text)
        assert documented == {answer.headers["content-type"].split(";")[0]}, path
