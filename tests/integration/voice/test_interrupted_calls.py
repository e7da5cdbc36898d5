"""Calls cut off by the end of the process that placed them: ``kill -9`` of ``tidings serve``
while one call rings and another is answered, then a restart. A call lives in its process's
memory only, so no report of its end will ever come: the restart makes both ``unknown``
(error code ``call-interrupted``) instead of leaving them ringing and answered for ever."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.integration.dispatch.conftest import eventually, running_service, service_settings
from tests.ports import free_port
from tidings.store.models import messages
from tidings.voice.tts import EspeakEngine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not EspeakEngine().available(), reason="espeak-ng is missing"),
]

RINGS_UNANSWERED = "+61411111112"  # the phone network's numbers ending in 2 ring unanswered
ANSWERS = "+61411111110"
# Long enough to be still playing when the process dies (about half a minute, played twice).
SPEECH = "Your table for two is booked for eight tonight, by the window, as you asked. " * 4
START_SECONDS = 180.0


class Serve:
    """``tidings serve`` in a process of its own, which the test kills with SIGKILL."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tidings.cli", "serve", "--port", str(self.port)),
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

        async def listening() -> bool:
            assert self.process is not None
            if self.process.returncode is not None:
                pytest.fail(f"tidings serve exited with {self.process.returncode}")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return True
            return False

        await eventually(listening, "tidings serve to listen", timeout=START_SECONDS)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(60):
                    await self.process.wait()
            except TimeoutError:
                await self.kill()


@pytest.fixture
async def serve(tmp_path: Path, database_url: str) -> AsyncIterator[Serve]:
    if database_url.startswith("postgresql"):
        # Several dispatchers may share it: a restart cannot tell their calls from its own,
        # and settles only those whose lease ran out (see the test below).
        pytest.skip("on PostgreSQL a restart settles calls once their lease runs out")
    env = {
        **os.environ,
        "TIDINGS_DATA_DIR": str(tmp_path),
        "TIDINGS_DATABASE_URL": database_url,
        "TIDINGS_SIMULATOR_PORT": str(free_port()),
        "TIDINGS_SIMULATOR_CONTROL_PORT": str(free_port()),
        "TIDINGS_RATE_LIMIT": "100000/60 seconds",
    }
    service = Serve(env, free_port())
    try:
        yield service
    finally:
        await service.stop()


async def _message(http: httpx.AsyncClient, message_id: str) -> dict[str, Any]:
    response = await http.get(f"/v1/messages/{message_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _wait_for(http: httpx.AsyncClient, message_id: str, status: str) -> dict[str, Any]:
    message: dict[str, Any] = {}

    async def reached() -> bool:
        nonlocal message
        message = await _message(http, message_id)
        return message["status"] == status

    await eventually(reached, f"message {message_id} to be {status}", timeout=START_SECONDS)
    return message


async def test_calls_cut_by_a_crash_become_unknown_at_the_restart(
    serve: Serve, tmp_path: Path
) -> None:
    await serve.start()
    secret = json.loads((tmp_path / "demo-credentials.json").read_text())["secret"]
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{serve.port}",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30.0,
    ) as http:
        ids = {}
        for to in (RINGS_UNANSWERED, ANSWERS):
            sent = await http.post(
                "/v1/messages",
                json={"to": to, "from": "Tidings", "body": SPEECH, "channel": "voice"},
            )
            assert sent.status_code == 202, sent.text
            ids[to] = sent.json()["messages"][0]["id"]
        await _wait_for(http, ids[RINGS_UNANSWERED], "ringing")
        await _wait_for(http, ids[ANSWERS], "answered")
        await serve.kill()

        await serve.start()
        for to, cut_while in ((RINGS_UNANSWERED, "ringing"), (ANSWERS, "answered")):
            message = await _wait_for(http, ids[to], "unknown")
            assert message["error_code"] == "call-interrupted", message
            history = message["history"]
            assert [entry["status"] for entry in history][-2:] == [cut_while, "unknown"]
            assert "the service stopped during the call" in history[-1]["detail"]


async def test_a_call_under_way_is_leased_and_settled_only_once_its_lease_runs_out(
    tmp_path: Path, database_url: str
) -> None:
    """What another dispatcher sharing the database sees: a live call is left alone; once the
    process holding it stops renewing its lease, the call is settled ``unknown``."""
    async with running_service(service_settings(tmp_path, database_url)) as running:
        dispatcher = running.service.dispatcher
        assert dispatcher is not None
        config = dispatcher.config
        message_id = await running.send_one(RINGS_UNANSWERED, channel="voice", body=SPEECH)
        await running.wait_for(message_id, {"ringing"})

        async def leased() -> bool:
            async with running.service.database.read() as connection:
                holder = await connection.scalar(
                    select(messages.c.claimed_by).where(messages.c.id == message_id)
                )
            return bool(holder == config.dispatcher_id)

        await eventually(leased, "the ringing call to be held under the dispatcher's lease")
        now = datetime.now(UTC)
        placed_before = now - config.call_deadline
        assert await dispatcher.settle_interrupted_calls(now, started_before=placed_before) == 0
        # Once the lease has run out unrenewed (its process is gone), the call is settled.
        later = now + config.lease + timedelta(seconds=1)
        assert await dispatcher.settle_interrupted_calls(later, started_before=placed_before) == 1
        message = await running.wait_for(message_id, {"unknown"})
        assert message["error_code"] == "call-interrupted"
