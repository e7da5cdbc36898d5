"""Outcome rules and chaos changed while the simulator runs, over the control API, and the
handset list the console shows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tidings.simulator import Simulator, SimulatorConfig
from tidings.smpp.constants import CommandStatus

from .probe import ProbeEsme


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(receipt_delay_s=0.01)) as running:
        yield running


@pytest.fixture
async def api(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    base_url = f"http://127.0.0.1:{simulator.control_port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


async def test_rules_replaced_while_running(simulator: Simulator, api: httpx.AsyncClient) -> None:
    assert (await api.get("/rules")).json()["rules"][0]["suffix"] == "0"
    refused = await api.put("/rules", json={"rules": [{"state": "ENROUTE"}]})
    assert refused.status_code == 422  # not a final state: a receipt cannot end there
    # Problem details, as the service's /v1 (where these routes are mounted) answers errors.
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 422 and "ENROUTE" in refused.json()["detail"]
    answer = await api.put(
        "/rules", json={"rules": [{"state": "REJECTD", "err": 11, "prefix": "31600"}]}
    )
    assert answer.status_code == 200
    assert simulator.rules[0].err == 11
    assert (await api.put("/rules", json={"rules": [], "extra": 1})).status_code == 422


async def test_chaos_switched_on_and_off(simulator: Simulator, api: httpx.AsyncClient) -> None:
    probe = await ProbeEsme.bind(simulator.smpp_port)
    try:
        answer = await api.put("/chaos", json={"reject_fraction": 1.0})
        assert answer.status_code == 200
        assert answer.json()["reject_fraction"] == 1.0
        refused = await probe.submit(source_addr="12345", destination_addr="31600000031")
        assert refused.command_status == CommandStatus.ESME_RTHROTTLED
        await api.put("/chaos", json={})
        assert not simulator.chaos.active
        accepted = await probe.submit(source_addr="12345", destination_addr="31600000031")
        assert accepted.command_status == CommandStatus.ESME_ROK
    finally:
        await probe.close()
    assert (await api.put("/chaos", json={"reject_fraction": 2})).status_code == 422


async def test_handsets_latest_first_and_the_version_moves(simulator: Simulator) -> None:
    probe = await ProbeEsme.bind(simulator.smpp_port)
    try:
        before = simulator.inbox_version
        for number in ("31600000041", "31600000042", "31600000041"):
            await probe.submit(source_addr="12345", destination_addr=number, short_message=b"x")
    finally:
        await probe.close()
    assert [n for n, _ in simulator.handsets()] == ["31600000041", "31600000042"]
    assert simulator.inbox_version == before + 3
    simulator.clear_inbox("31600000041")
    assert [n for n, _ in simulator.handsets()] == ["31600000042"]
