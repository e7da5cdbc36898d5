"""A running service (API, dispatcher, simulator, outbox worker) whose webhooks may go to a real
receiver on 127.0.0.1, with helpers to inject inbound messages and read handset inboxes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.integration.events.sink import Sink
from tests.integration.service.conftest import app, client, make_tenant, settings
from tidings.core import routing
from tidings.simulator import Simulator
from tidings.simulator.inbox import HandsetMessage

__all__ = ["app", "client", "make_tenant", "settings"]

LONG_CODE = "+358409999999"
OTHER_CODE = "+358408888888"
HANDSET = "+358401112223"


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    receiver = Sink()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(
        tmp_path,
        database_url,
        webhook_allow_loopback=True,
        outbox_poll_seconds=0.05,
        webhook_backoff_base_seconds=0.05,
        webhook_backoff_cap_seconds=0.2,
    )
    async with running_service(settings) as started:
        await routing.add_sender(started.service.database, started.account, LONG_CODE)
        await routing.add_sender(started.service.database, started.account, OTHER_CODE)
        yield started


def simulator_of(running: Running) -> Simulator:
    simulator = running.service.simulator
    assert simulator is not None
    return simulator


async def inject(
    running: Running, text: str, *, to: str = LONG_CODE, sender: str = HANDSET
) -> None:
    # Returns once the service acknowledged it, which it does once it is stored and processed.
    await simulator_of(running).inject_inbound(sender, to, text, timeout=30)


async def inbox_message(
    running: Running, text: str, *, handset: str = HANDSET, sender: str = LONG_CODE
) -> HandsetMessage:
    """The message with ``text`` from ``sender`` once it reaches the handset's inbox."""
    found: list[HandsetMessage] = []

    async def arrived() -> bool:
        found[:] = [
            m
            for m in simulator_of(running).inbox(handset)
            if m.text == text and m.sender.lstrip("+") == sender.lstrip("+")
        ]
        return bool(found)

    await eventually(arrived, f"{text!r} in the inbox of {handset}")
    return found[0]


async def subscribe(running: Running, sink: Sink, *events: str) -> None:
    response = await running.http.post(
        "/v1/webhooks", json={"url": f"{sink.url}/hook", "events": list(events)}
    )
    assert response.status_code == 201, response.text


async def webhook_events(sink: Sink, event_type: str, count: int = 1) -> list[dict[str, Any]]:
    """The first ``count`` webhook deliveries of ``event_type`` once they arrived."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        bodies = [json.loads(r.body) for r in sink.received if r.target == "/hook"]
        found[:] = [b for b in bodies if b["type"] == event_type]
        return len(found) >= count

    await eventually(arrived, f"{count} {event_type} webhook(s)")
    return found


async def settle(running: Running, handset: str = HANDSET) -> None:
    """Wait until a marker sent now has reached the handset: auto-replies queued before it
    (in the transaction of an inbound message already acknowledged) have had their turn."""
    message_id = await running.send_one(handset, **{"from": LONG_CODE}, body="marker")
    await running.wait_for(message_id)
    await inbox_message(running, "marker", handset=handset)
