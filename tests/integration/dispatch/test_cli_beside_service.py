"""CLI commands run from another terminal, without the service's variables, leave its routes
alone."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from typer.testing import CliRunner, Result

from tests.integration.dispatch.conftest import running_service, service_settings
from tidings.cli import app
from tidings.core import routing
from tidings.dispatch.dispatcher import DispatcherConfig


async def test_cli_commands_do_not_repoint_the_simulator_route(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    assert settings.simulator_port != 2775
    # A second terminal: the same database, none of the service's port variables.
    env = {
        **{name: None for name in os.environ if name.startswith("TIDINGS_")},
        "TIDINGS_DATA_DIR": str(tmp_path),
        "TIDINGS_DATABASE_URL": database_url,
    }

    def tidings(*args: str) -> Result:
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result

    async with running_service(settings) as running:
        created = await asyncio.to_thread(tidings, "accounts", "create", "Second", "-o", "json")
        assert json.loads(created.stdout)["name"] == "Second"
        # Commands that open the database (`messages list` talks to the service over HTTP).
        await asyncio.to_thread(tidings, "senders", "list")
        await asyncio.to_thread(tidings, "migrate")

        route = await routing.get_route(running.service.database, "simulator")
        assert route.settings["port"] == settings.simulator_port
        # The dispatcher rereads its routes this often: a changed route would be in use now.
        await asyncio.sleep(DispatcherConfig().route_reload_interval + 1.0)
        message_id = await running.send_one("+358401234567")
        assert (await running.wait_for(message_id))["status"] == "delivered"
