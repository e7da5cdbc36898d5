"""Two dispatcher processes share one PostgreSQL database and one SMSC: every message is sent
exactly once, none is lost, and both take a share of the work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.integration.dispatch.conftest import eventually
from tests.ports import free_port
from tidings.config import Settings
from tidings.core import accounts, messaging
from tidings.core.setup import prepare_database
from tidings.dispatch.transports import default_transports
from tidings.store.engine import Database
from tidings.store.models import message_parts, messages

COUNT = 5000
NUMBERS = [f"+35840{1_000_000 + n}" for n in range(COUNT)]
LOGS = ("simulator", "dispatcher-1", "dispatcher-2")


@contextmanager
def process(args: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A tidings process of its own, stopped (by its PID) when the block ends."""
    with log.open("wb") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tidings.cli", *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several dispatchers need PostgreSQL; SQLite runs one dispatcher")
    db = Database.from_url(database_url)
    try:
        yield db
    finally:
        await db.close()


async def test_two_dispatchers_send_every_message_exactly_once(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    smpp_port, control_port = free_port(), free_port()
    # Migrated and with its route before the dispatchers start, so they do not race to do it.
    await prepare_database(
        database,
        Settings(database_url=database_url, data_dir=tmp_path, simulator_port=smpp_port),
        default_transports(),
    )
    account = await accounts.create_account(database, "Acme", region="FI")
    env = {
        "TIDINGS_DATABASE_URL": database_url,
        "TIDINGS_SIMULATOR_PORT": str(smpp_port),
        "TIDINGS_DATA_DIR": str(tmp_path),
    }
    simulator_args = [
        "simulator",
        "serve",
        "--port",
        str(smpp_port),
        "--control-port",
        str(control_port),
        "--receipt-delay",
        "0.01",
        "--deliver-all",
    ]
    dispatcher_args = ["serve", "--role", "dispatcher", "--no-simulator"]
    with (
        process(simulator_args, tmp_path / "simulator.log", env) as simulator,
        process(dispatcher_args, tmp_path / "dispatcher-1.log", env) as first,
        process(dispatcher_args, tmp_path / "dispatcher-2.log", env) as second,
    ):
        procs = {"simulator": simulator, "dispatcher 1": first, "dispatcher 2": second}
        control = httpx.AsyncClient(base_url=f"http://127.0.0.1:{control_port}", timeout=30.0)
        async with control:

            def all_alive() -> None:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        log = (tmp_path / f"{name.replace(' ', '-')}.log").read_text()
                        pytest.fail(f"{name} exited with {proc.returncode}:\n{log}")

            async def stats() -> dict[str, int]:
                all_alive()
                try:
                    response = await control.get("/stats")
                except httpx.TransportError:
                    return {}
                result: dict[str, int] = response.json()
                return result

            async def both_bound() -> bool:
                return (await stats()).get("bound_connections") == 2

            await eventually(both_bound, "both dispatchers to bind to the simulator", 180.0)

            result = await messaging.accept_messages(
                database,
                account,
                messaging.SendRequest(to=NUMBERS, sender="Tidings", body="Hei maailma"),
                max_recipients=COUNT,
            )
            assert result.accepted == COUNT

            claimers: set[str] = set()

            async def all_delivered() -> bool:
                all_alive()
                async with database.read() as connection:
                    claimers.update(
                        row[0]
                        for row in await connection.execute(
                            select(messages.c.claimed_by)
                            .where(messages.c.claimed_by.is_not(None))
                            .distinct()
                        )
                    )
                    progress.clear()
                    progress.update(
                        (
                            await connection.execute(
                                select(messages.c.status, func.count()).group_by(messages.c.status)
                            )
                        ).all()
                    )
                return progress.get("delivered") == COUNT

            progress: dict[str, int] = {}
            try:
                await eventually(all_delivered, f"all {COUNT} messages to be delivered", 90.0)
            except pytest.fail.Exception:
                logs = {name: (tmp_path / f"{name}.log").read_text()[-3000:] for name in LOGS}
                pytest.fail(f"not all delivered: {progress}, SMSC {await stats()}, logs {logs}")

            # Both took a share: each claimed messages under its own dispatcher id.
            assert len(claimers) == 2, claimers
            async with database.read() as connection:
                statuses: dict[str, int] = dict(
                    (
                        await connection.execute(
                            select(messages.c.status, func.count()).group_by(messages.c.status)
                        )
                    ).all()
                )
                parts = (
                    await connection.execute(
                        select(
                            func.count(),
                            func.count(func.distinct(message_parts.c.message_id)),
                            func.count(func.distinct(message_parts.c.smsc_message_id)),
                        )
                    )
                ).one()
            assert statuses == {"delivered": COUNT}
            assert tuple(parts) == (COUNT, COUNT, COUNT)  # one part each, one SMSC id each

            # What the SMSC saw: one submit per message, one message on each handset.
            counters = await stats()
            assert counters["submits"] == COUNT
            assert counters["handsets"] == COUNT
            for number in NUMBERS[:: COUNT // 200]:
                inbox = (await control.get(f"/handsets/{number}")).json()["messages"]
                assert [m["text"] for m in inbox] == ["Hei maailma"], number

            async def receipts_settled() -> bool:
                return (await stats())["receipts_sent"] == COUNT

            await eventually(receipts_settled, "every receipt to be acknowledged")
            all_alive()
    for name, proc in procs.items():
        assert proc.returncode == 0, name  # each stopped cleanly on SIGTERM
