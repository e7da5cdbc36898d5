"""Opt-out screening on the send path: one send to many recipients, some of them opted out.

    python bench/optout_screening.py [--recipients 10000] [--opted-out-share 0.05]
                                     [--database-url URL]

Opts a share of the numbers out, then times (a) storing the send through
``messaging.store_send`` (screening included) and (b) ``optout.screen_send`` alone, in a fresh
SQLite database (or the database at ``--database-url``, which should be empty). The last line
is one JSON object ``{"recipients", "opted_out", "store_seconds", "screen_seconds"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from tidings.config import Settings
from tidings.core import accounts, messaging, optout
from tidings.core.setup import prepare_database
from tidings.dispatch.transports import default_transports
from tidings.store.engine import Database
from tidings.store.optout import OPTED_OUT


async def run(
    database_url: str, data_dir: Path, recipients: int, share: float
) -> dict[str, object]:
    database = Database.from_url(database_url)
    try:
        await prepare_database(
            database, Settings(database_url=database_url, data_dir=data_dir), default_transports()
        )
        account = await accounts.create_account(database, "Bench", region="FI")
        numbers = [f"+35840{n:07d}" for n in range(recipients)]
        every = max(1, round(1 / share)) if share > 0 else 0
        opted = numbers[::every] if every else []
        for number in opted:
            await optout.add_suppression(database, account, OPTED_OUT, number)
        request = messaging.SendRequest(to=numbers, sender="Tidings", body="Hei")
        prepared = messaging.prepare_send(account, request)
        started = time.perf_counter()
        result = await messaging.store_send(database, prepared)
        store_seconds = time.perf_counter() - started
        assert result.rejected == len(opted)
        again = messaging.prepare_send(account, request)
        started = time.perf_counter()
        async with database.write() as connection:
            await optout.screen_send(connection, again)
        screen_seconds = time.perf_counter() - started
    finally:
        await database.close()
    return {
        "recipients": recipients,
        "opted_out": len(opted),
        "store_seconds": round(store_seconds, 3),
        "screen_seconds": round(screen_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--opted-out-share", type=float, default=0.05)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = options.database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
        figures = asyncio.run(
            run(url, Path(directory), options.recipients, options.opted_out_share)
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
