"""``tidings users`` and the demo login ``make run`` prints, against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tidings.cli import app
from tidings.core import console_users
from tidings.service import ensure_demo_account, ensure_demo_console_user
from tidings.store.engine import Database


@pytest.fixture
def tidings(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"TIDINGS_DATA_DIR": str(tmp_path), "TIDINGS_DATABASE_URL": database_url}

    def invoke(*args: str, **extra_env: str) -> Result:
        return runner.invoke(app, list(args), env={**env, **extra_env})

    return invoke


def test_create_list_and_reset_password(tidings, database: Database) -> None:  # type: ignore[no-untyped-def]
    account = json.loads(tidings("accounts", "create", "Acme", "-o", "json").stdout)
    created = tidings(
        "users",
        "create",
        "Ops@Acme.example",
        "--account",
        account["id"],
        "--role",
        "admin",
        "-o",
        "json",
    )
    assert created.exit_code == 0, created.output
    user = json.loads(created.stdout)
    assert (user["email"], user["role"], user["account_id"]) == (
        "ops@acme.example",
        "admin",
        account["id"],
    )
    assert len(user["password"]) >= 10  # generated, shown once

    again = tidings("users", "create", "ops@acme.example", "--account", account["id"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    short = tidings(
        "users", "create", "x@acme.example", "--account", account["id"], "--password", "short"
    )
    assert short.exit_code == 1
    assert "10 to 200 characters" in short.output
    bad_role = tidings(
        "users", "create", "y@acme.example", "--account", account["id"], "--role", "boss"
    )
    assert bad_role.exit_code == 2

    listed = json.loads(tidings("users", "list", "-o", "json").stdout)
    assert [u["email"] for u in listed] == ["ops@acme.example"]
    assert "password" not in listed[0]
    assert "ops@acme.example" in tidings("users", "list").stdout

    reset = tidings(
        "users", "reset-password", "ops@acme.example", TIDINGS_USER_PASSWORD="a chosen password"
    )
    assert reset.exit_code == 0, reset.output
    assert "a chosen password" not in reset.output  # given, so not echoed
    assert tidings("users", "reset-password", "nobody@acme.example").exit_code == 5  # not found


async def test_the_demo_login_is_made_once_and_works(tmp_path: Path, database: Database) -> None:
    demo = await ensure_demo_account(database, tmp_path)
    login = await ensure_demo_console_user(database, tmp_path, demo.account_id)
    assert (tmp_path / "demo-console.json").stat().st_mode & 0o777 == 0o600
    assert await ensure_demo_console_user(database, tmp_path, demo.account_id) == login
    session = await console_users.sign_in(database, login.email, login.password)
    assert session.signed_in.account.id == demo.account_id
    assert session.signed_in.user.role == console_users.ConsoleRole.OPERATOR
    # The file lost: a new password is printed, and it works.
    (tmp_path / "demo-console.json").unlink()
    renewed = await ensure_demo_console_user(database, tmp_path, demo.account_id)
    assert renewed.password != login.password
    await console_users.sign_in(database, renewed.email, renewed.password)
