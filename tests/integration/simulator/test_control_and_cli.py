"""The control API over HTTP, the CLI's client commands, and `tidings simulator serve` itself."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.ports import free_port
from tidings.cli import app
from tidings.cli.exits import ExitCode
from tidings.simulator import Simulator, SimulatorConfig
from tidings.smpp.constants import CommandStatus

from .probe import ProbeEsme

SHORTCODE = "12345"
HANDSET = "31600000021"


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    config = SimulatorConfig(system_id="probe", password="secret", receipt_delay_s=0.01)
    async with Simulator(config) as running:
        yield running


@pytest.fixture
async def api(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    base_url = f"http://127.0.0.1:{simulator.control_port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


async def test_health_and_stats(simulator: Simulator, api: httpx.AsyncClient) -> None:
    health = await api.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "smpp_port": simulator.smpp_port}
    probe = await ProbeEsme.bind(simulator.smpp_port)
    await probe.submit(source_addr=SHORTCODE, destination_addr=HANDSET, short_message=b"x")
    stats = (await api.get("/stats")).json()
    await probe.close()
    assert stats["submits"] == 1
    assert stats["binds"] == 1
    assert stats["bound_connections"] == 1


async def test_handset_inbox_read_and_cleared(simulator: Simulator, api: httpx.AsyncClient) -> None:
    probe = await ProbeEsme.bind(simulator.smpp_port)
    await probe.submit(
        source_addr=SHORTCODE, destination_addr=HANDSET, short_message=b"Hello \x1be"
    )
    await probe.close()
    body = (await api.get(f"/handsets/{HANDSET}")).json()
    assert body["number"] == HANDSET
    [message] = body["messages"]
    assert (message["text"], message["from"], message["parts"]) == ("Hello €", SHORTCODE, 1)
    assert message["data_coding"] == 0
    assert message["received_at"]

    deleted = await api.delete(f"/handsets/{HANDSET}")
    assert deleted.json() == {"number": HANDSET, "deleted": 1}
    assert (await api.get(f"/handsets/{HANDSET}")).json()["messages"] == []


async def test_inbound_is_accepted_then_delivered(
    simulator: Simulator, api: httpx.AsyncClient
) -> None:
    no_receiver = await api.post("/inbound", json={"from": HANDSET, "to": SHORTCODE, "text": "x"})
    assert no_receiver.status_code == 409
    probe = await ProbeEsme.bind(simulator.smpp_port)

    queued = await api.post("/inbound", json={"from": HANDSET, "to": SHORTCODE, "text": "Yes €"})
    assert queued.status_code == 202
    assert queued.json()["parts"] == 1
    first = await probe.next_delivered()
    assert (first.source_addr, first.destination_addr) == (HANDSET, SHORTCODE)
    assert first.short_message == b"Yes \x1be"

    waited = await api.post(
        "/inbound", params={"wait": "true"}, json={"from": HANDSET, "to": SHORTCODE, "text": "ok"}
    )
    assert waited.status_code == 200
    assert waited.json()["status"] == "delivered"
    assert (await probe.next_delivered()).short_message == b"ok"
    await probe.close()


async def test_inbound_refused_by_the_esme_is_a_bad_gateway(
    simulator: Simulator, api: httpx.AsyncClient
) -> None:
    probe = await ProbeEsme.bind(simulator.smpp_port, deliver_status=CommandStatus.ESME_RX_P_APPN)
    refused = await api.post(
        "/inbound", params={"wait": "true"}, json={"from": HANDSET, "to": SHORTCODE, "text": "x"}
    )
    assert refused.status_code == 502
    await probe.close()


@pytest.mark.parametrize(
    "body",
    [
        {"from": HANDSET, "text": "missing to"},
        {"from": "", "to": SHORTCODE, "text": "x"},
        [],
        # SMPP addresses are ASCII: these were sent on to fail in the encoder, a 502.
        {"from": "Äxy«", "to": SHORTCODE, "text": "x"},
        {"from": HANDSET, "to": "\r", "text": "x"},
        {"from": HANDSET, "to": SHORTCODE, "text": "x", "system_id": "sý"},
    ],
)
async def test_malformed_inbound_requests_are_rejected(
    api: httpx.AsyncClient, body: object
) -> None:
    answer = await api.post("/inbound", json=body)
    assert answer.status_code == 422


async def test_cli_inbox_and_inbound_talk_to_the_control_api(
    simulator: Simulator, api: httpx.AsyncClient
) -> None:
    probe = await ProbeEsme.bind(simulator.smpp_port)
    await probe.submit(source_addr=SHORTCODE, destination_addr=HANDSET, short_message=b"Ping")
    url = f"http://127.0.0.1:{simulator.control_port}"
    runner = CliRunner()

    shown = await asyncio.to_thread(
        runner.invoke, app, ["simulator", "inbox", HANDSET, "--control-url", url, "-o", "json"]
    )
    assert shown.exit_code == 0, shown.output
    assert '"text": "Ping"' in shown.stdout

    sent = await asyncio.to_thread(
        runner.invoke,
        app,
        [
            "simulator",
            "inbound",
            "--from",
            HANDSET,
            "--to",
            SHORTCODE,
            "Pong",
            "--control-url",
            url,
        ],
    )
    assert sent.exit_code == 0, sent.output
    assert (await probe.next_delivered()).short_message == b"Pong"
    await probe.close()


def test_cli_client_commands_explain_an_unreachable_simulator() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["simulator", "inbox", HANDSET, "--control-url", url])
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "Cannot reach the simulator's control API" in result.output


async def test_serve_runs_as_a_process_and_stops_on_sigterm(tmp_path: Path) -> None:
    smpp_port, control_port = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *[
                # The console script installed beside this interpreter.
                str(Path(sys.executable).with_name("tidings")),
                "simulator",
                "serve",
                "--port",
                str(smpp_port),
                "--control-port",
                str(control_port),
                "--system-id",
                "probe",
                "--password",
                "secret",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        deadline = time.monotonic() + 180
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{control_port}/healthz")).is_success:
                        break
                except httpx.HTTPError:
                    pass
                assert process.returncode is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                await asyncio.sleep(0.05)
        probe = await ProbeEsme.bind(smpp_port)
        answer = await probe.submit(destination_addr=HANDSET, registered_delivery=1)
        assert answer.command_status == CommandStatus.ESME_ROK
        await probe.next_delivered()
        await probe.close()
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 60)
    output = log_path.read_text()
    assert code == 0, output
    # Not a terminal: JSON lines only, the banner left out; where it listens is a log event.
    events = [json.loads(line) for line in output.splitlines()]
    [listening] = [e for e in events if e["event"] == "simulator listening"]
    assert (listening["smpp_port"], listening["control_port"]) == (smpp_port, control_port)
