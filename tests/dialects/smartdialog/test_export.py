"""The custom-connector definition points at our host and validates as Swagger 2.0."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from tidings.api.dialects.smartdialog import export_definition
from tidings.api.dialects.smartdialog.export import _definition


def test_the_export_points_at_our_host_and_is_valid_swagger_2() -> None:
    definition = export_definition("sms.example.com")
    validate(definition)  # type: ignore[arg-type]
    assert definition["swagger"] == "2.0"
    assert (definition["host"], definition["schemes"]) == ("sms.example.com", ["https"])
    assert definition["basePath"] == "/api-integrations/v1"
    [oauth] = definition["securityDefinitions"].values()
    assert oauth["authorizationUrl"] == "https://sms.example.com/oauth2/authorize"
    assert oauth["tokenUrl"] == "https://sms.example.com/oauth2/token"
    # Nothing else changes: the customers' flows keep their paths, headers and bodies.
    original = _definition()
    assert definition["paths"] == original["paths"]
    assert "arena" not in str(definition["host"]) and "b2clogin" not in str(oauth)
    assert original["host"] == "api.arena.fi"  # the shipped definition is left alone


def test_a_port_and_scheme_are_kept() -> None:
    definition = export_definition("http://127.0.0.1:8080")
    assert (definition["host"], definition["schemes"]) == ("127.0.0.1:8080", ["http"])
    [oauth] = definition["securityDefinitions"].values()
    assert oauth["tokenUrl"] == "http://127.0.0.1:8080/oauth2/token"


def test_a_broken_definition_would_fail_validation() -> None:
    definition = export_definition("sms.example.com")
    del definition["paths"]["/messages"]["post"]["responses"]
    with pytest.raises(OpenAPIValidationError):
        validate(definition)  # type: ignore[arg-type]


def test_not_a_host() -> None:
    with pytest.raises(ValueError, match="not a host"):
        export_definition("https://")
