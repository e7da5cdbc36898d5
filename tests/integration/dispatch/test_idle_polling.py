"""An idle service looks for due messages ever less often, and still sends a new one at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.dispatch.conftest import Running
from tidings.dispatch import dispatcher as dispatcher_module
from tidings.lifecycle import MessageStatus

DELIVERABLE = "+358401234567"


async def test_an_idle_dispatcher_polls_ever_less_often_and_a_new_message_still_goes_at_once(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = running.service.dispatcher
    assert dispatcher is not None
    if dispatcher.config.shared_database:
        pytest.skip("dispatchers sharing a PostgreSQL database keep polling at the first interval")
    polls = 0
    looked_up = dispatcher_module.store.any_due

    async def counted(*args: Any, **kwargs: Any) -> bool:
        nonlocal polls
        # Scheduled messages are looked for once a second, idle or not; queued ones are polled.
        if kwargs["status"] is MessageStatus.QUEUED:
            polls += 1
        return await looked_up(*args, **kwargs)

    monkeypatch.setattr(dispatcher_module.store, "any_due", counted)
    config = dispatcher.config
    # Long enough for the waits to grow to the idle interval: at the first interval alone it
    # would be about sixty polls; growing, about ten. A slower machine only polls less.
    idle_for = 3.0
    await asyncio.sleep(idle_for)
    assert polls <= idle_for / config.idle_poll_interval + 8, polls

    # The accepted message announces itself: it is not left for the next idle poll.
    message_id = await running.send_one(DELIVERABLE)
    message = await running.wait_for(message_id)
    assert message["status"] == "delivered"
