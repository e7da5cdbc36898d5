"""Idle and half-finished connections cannot take the service down.

The service runs as its own process with ``nofile`` at 400, as when 450 idle connections to
the simulator's port once made /healthz and sends fail. Now each listener admits connections
below the file limit, an idle one makes room for a new one, and deadlines close what never
finishes a request or a bind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.dispatch.conftest import eventually
from tests.ports import free_port
from tidings.net.admission import default_limits
from tidings.smpp.codec import encode
from tidings.smpp.pdu import BindTransmitter

pytestmark = pytest.mark.once

FILE_LIMIT = 400
HELD = 450  # per port: more than a process with FILE_LIMIT files could hold at once


@dataclass(frozen=True)
class Ports:
    http: int
    smpp: int
    control: int


def _low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


@contextlib.contextmanager
def service_process(tmp_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "service.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tidings.cli", "serve"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        preexec_fn=_low_file_limit,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@dataclass
class Running:
    ports: Ports
    http: httpx.AsyncClient
    tmp_path: Path


@contextlib.asynccontextmanager
async def started(tmp_path: Path, database_url: str, **settings: str) -> AsyncIterator[Running]:
    """``tidings serve`` with ``settings`` (TIDINGS_<NAME>), called as its demo account."""
    ports = Ports(free_port(), free_port(), free_port())
    env = {
        "TIDINGS_DATA_DIR": str(tmp_path),
        "TIDINGS_DATABASE_URL": database_url,
        "TIDINGS_HTTP_PORT": str(ports.http),
        "TIDINGS_SIMULATOR_PORT": str(ports.smpp),
        "TIDINGS_SIMULATOR_CONTROL_PORT": str(ports.control),
        **{f"TIDINGS_{name.upper()}": value for name, value in settings.items()},
    }
    with service_process(tmp_path, env) as proc:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{ports.http}", timeout=30.0
        ) as http:

            async def ready() -> bool:
                if proc.poll() is not None:
                    pytest.fail((tmp_path / "service.log").read_text())
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get("/healthz")).status_code == 200
                return False

            await eventually(ready, "the service to start", 180.0)
            credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
            http.headers["Authorization"] = f"Bearer {credentials['secret']}"
            yield Running(ports, http, tmp_path)


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    # One process of its own on SQLite: the suite's PostgreSQL schema fixture is not needed here.
    return f"sqlite+aiosqlite:///{tmp_path / 'tidings.db'}"


class Held:
    """Connections the test holds open against one port, each stuck somewhere."""

    def __init__(self) -> None:
        self.streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def open(self, port: int, count: int, stuck: list[bytes]) -> None:
        for n in range(count):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue  # the listener's backlog was full for a moment: refused is fine too
            if stuck[n % len(stuck)]:
                writer.write(stuck[n % len(stuck)])
            self.streams.append((reader, writer))

    async def still_open(self) -> int:
        """How many the server has not closed (a closed one reads EOF or a reset)."""
        count = 0
        for reader, _ in self.streams:
            try:
                data = await asyncio.wait_for(reader.read(1), 0.001)
            except TimeoutError:
                count += 1
                continue
            except ConnectionError:
                continue
            if data:
                count += 1  # an answer on a connection still open
        return count

    def close(self) -> None:
        for _, writer in self.streams:
            writer.transport.abort()


HTTP_STUCK = [
    b"",  # idle: never a byte
    b"GET /healthz HTTP/1.1\r\nHost: tidings\r\n",  # half-sent headers
    b"POST /v1/messages HTTP/1.1\r\nHost: tidings\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n{",  # a short body
]
# A bind_transmitter cut short, and a connection that never sends anything.
SMPP_STUCK = [b"", encode(BindTransmitter(system_id="idle", password="x"))[:10]]


async def _bind(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(encode(BindTransmitter(sequence_number=1, system_id="tidings", password="x")))
        header = await asyncio.wait_for(reader.readexactly(16), 30)
        return int.from_bytes(header[8:12], "big")
    finally:
        writer.close()


async def test_the_service_answers_while_more_idle_connections_than_its_limit_are_held(
    tmp_path: Path, database_url: str
) -> None:
    long_deadlines = {
        "http_header_timeout_seconds": "600",
        "http_body_timeout_seconds": "600",
        "smpp_bind_timeout_seconds": "600",
    }
    held = {name: Held() for name in ("http", "smpp", "control")}
    async with started(tmp_path, database_url, **long_deadlines) as running:
        try:
            await _exercise(running, held)
        finally:
            for connections in held.values():
                connections.close()


async def _exercise(running: Running, held: dict[str, Held]) -> None:
    """While the connections are held: the API, a send, the control API and a new bind."""
    await held["http"].open(running.ports.http, HELD, HTTP_STUCK)
    await held["control"].open(running.ports.control, HELD, HTTP_STUCK)
    await held["smpp"].open(running.ports.smpp, HELD, SMPP_STUCK)

    assert (await running.http.get("/healthz")).status_code == 200
    sent = await running.http.post(
        "/v1/messages", json={"to": "+358401234567", "from": "Tidings", "body": "still here"}
    )
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["messages"][0]["id"]

    async def delivered() -> bool:
        answer = await running.http.get(f"/v1/messages/{message_id}")
        return answer.json()["status"] == "delivered"

    await eventually(delivered, "the message to be delivered", 60.0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.ports.control}") as c:
        assert (await c.get("/healthz")).status_code == 200
    assert await _bind(running.ports.smpp) == 0  # a new ESME still binds

    # The server kept no more than its limits (derived from its file limit).
    assert await held["http"].still_open() <= default_limits(0.5, files=FILE_LIMIT).max_total
    assert await held["smpp"].still_open() <= default_limits(0.25, files=FILE_LIMIT).max_total


async def test_connections_that_never_finish_are_closed(tmp_path: Path, database_url: str) -> None:
    short_deadlines = {
        "http_header_timeout_seconds": "1",
        "http_body_timeout_seconds": "1",
        "http_keepalive_seconds": "1",
        "smpp_bind_timeout_seconds": "1",
    }
    http, smpp = Held(), Held()
    async with started(tmp_path, database_url, **short_deadlines) as running:
        await http.open(running.ports.http, 30, HTTP_STUCK)
        await smpp.open(running.ports.smpp, 30, SMPP_STUCK)

        async def all_closed() -> bool:
            return await http.still_open() == 0 and await smpp.still_open() == 0

        await eventually(all_closed, "the server to close every stuck connection", 30.0)
        # A keep-alive connection left idle after its answer is closed too.
        reader, writer = await asyncio.open_connection("127.0.0.1", running.ports.http)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: tidings\r\n\r\n")
        assert b"200 OK" in await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        await asyncio.wait_for(reader.read(), 30)  # returns at EOF
        writer.close()
        http.close()
        smpp.close()
