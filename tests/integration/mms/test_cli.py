"""``tidings send --media FILE --subject`` sends an MMS through the running service."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tests.ports import free_port
from tests.unit.media import samples
from tidings.cli import app


@pytest.fixture
async def with_demo(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(tmp_path, database_url, simulator_mms_port=free_port())
    async with running_service(settings, demo_account=True) as running:
        yield running


async def test_tidings_send_with_media_sends_an_mms(with_demo: Running, tmp_path: Path) -> None:
    demo = with_demo.service.demo
    assert demo is not None
    photo = tmp_path / "table.jpg"
    photo.write_bytes(samples.jpeg_with_metadata(300, 200))
    env = {
        "TIDINGS_URL": f"http://127.0.0.1:{with_demo.service.http_port}",
        "TIDINGS_API_SECRET": demo.secret,
        "COLUMNS": "200",
    }
    args = [
        "send", "--from", "+358409990004", "--to", "+358401234561", "--wait", "30",
        "--media", str(photo), "--subject", "Tonight", "Table for two at eight",
    ]  # fmt: skip
    result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].strip() == "delivered"
    simulator = with_demo.service.simulator
    assert simulator is not None and simulator.mmsc is not None
    [shown] = simulator.mmsc.inbox("+358401234561")
    assert (shown.subject, shown.text) == ("Tonight", "Table for two at eight")
    listed = await asyncio.to_thread(
        CliRunner().invoke, app, ["messages", "list", "--output", "json"], env=env
    )
    message_id = json.loads(listed.stdout)[0]["id"]
    shown_by_cli = await asyncio.to_thread(
        CliRunner().invoke, app, ["messages", "show", message_id], env=env
    )
    assert shown_by_cli.exit_code == 0, shown_by_cli.output
    assert "subject: Tonight" in shown_by_cli.stdout
    [link] = re.findall(r"http://\S+/v1/media/\S+", shown_by_cli.stdout)
    async with httpx.AsyncClient() as anonymous:
        fetched = await anonymous.get(link)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg"
    missing = await asyncio.to_thread(
        CliRunner().invoke, app, [*args[:-5], "--media", str(tmp_path / "none.jpg"), "x"], env=env
    )
    assert missing.exit_code != 0 and "cannot read" in missing.output
