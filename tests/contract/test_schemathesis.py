"""The API against its own OpenAPI document, with schemathesis: generated requests to every
operation of /v1 and of each dialect, with valid credentials, answer no 5xx, only statuses the
operation's document lists, in the media type it lists (problem+json on /v1, each dialect's own
error shape), with bodies and headers valid against its schemas.

A bounded run (``EXAMPLES`` per operation, the examples and fuzzing phases) against a real
``tidings serve`` on its own SQLite, once per CI run (marked ``once``). Its report is kept in
the test's temporary directory and printed when it fails. ``SCHEMATHESIS_EXAMPLES`` makes a
longer run by hand.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.dispatch.conftest import eventually
from tests.ports import free_port
from tidings.api.dialects.smartdialog.oauth import SCOPES as SMARTDIALOG_SCOPES
from tidings.api.openapi import SURFACES
from tidings.core import accounts, oauth
from tidings.core.secrets import SecretSource
from tidings.store.engine import Database

pytestmark = pytest.mark.once

# Small: CI runs this once, and every operation still sees its examples and some fuzzing.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
# No 5xx; and every answer is one the operation's document lists: its status, its media type,
# its body against the schema, its headers.
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
)
# Each surface has a document of its own (api/openapi.py). The SmartDialog dialect takes OAuth2
# access tokens; every other surface the API key.
CREDENTIALS = {
    surface.name: "oauth" if surface.name == "smartdialog" else "keys" for surface in SURFACES
}


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("schemathesis is not installed (it is a dev dependency: make .venv/.installed)")
    return found


def _serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "tidings.cli", "serve"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _stop(service: subprocess.Popen[bytes]) -> None:
    service.terminate()
    try:
        service.wait(timeout=20)
    except subprocess.TimeoutExpired:
        service.kill()
        service.wait()


# Four documents, each run bounded by EXAMPLES: minutes on a loaded machine, beyond the suite's
# default timeout.
@pytest.mark.timeout(1800)
async def test_no_operation_answers_a_server_error(tmp_path: Path) -> None:
    port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tidings.db'}"
    env = {
        **os.environ,
        "TIDINGS_DATA_DIR": str(tmp_path),
        "TIDINGS_DATABASE_URL": database_url,
        "TIDINGS_HTTP_PORT": str(port),
        "TIDINGS_SIMULATOR_PORT": str(free_port()),
        "TIDINGS_SIMULATOR_CONTROL_PORT": str(free_port()),
        "TIDINGS_RATE_LIMIT": "1000000/60 seconds",
        "TIDINGS_FAILED_SIGN_IN_RATE": "1000000/60 seconds",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    service = _serve(env, tmp_path / "service.log")
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:

            async def ready() -> bool:
                if service.poll() is not None:
                    pytest.fail((tmp_path / "service.log").read_text())
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, "the service to start", 180.0)
        database = Database.from_url(database_url)
        try:
            account = await accounts.create_account(database, "Contract", region="FI")
            # An operator key reaches the operator's endpoints as well as the tenant's.
            key = await accounts.create_api_key(
                database,
                account.id,
                role=accounts.Role.OPERATOR,
                secrets=SecretSource(database, None),
            )
            token = "contract-access-token"
            await oauth.issue_token(
                database,
                key_id=key.key.id,
                access_token=token,
                refresh_token=None,
                # Every scope of the connector, so that operations run past the scope check.
                scope=" ".join(SMARTDIALOG_SCOPES),
                expires_in=24 * 3600,
            )
        finally:
            await database.close()
        headers = {"keys": f"Bearer {key.secret}", "oauth": f"Bearer {token}"}
        failures = []
        for surface in SURFACES:
            report = tmp_path / f"schemathesis-{surface.name}.txt"
            command = [
                _schemathesis(),
                "run",
                f"{base}{surface.url}",
                "--max-examples",
                str(EXAMPLES),
                "--phases",
                "examples,fuzzing",
                "--checks",
                CHECKS,
                "--header",
                f"Authorization: {headers[CREDENTIALS[surface.name]]}",
                "--seed",
                "18",
                "--no-color",
            ]
            result = await asyncio.to_thread(
                subprocess.run, command, capture_output=True, text=True, timeout=1500
            )
            report.write_text(result.stdout + result.stderr)
            print(f"--- schemathesis ({surface.name}): {result.stdout.strip().splitlines()[-1]}")
            if result.returncode != 0:
                failures.append(report.read_text())
        assert not failures, "\n\n".join(failures)
    finally:
        _stop(service)
