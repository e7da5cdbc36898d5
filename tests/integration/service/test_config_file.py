"""Routes and senders from a TOML file: applied idempotently, at start and through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidings.cli import app
from tidings.config import Settings
from tidings.core import accounts, routing
from tidings.core.config_file import InvalidConfigFile, apply_config, load_config_file
from tidings.core.setup import prepare_database
from tidings.dispatch.transports import default_transports
from tidings.store.engine import Database

CARRIER = """
[[routes]]
name = "carrier-a"
host = "127.0.0.1"
port = 3775
system_id = "acme"
password = "secret"
binds = 2
window = 50
default = true

[[senders]]
account = "{account}"
address = "040 1234567"
route = "carrier-a"
"""


async def test_a_file_creates_then_updates_and_is_idempotent(
    database: Database, tmp_path: Path
) -> None:
    await prepare_database(database, Settings(data_dir=tmp_path), default_transports())
    account = await accounts.create_account(database, "Acme", region="FI")
    path = tmp_path / "tidings.toml"
    path.write_text(CARRIER.format(account=account.id))

    first = await apply_config(database, default_transports(), load_config_file(path))
    assert (first.routes_created, first.senders_added) == (["carrier-a"], ["040 1234567"])
    route = await routing.get_route(database, "carrier-a")
    settings = route.settings
    assert (settings["port"], settings["binds"], settings["window"]) == (3775, 2, 50)
    assert (route.kind, route.is_default, route.secrets) == ("smpp", True, {"password": "secret"})
    [sender] = await routing.list_senders(database, account.id)
    assert (sender.sender.address, sender.route_name) == ("+358401234567", "carrier-a")

    again = await apply_config(database, default_transports(), load_config_file(path))
    assert again.routes_created == again.routes_updated == again.senders_added == []
    assert again.senders_updated == []

    path.write_text(
        CARRIER.format(account=account.id).replace("window = 50", "window = 80")
        + '\n[[routes]]\nname = "carrier-b"\nhost = "127.0.0.1"\nport = 4775\nsystem_id = "b"\n'
        + 'password = "b"\n'
    )
    path.write_text(path.read_text().replace('route = "carrier-a"', 'route = "carrier-b"'))
    changed = await apply_config(database, default_transports(), load_config_file(path))
    assert changed.routes_updated == ["carrier-a"]
    assert changed.routes_created == ["carrier-b"]
    assert changed.senders_updated == ["040 1234567"]
    assert (await routing.get_route(database, "carrier-a")).settings["window"] == 80
    # Routes the file does not name are kept.
    names = {r.name for r in await routing.list_routes(database)}
    assert names == {"simulator", "carrier-a", "carrier-b"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[[routes]]\nname = 'x'\nhost = 'h'\nport = 1\nsystem_id = 's'\ncolour = 'red'\n",
            "colour",
        ),
        ("[[routes]]\nname = 'x'\nport = 1\n", "settings.host is required"),
        ("[[routes]]\nname = 'x'\nkind = 'pigeon'\n", "no transport of kind 'pigeon'"),
        (
            "[[routes]]\nname = 'x'\nhost = 'h'\nport = 99999\nsystem_id = 's'\npassword = 'p'\n",
            "port",
        ),
        ("[[senders]]\naccount = 'nope'\naddress = 'Acme'\n", "no account nope"),
        ("[carriers]\n", "unknown section"),
        ("routes = [", "not valid TOML"),
    ],
)
async def test_a_bad_file_is_a_clear_error_and_changes_nothing_it_rejects(
    database: Database, tmp_path: Path, text: str, message: str
) -> None:
    await prepare_database(database, Settings(data_dir=tmp_path), default_transports())
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InvalidConfigFile, match=message):
        await apply_config(database, default_transports(), load_config_file(path))
    assert [r.name for r in await routing.list_routes(database)] == ["simulator"]


async def test_the_configured_file_is_applied_at_start(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(
        "[[routes]]\nname = 'carrier-a'\nhost = '127.0.0.1'\nport = 3775\nsystem_id = 'a'\n"
        "password = 'a'\n"
    )
    await prepare_database(
        database, Settings(data_dir=tmp_path, config_file=path), default_transports()
    )
    assert (await routing.get_route(database, "carrier-a")).settings["port"] == 3775


def test_config_apply_command(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text(
        "[[routes]]\nname = 'carrier-a'\nhost = '127.0.0.1'\nport = 3775\nsystem_id = 'a'\n"
        "password = 'a'\n"
    )
    env = {"TIDINGS_DATA_DIR": str(tmp_path), "TIDINGS_DATABASE_URL": database_url}
    runner = CliRunner()
    result = runner.invoke(app, ["config", "apply", str(path), "-o", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["routes_created"] == ["carrier-a"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[[routes]]\nname = 'x'\nport = 1\n")
    failed = runner.invoke(app, ["config", "apply", str(bad)], env=env)
    assert failed.exit_code == 1
    assert "settings.host is required" in failed.output
