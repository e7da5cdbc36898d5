"""What the SMSC refuses: temporary errors are retried until the message gets through, permanent
ones end the message ``rejected`` with the SMPP status as its error code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tidings.simulator import ChaosConfig, Simulator, SimulatorConfig
from tidings.smpp.constants import CommandStatus

NUMBERS = [f"+3584012{n:05d}" for n in range(1, 31) if n % 10]  # none ends in 0: all deliverable


@asynccontextmanager
async def service_behind(
    chaos: ChaosConfig, tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[Running, Simulator]]:
    """The service with a simulator of its own (chaos on) as the default route."""
    config = SimulatorConfig(control_port=None, chaos=chaos, seed=1234, receipt_delay_s=0.01)
    async with Simulator(config) as simulator:
        settings = service_settings(
            tmp_path, database_url, simulator=False, simulator_port=simulator.smpp_port
        )
        async with running_service(settings) as running:
            yield running, simulator


async def wait_all_final(running: Running, ids: list[str]) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []

    async def all_final() -> bool:
        nonlocal found
        page = (await running.http.get("/v1/messages", params={"limit": 1000})).json()["data"]
        found = [m for m in page if m["id"] in ids]
        return len(found) == len(ids) and all(
            m["status"] not in ("queued", "submitting", "sent") for m in found
        )

    await eventually(all_final, "every message to reach its final status")
    return found


async def test_throttled_submits_are_retried_until_delivered(
    tmp_path: Path, database_url: str
) -> None:
    chaos = ChaosConfig(reject_fraction=0.3, reject_status=CommandStatus.ESME_RTHROTTLED)
    async with service_behind(chaos, tmp_path, database_url) as (running, simulator):
        ids = [m["id"] for m in (await running.send(to=NUMBERS))["messages"]]
        messages = await wait_all_final(running, ids)

        assert {m["status"] for m in messages} == {"delivered"}
        assert simulator.stats.submits_rejected > 0  # the chaos did happen
        # Each message was taken exactly once: a refused submit is not a delivered one.
        assert simulator.stats.submits - simulator.stats.submits_rejected == len(NUMBERS)
        for number in NUMBERS:
            assert len(simulator.inbox(number)) == 1, number


async def test_temporary_errors_go_back_to_the_queue_and_are_retried(
    tmp_path: Path, database_url: str
) -> None:
    # ESME_RSYSERR is temporary but not throttling: the dispatcher, not the ESME client, retries.
    chaos = ChaosConfig(reject_fraction=0.3, reject_status=CommandStatus.ESME_RSYSERR)
    async with service_behind(chaos, tmp_path, database_url) as (running, simulator):
        dispatcher = running.service.dispatcher
        assert dispatcher is not None
        dispatcher.config.retry_initial = 0.05  # keep the backoff short for the test
        ids = [m["id"] for m in (await running.send(to=NUMBERS))["messages"]]
        messages = await wait_all_final(running, ids)

        assert {m["status"] for m in messages} == {"delivered"}
        assert simulator.stats.submits_rejected > 0
        assert simulator.stats.submits - simulator.stats.submits_rejected == len(NUMBERS)
        retried = [m for m in messages if m["attempts"] > 1]  # type: ignore[operator]
        assert retried
        detail = await running.message(str(retried[0]["id"]))
        statuses = [entry["status"] for entry in detail["history"]]
        assert statuses[:2] == ["queued", "queued"]
        assert statuses[-2:] == ["sent", "delivered"]
        assert "ESME_RSYSERR" in detail["history"][1]["detail"]
        assert detail["error_code"] is None  # delivered in the end: the old error is gone


async def test_a_permanent_submit_error_rejects_with_the_smpp_status(
    tmp_path: Path, database_url: str
) -> None:
    chaos = ChaosConfig(reject_fraction=1.0, reject_status=CommandStatus.ESME_RINVDSTADR)
    async with service_behind(chaos, tmp_path, database_url) as (running, simulator):
        message_id = await running.send_one("+358401234567")
        message = await running.wait_for(message_id)

        assert message["status"] == "rejected"
        assert message["error_code"] == "ESME_RINVDSTADR"
        assert message["attempts"] == 1
        assert [entry["status"] for entry in message["history"]] == ["queued", "rejected"]
        assert message["parts"] == []
        assert simulator.stats.submits == 1  # never retried
        assert simulator.inbox("+358401234567") == []
