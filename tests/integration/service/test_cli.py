"""The operator commands of the CLI (they open the database), run in process against a real
database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner, Result

from tidings.cli import app
from tidings.cli.exits import ExitCode
from tidings.store.migrate import alembic_config


@pytest.fixture
def tidings(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {
        "TIDINGS_DATA_DIR": str(tmp_path),
        "TIDINGS_DATABASE_URL": database_url,
        "COLUMNS": "200",  # rich wraps tables at the terminal width
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_migrate_reports_the_revision(tidings) -> None:  # type: ignore[no-untyped-def]
    result = tidings("migrate")
    assert result.exit_code == 0, result.output
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"revision {head}" in result.output
    assert tidings("migrate").exit_code == 0


def test_accounts_keys_and_senders(tidings) -> None:  # type: ignore[no-untyped-def]
    created = tidings("accounts", "create", "Acme", "--region", "US", "-o", "json")
    assert created.exit_code == 0, created.output
    account = json.loads(created.stdout)
    assert (account["name"], account["region"], account["parent_id"]) == ("Acme", "US", None)

    child = json.loads(
        tidings("accounts", "create", "Acme EU", "--parent", account["id"], "-o", "json").stdout
    )
    assert child["parent_id"] == account["id"]
    assert child["region"] == "FI"  # the settings' default region

    key = json.loads(tidings("accounts", "key", account["id"], "-o", "json").stdout)
    assert key["account_id"] == account["id"]
    assert key["secret"].startswith(f"tdk_{key['id']}_")
    assert key["role"] == "tenant"
    operator = tidings("accounts", "key", account["id"], "--operator", "-o", "json")
    assert json.loads(operator.stdout)["role"] == "operator"

    sender = tidings("senders", "add", "(201) 555-0123", "--account", account["id"], "-o", "json")
    assert sender.exit_code == 0, sender.output
    assert json.loads(sender.stdout)["address"] == "+12015550123"
    listed = json.loads(tidings("senders", "list", "-o", "json").stdout)
    assert [s["address"] for s in listed] == ["+12015550123"]
    assert "+12015550123" in tidings("senders", "list").stdout


def test_errors_are_one_line_with_their_exit_code(tidings) -> None:  # type: ignore[no-untyped-def]
    missing = tidings("accounts", "key", "NOPE")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert missing.output.strip() == "error: no account NOPE"
    bad_region = tidings("accounts", "create", "X", "--region", "ZZ")
    assert bad_region.exit_code == 1
    assert "unknown region" in bad_region.output


def test_routes_add_list_remove(tidings) -> None:  # type: ignore[no-untyped-def]
    added = tidings(
        "routes",
        "add",
        "carrier",
        "--host",
        "smsc.example.net",
        "--port",
        "2776",
        "--system-id",
        "acme",
        "--password",
        "pw",
        "--binds",
        "2",
        "--concat",
        "udh16",
        "-o",
        "json",
    )
    assert added.exit_code == 0, added.output
    route = json.loads(added.stdout)
    settings = route["settings"]
    assert (settings["host"], settings["port"], settings["binds"], settings["concat_method"]) == (
        "smsc.example.net",
        2776,
        2,
        "udh16",
    )
    assert "password" not in settings
    assert "pw" not in added.stdout
    # Only a starting service sets up the simulator's route: the first route is the default.
    spare = ("--host", "smsc2.example.net", "--port", "2775", "--system-id", "acme")
    assert tidings("routes", "add", "spare", *spare).exit_code == 0
    names = [r["name"] for r in json.loads(tidings("routes", "list", "-o", "json").stdout)]
    assert names == ["carrier", "spare"]
    assert tidings("routes", "remove", "carrier").exit_code == 1  # the default route
    assert tidings("routes", "remove", "spare").exit_code == 0
    assert "spare" not in tidings("routes", "list").stdout
    too_long = tidings("routes", "add", "x", "--host", "h", "--port", "1", "--system-id", "s" * 16)
    assert too_long.exit_code == 1
    assert "settings.system_id" in too_long.output
    # Any setting of the kind can be changed with --set; a value that reads as JSON is that.
    updated = tidings("routes", "update", "carrier", "--set", "window=7", "--set", "max_tps=null")
    assert updated.exit_code == 0, updated.output
    [carrier] = json.loads(tidings("routes", "list", "-o", "json").stdout)
    assert (carrier["settings"]["window"], carrier["settings"]["max_tps"]) == (7, None)
    kinds = tidings("routes", "kinds")
    assert kinds.exit_code == 0 and "smpp" in kinds.stdout


def test_operator_commands_never_make_a_stray_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not where the service runs: no ./var here
    unset = {"TIDINGS_DATA_DIR": None, "TIDINGS_DATABASE_URL": None}
    refused = CliRunner().invoke(app, ["accounts", "list"], env=unset)
    assert refused.exit_code == ExitCode.UNREACHABLE
    assert refused.output.startswith(f"error: No tidings database at {tmp_path}/var/tidings.db.")
    assert "TIDINGS_DATA_DIR" in refused.output and "make run" in refused.output
    assert not (tmp_path / "var" / "tidings.db").exists()
    assert CliRunner().invoke(app, ["migrate"], env=unset).exit_code == 0
    assert CliRunner().invoke(app, ["accounts", "list"], env=unset).exit_code == 0
