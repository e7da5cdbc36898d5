"""The Developers page's Power Automate connectors point at the service's public address."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.integration.console.conftest import MakePerson, browser, sign_in
from tidings.config import Settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Behind a TLS proxy: browsers reach https://sms.example.com, the proxy calls us over HTTP.
    return Settings(
        data_dir=tmp_path, database_url=database_url, public_url="https://sms.example.com"
    )


async def test_a_downloaded_connector_calls_and_signs_in_at_the_public_url(
    app: FastAPI, make_person: MakePerson
) -> None:
    person = await make_person("dev@example.com")
    async with browser(app) as client:
        await sign_in(client, person.email)
        answer = await client.get("/developers/connectors/smartdialog.json")
    assert answer.status_code == 200, answer.text
    definition = answer.json()
    assert definition["host"] == "sms.example.com"
    assert definition["schemes"] == ["https"]
    oauth2 = [d for d in definition["securityDefinitions"].values() if d["type"] == "oauth2"]
    assert oauth2
    for scheme in oauth2:
        assert scheme["authorizationUrl"] == "https://sms.example.com/oauth2/authorize"
        assert scheme["tokenUrl"] == "https://sms.example.com/oauth2/token"
