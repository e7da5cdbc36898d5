"""A running service whose account owns a long code, with a contact and a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
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
from tidings.core import contacts, routing

LONG_CODE = "+358409999999"
HANDSET = "+358401112223"


@dataclass
class Conversation:
    running: Running
    sink: Sink
    contact_id: str

    async def inbound(self, text: str, sender: str = HANDSET, to: str = LONG_CODE) -> None:
        simulator = self.running.service.simulator
        assert simulator is not None
        # Returns once the dispatcher acknowledged it, which it does once it is stored.
        assert await simulator.inject_inbound(sender, to, text, timeout=30) >= 1

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.running.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def handset_texts(self, number: str, count: int) -> list[tuple[str, str]]:
        """The (from, text) of the first ``count`` messages the handset got, once it has them."""
        simulator = self.running.service.simulator
        assert simulator is not None

        async def arrived() -> bool:
            return len(simulator.inbox(number)) >= count

        await eventually(arrived, f"{count} messages at handset {number}")
        return [(m.sender, m.text) for m in simulator.inbox(number)]


@pytest.fixture
async def conversation(tmp_path: Path, database_url: str) -> AsyncIterator[Conversation]:
    settings = service_settings(
        tmp_path, database_url, webhook_allow_loopback=True, outbox_poll_seconds=0.05
    )
    sink = Sink()
    await sink.start()
    try:
        async with running_service(settings) as running:
            database = running.service.database
            await routing.add_sender(database, running.account, LONG_CODE)
            contact = await contacts.create_contact(
                database, running.account, {"phone": HANDSET, "first_name": "Aino"}
            )
            yield Conversation(running, sink, contact.id)
    finally:
        await sink.stop()


__all__ = ["app", "client", "conversation", "make_tenant", "settings"]
