"""CSV contact import: ``tidings contacts import FILE --list NAME`` on a generated file.

    python bench/contacts_import.py [--rows 100000] [--database-url URL] [--local-share 0.2]

Writes a CSV of ``rows`` contacts (E.164 numbers, a share of them in local form, names, email,
city, alpha-3 country, one custom column) to a temporary directory and imports it into a list
through the code path of the CLI command, into a fresh SQLite database (or, with
``--database-url``, a fresh schema on that PostgreSQL server, dropped afterwards). Only the
import is timed. The last line is one JSON object ``{"rows", "seconds", "rows_per_s"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from tidings.cli.contacts import run_import
from tidings.config import Settings
from tidings.core import accounts
from tidings.core.contacts import DuplicatePolicy
from tidings.core.setup import prepare_database
from tidings.dispatch.transports import default_transports
from tidings.store.engine import Database, create_engine

CITIES = ("Helsinki", "Espoo", "Tampere", "Turku", "Oulu", "Vaasa")


def write_csv(path: Path, rows: int, local_share: float) -> None:
    local_every = max(1, round(1 / local_share)) if local_share > 0 else 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["phone", "first_name", "last_name", "email", "city", "country", "loyalty"])
        for index in range(rows):
            subscriber = f"{1_000_000 + index:07d}"
            phone = (
                f"040 {subscriber}"
                if local_every and index % local_every == 0
                else f"+35840{subscriber}"
            )
            writer.writerow(
                [
                    phone,
                    f"First{index}",
                    f"Last{index % 977}",
                    f"person{index}@example.com",
                    CITIES[index % len(CITIES)],
                    "FIN",
                    "gold" if index % 10 == 0 else "",
                ]
            )


async def run(rows: int, database_url: str | None, local_share: float, workdir: Path) -> float:
    source = workdir / "contacts.csv"
    write_csv(source, rows, local_share)
    schema = None
    admin = None
    if database_url is None:
        url = f"sqlite+aiosqlite:///{workdir / 'tidings.db'}"
    else:
        schema = f"bench_{secrets.token_hex(6)}"
        admin = create_engine(database_url)
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = (
            make_url(database_url)
            .update_query_dict({"search_path": schema})
            .render_as_string(hide_password=False)
        )
    database = Database.from_url(url)
    try:
        await prepare_database(
            database, Settings(data_dir=workdir, database_url=url), default_transports()
        )
        account = await accounts.create_account(database, "Bench", region="FI")
        started = time.perf_counter()
        report = await run_import(
            database,
            source,
            account_id=account.id,
            list_name="Everyone",
            on_duplicate=DuplicatePolicy.SKIP,
        )
        seconds = time.perf_counter() - started
        if report.created != rows or report.failed or report.added_to_list != rows:
            raise SystemExit(f"unexpected import report: {report}")
        return seconds
    finally:
        await database.close()
        if admin is not None:
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--local-share", type=float, default=0.2, help="share of local numbers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        seconds = asyncio.run(run(args.rows, args.database_url, args.local_share, Path(directory)))
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"imported {args.rows} rows into {backend} in {seconds:.2f} s")
    print(f"{args.rows / seconds:,.0f} rows/s")
    print(
        json.dumps(
            {
                "rows": args.rows,
                "seconds": round(seconds, 3),
                "rows_per_s": round(args.rows / seconds),
            }
        )
    )


if __name__ == "__main__":
    main()
