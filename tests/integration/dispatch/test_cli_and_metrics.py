"""``tidings send`` against a running service, and what /metrics shows after traffic."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tidings.cli import app


@pytest.fixture
async def with_demo(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(tmp_path, database_url)
    async with running_service(settings, demo_account=True) as running:
        yield running


async def tidings_send(running: Running, to: str, text: str) -> Result:
    """``tidings send`` in this process; in a thread, because it blocks while it polls the
    service, which runs in this event loop."""
    demo = running.service.demo
    assert demo is not None
    env = {
        "TIDINGS_URL": f"http://127.0.0.1:{running.service.http_port}",
        "TIDINGS_API_SECRET": demo.secret,
        "COLUMNS": "200",
    }
    args = ["send", "--from", "Tidings", "--to", to, "--wait", "30", text]
    return await asyncio.to_thread(CliRunner().invoke, app, args, env=env)


def last_line(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1].strip()


async def test_tidings_send_waits_for_delivered(with_demo: Running) -> None:
    result = await tidings_send(with_demo, "+358401234567", "Hei maailma")
    assert result.exit_code == 0, result.output
    assert last_line(result) == "delivered"
    accepted = re.search(r"accepted (\w+) → \+358401234567 \(gsm7, 1 part", result.stdout)
    assert accepted is not None, result.stdout
    # The demo account sent it: the service has it, delivered, under that id.
    demo = with_demo.service.demo
    assert demo is not None
    response = await with_demo.http.get(
        f"/v1/messages/{accepted.group(1)}", headers={"Authorization": f"Bearer {demo.secret}"}
    )
    assert response.status_code == 200, response.text
    message = response.json()
    assert (message["account_id"], message["status"]) == (demo.account_id, "delivered")


async def test_tidings_send_exits_1_when_undelivered_and_shows_the_receipts_error(
    with_demo: Running,
) -> None:
    result = await tidings_send(with_demo, "+358401234560", "Hei maailma")
    assert result.exit_code == 1, result.output
    assert last_line(result) == "undelivered (receipt UNDELIV err 1)"


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text exposition."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{labels} in /metrics")


async def test_metrics_count_submits_receipts_and_binds(running: Running) -> None:
    delivered = await running.send_one("+358401234567")
    undelivered = await running.send_one("+358401234560")
    await running.wait_for(delivered)
    await running.wait_for(undelivered)

    async def scraped() -> str:
        response = await running.http.get("/metrics")
        assert response.status_code == 200
        return response.text

    text = await scraped()
    assert metric(text, "tidings_submits_total", route="simulator", outcome="ESME_ROK") == 2
    assert metric(text, "tidings_receipts_total", state="DELIVRD") == 1
    assert metric(text, "tidings_receipts_total", state="UNDELIV") == 1
    assert metric(text, "tidings_binds_up", route="simulator") == 1
    assert metric(text, "tidings_submit_latency_seconds_count", route="simulator") == 2

    await running.service.simulator.stop()  # type: ignore[union-attr]

    async def bind_down() -> bool:
        return metric(await scraped(), "tidings_binds_up", route="simulator") == 0

    await eventually(bind_down, "tidings_binds_up to drop when the SMSC goes away")
