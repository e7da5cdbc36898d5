"""How the CLI finds the service and its secret: --url, TIDINGS_URL, `tidings login`'s file,
and what it says when it cannot."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from tests.ports import free_port
from tidings.cli.credentials import credentials_path
from tidings.cli.exits import ExitCode

from .conftest import Cli


def _no_env(cli: Cli, **extra: str) -> dict[str, str]:
    # CliRunner adds these to the process environment; "" unsets a variable for the command.
    return {"TIDINGS_URL": "", "TIDINGS_API_SECRET": "", "COLUMNS": "200", **extra}


async def test_login_saves_a_private_file_that_later_commands_use(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not the repository: nothing is read from ./var
    bare = _no_env(cli)
    before = await cli.run("messages", "list", env=bare)
    assert before.exit_code == ExitCode.AUTH
    assert "tidings login" in before.output and "TIDINGS_API_SECRET" in before.output

    login = await cli.run("login", "--url", cli.url, env=bare, input=f"{cli.secret}\n")
    assert login.exit_code == 0, login.output
    assert f"signed in to {cli.url} as account Acme ({cli.running.account.id})" in login.stdout
    assert cli.secret not in login.stdout
    path = credentials_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    saved = tomllib.loads(path.read_text())
    assert saved["default"] == cli.url
    assert saved["services"][cli.url]["secret"] == cli.secret

    # From any directory, with no variables: the saved default service.
    message_id = await cli.running.send_one("+358401234567")
    listed = await cli.run("messages", "list", "-o", "json", env=bare)
    assert listed.exit_code == 0, listed.output
    assert message_id in listed.stdout

    await cli.ok("logout", "--url", cli.url)
    after = await cli.run("messages", "list", env=bare)
    assert after.exit_code == ExitCode.AUTH


async def test_login_refuses_a_wrong_secret_and_saves_nothing(cli: Cli) -> None:
    refused = await cli.run("login", "--url", cli.url, env=_no_env(cli), input="tdk_nope_nope\n")
    assert refused.exit_code == ExitCode.AUTH
    assert "error: Missing or invalid API credentials." in refused.output
    assert not credentials_path().exists()


async def test_unreachable_service_names_the_ways_to_point_at_it(cli: Cli) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = await cli.run(
        "messages", "list", env=_no_env(cli, TIDINGS_URL=dead, TIDINGS_API_SECRET=cli.secret)
    )
    assert result.exit_code == ExitCode.UNREACHABLE
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"error: Cannot reach the service at {dead}:")
    assert "--url" in lines[1] and "TIDINGS_URL" in lines[1] and "tidings login" in lines[1]
    assert "came from TIDINGS_URL" in lines[1]
    assert "Traceback" not in result.output


async def test_url_option_wins_over_the_environment(cli: Cli) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    env = _no_env(cli, TIDINGS_URL=dead, TIDINGS_API_SECRET=cli.secret)
    result = await cli.run("messages", "list", "--url", cli.url, env=env)
    assert result.exit_code == 0, result.output


async def test_a_wrong_secret_in_the_environment_is_named_as_the_one_to_correct(cli: Cli) -> None:
    wrong = cli.secret[:-1] + ("x" if not cli.secret.endswith("x") else "y")
    result = await cli.run(
        "messages", "list", env=_no_env(cli, TIDINGS_URL=cli.url, TIDINGS_API_SECRET=wrong)
    )
    assert result.exit_code == ExitCode.AUTH
    lines = result.output.strip().splitlines()
    assert lines[0] == "error: Missing or invalid API credentials."
    assert lines[1].startswith(
        f"hint: the secret from TIDINGS_API_SECRET was refused by {cli.url}; correct it"
    )
    # Not "set TIDINGS_API_SECRET": it is set, and wrong.
    assert "or set TIDINGS_API_SECRET" not in result.output
    assert "unset it" in lines[1]
