"""``tidings contacts import`` and ``export``, run in process against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tidings.cli import app


@pytest.fixture
def tidings(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {
        "TIDINGS_DATA_DIR": str(tmp_path),
        "TIDINGS_DATABASE_URL": database_url,
        "COLUMNS": "200",
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_import_into_a_list_then_export(tidings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    created = tidings("accounts", "create", "Acme", "--region", "FI", "-o", "json")
    account = json.loads(created.stdout)
    source = tmp_path / "people.csv"
    source.write_text(
        "phone,first_name,city\n0401000001,Anna,Turku\n+358401000002,Bert,Oulu\nbad,Cid,\n",
        encoding="utf-8",
    )
    result = tidings("contacts", "import", str(source), "--list", "Newsletter")
    assert result.exit_code == 1, result.output  # one row failed
    assert (
        "3 rows: 2 created, 0 updated, 0 skipped, 1 failed; 2 added to Newsletter" in result.stdout
    )
    assert "row 4 phone:" in result.stdout

    again = tidings(
        "contacts",
        "import",
        str(source),
        "--list",
        "Newsletter",
        "--account",
        account["id"],
        "-o",
        "json",
    )
    report = json.loads(again.stdout)
    assert (report["created"], report["skipped"], report["added_to_list"]) == (0, 2, 0)
    assert report["errors"] == [
        {"row": 4, "field": "phone", "reason": report["errors"][0]["reason"]}
    ]

    target = tmp_path / "out.csv"
    exported = tidings("contacts", "export", str(target), "--list", "Newsletter")
    assert exported.exit_code == 0, exported.output
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("phone,email,first_name,last_name")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["+358401000001", "+358401000002"]

    missing = tidings("contacts", "export", "--list", "Nope")
    assert missing.exit_code == 5  # ExitCode.NOT_FOUND
    assert "no list named 'Nope'" in missing.output


def test_several_accounts_need_the_account_option(tidings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tidings("accounts", "create", "One")
    tidings("accounts", "create", "Two")
    source = tmp_path / "people.csv"
    source.write_text("phone\n+358401000001\n", encoding="utf-8")
    result = tidings("contacts", "import", str(source))
    assert result.exit_code == 1
    assert "choose one with --account" in result.output
    assert "Traceback" not in result.output
