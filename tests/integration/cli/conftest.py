"""The CLI run in this process against a service running in this process, on free ports.

A command blocks while it talks to the service, which runs in the test's event loop, so
``Cli.run`` invokes it in a thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tests.integration.events.sink import Sink
from tidings.cli import app
from tidings.core import accounts, routing

LONG_CODE = "+358409999999"
HANDSET = "+358401112223"


@dataclass
class Cli:
    running: Running
    url: str
    secret: str
    sink: Sink

    async def inbound(self, text: str, sender: str = HANDSET, to: str = LONG_CODE) -> None:
        simulator = self.running.service.simulator
        assert simulator is not None
        assert await simulator.inject_inbound(sender, to, text, timeout=30) >= 1

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "TIDINGS_URL": self.url,
            "TIDINGS_API_SECRET": self.secret,
            "COLUMNS": "200",
            **extra,
        }

    async def run(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        return await asyncio.to_thread(
            CliRunner().invoke, app, list(args), env=self.env() if env is None else env, input=input
        )

    async def ok(self, *args: str) -> Result:
        result = await self.run(*args)
        assert result.exit_code == 0, result.output
        return result

    async def json(self, *args: str) -> Any:
        return json.loads((await self.ok(*args, "-o", "json")).stdout)


@pytest.fixture
async def cli(tmp_path: Path, database_url: str) -> AsyncIterator[Cli]:
    """A running service whose account owns LONG_CODE, a webhook receiver, and the CLI pointed
    at the service with a key of that account (TIDINGS_URL, TIDINGS_API_SECRET)."""
    settings = service_settings(
        tmp_path, database_url, webhook_allow_loopback=True, outbox_poll_seconds=0.05
    )
    sink = Sink()
    await sink.start()
    try:
        async with running_service(settings) as running:
            database = running.service.database
            await routing.add_sender(database, running.account, LONG_CODE)
            key = await accounts.create_api_key(database, running.account.id)
            url = f"http://127.0.0.1:{running.service.http_port}"
            yield Cli(running, url, key.secret, sink)
    finally:
        await sink.stop()
