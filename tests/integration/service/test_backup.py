"""``tidings db backup`` during a burst, ``tidings db restore`` into a fresh data directory:
every message answered before the backup started is in the restored database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.dispatch.conftest import running_service, service_settings
from tidings.store.engine import Database
from tidings.store.migrate import upgrade
from tidings.store.models import messages

pytestmark = pytest.mark.once

REQUESTS = 40
PER_REQUEST = 50


def tidings(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIDINGS_DATA_DIR": str(data_dir)}
    env.pop("TIDINGS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tidings.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


async def test_a_backup_taken_during_a_burst_restores_every_acknowledged_message(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    settings = service_settings(
        tmp_path, f"sqlite+aiosqlite:///{data / 'tidings.db'}", data_dir=data
    )
    data.mkdir()
    acknowledged: list[str] = []
    backup = tmp_path / "backup.db"
    async with running_service(settings) as running:

        async def burst(start: int) -> None:
            for n in range(start, REQUESTS, 4):
                to = [f"+35840{n:03d}{k:04d}" for k in range(PER_REQUEST)]
                answer = await running.http.post(
                    "/v1/messages", json={"to": to, "from": "Tidings", "body": f"burst {n}"}
                )
                assert answer.status_code == 202, answer.text
                acknowledged.extend(m["id"] for m in answer.json()["messages"])
                if len(acknowledged) >= REQUESTS * PER_REQUEST // 3:
                    a_third.set()

        a_third = asyncio.Event()
        senders = [asyncio.create_task(burst(k)) for k in range(4)]
        await asyncio.wait_for(a_third.wait(), 120)
        before_backup = list(acknowledged)
        made = await asyncio.to_thread(tidings, "db", "backup", str(backup), data_dir=data)
        await asyncio.gather(*senders)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "backed up" in made.stdout
    # The burst went on while the backup was made: it holds a moment in the middle.
    assert len(acknowledged) == REQUESTS * PER_REQUEST

    fresh = tmp_path / "fresh"
    restored = tidings("db", "restore", str(backup), data_dir=fresh)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    again = tidings("db", "restore", str(backup), data_dir=fresh)
    assert again.returncode == 1 and "--replace" in again.stdout + again.stderr

    database = Database.from_url(f"sqlite+aiosqlite:///{fresh / 'tidings.db'}")
    try:
        await upgrade(database)
        async with database.read() as connection:
            ids = set((await connection.execute(select(messages.c.id))).scalars())
    finally:
        await database.close()
    assert set(before_backup) <= ids
    assert len(ids) <= REQUESTS * PER_REQUEST


def test_postgresql_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TIDINGS_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tidings.cli", "db", "backup", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    assert "pg_dump" in result.stdout + result.stderr
