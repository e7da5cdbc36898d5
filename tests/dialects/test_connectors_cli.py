"""``tidings connectors export`` for each dialect, run in-process: the written definition is
valid Swagger 2.0 and calls the given host (for SmartDialog, its OAuth2 server too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator
from typer.testing import CliRunner

from tidings.cli import app

BASE_PATHS = {
    "clicksend": "/v3",
    "smartdialog": "/api-integrations/v1",
    "truedialog": "/api/v2.1",
}


def export(*args: str) -> Any:
    return CliRunner().invoke(app, ["connectors", "export", *args])


@pytest.mark.parametrize("dialect", sorted(BASE_PATHS))
def test_each_dialect_exports_a_valid_definition_for_the_host(dialect: str, tmp_path: Path) -> None:
    target = tmp_path / f"{dialect}.swagger.json"
    result = export("--dialect", dialect, "--host", "sms.example.com:8443", "--file", str(target))
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text())
    OpenAPIV2SpecValidator(document).validate()
    assert document["swagger"] == "2.0"
    assert (document["host"], document["schemes"]) == ("sms.example.com:8443", ["https"])
    assert document["basePath"] == BASE_PATHS[dialect]
    assert document["paths"]
    # No URL in the definition points anywhere but the given host.
    for scheme in document.get("securityDefinitions", {}).values():
        for key in ("authorizationUrl", "tokenUrl", "refreshUrl"):
            if key in scheme:
                assert scheme[key].startswith("https://sms.example.com:8443/"), scheme[key]


def test_smartdialog_oauth_urls_are_the_hosts_own() -> None:
    result = export("--dialect", "smartdialog", "--host", "http://127.0.0.1:8080")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    OpenAPIV2SpecValidator(document).validate()
    assert (document["host"], document["schemes"]) == ("127.0.0.1:8080", ["http"])
    [oauth] = document["securityDefinitions"].values()
    assert oauth["authorizationUrl"] == "http://127.0.0.1:8080/oauth2/authorize"
    assert oauth["tokenUrl"] == "http://127.0.0.1:8080/oauth2/token"
    assert "b2clogin" not in result.output and "api.arena.fi" not in result.output


def test_truedialog_keeps_the_providers_operations() -> None:
    result = export("--dialect", "truedialog", "--host", "http://127.0.0.1:8080")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert (document["host"], document["schemes"]) == ("127.0.0.1:8080", ["http"])
    operations = {
        op["operationId"]
        for path in document["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    }
    assert {"Campaign_Push", "Incoming_SMS_Received", "Invalid_Targets"} <= operations
    assert "api.truedialog.com" not in result.output


def test_the_help_and_errors_name_every_dialect() -> None:
    unknown = export("--dialect", "nope", "--host", "example.com")
    assert unknown.exit_code == 2
    for dialect in BASE_PATHS:
        assert dialect in unknown.output
