"""Campaign start: a campaign to a 100,000-contact list, against a running service + simulator.

    python bench/campaign_start.py [--contacts 100000] [--database-url URL] [--no-wait]

Imports ``contacts`` contacts into a list through the CLI's import path (the CSV of
``bench/contacts_import.py``), into a fresh SQLite database (or, with ``--database-url``, a fresh
schema on that PostgreSQL server, dropped afterwards). Then starts a simulator and the service
(``tidings serve --no-simulator``) in their own processes, creates a campaign to the list over
HTTP and watches its counts: the time until the first message is sent, until the whole
campaign is queued (its last page written), and, unless ``--no-wait``, until it is completed.
The last line is one JSON object ``{"contacts", "first_sent_s", "queued_s", "completed_s"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from contacts_import import write_csv
from processes import free_port, running, service_environment, tidings
from tidings.cli.contacts import run_import
from tidings.config import Settings
from tidings.core import accounts
from tidings.core.contacts import DuplicatePolicy
from tidings.core.setup import prepare_database
from tidings.dispatch.transports import default_transports
from tidings.store.engine import Database, create_engine


async def prepare(url: str, workdir: Path, contacts: int) -> str:
    """The secret of an account whose list "Everyone" has ``contacts`` members."""
    source = workdir / "contacts.csv"
    write_csv(source, contacts, 0.2)
    database = Database.from_url(url)
    try:
        await prepare_database(
            database, Settings(data_dir=workdir, database_url=url), default_transports()
        )
        account = await accounts.create_account(
            database, "Bench", region="FI", rate_limit="1000000/1 second"
        )
        key = await accounts.create_api_key(database, account.id)
        started = time.perf_counter()
        report = await run_import(
            database,
            source,
            account_id=account.id,
            list_name="Everyone",
            on_duplicate=DuplicatePolicy.SKIP,
        )
        print(f"imported {report.created:,} contacts in {time.perf_counter() - started:.1f} s")
        if report.added_to_list != contacts:
            raise SystemExit(f"unexpected import report: {report}")
        return key.secret
    finally:
        await database.close()


async def watch(base: str, secret: str, wait: bool) -> dict[str, float | None]:
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        [everyone] = (await client.get("/v1/lists", params={"name": "Everyone"})).json()["data"]
        list_id = everyone["id"]
        started = time.perf_counter()
        created = await client.post(
            "/v1/campaigns",
            json={
                "name": "Bench",
                "from": "Tidings",
                "body": "Hi {first_name}, the winter sale starts today.",
                "lists": [list_id],
            },
        )
        if created.status_code != 201:
            raise SystemExit(f"campaign refused: {created.status_code} {created.text[:300]}")
        campaign_id = created.json()["id"]
        figures: dict[str, float | None] = {
            "first_sent_s": None,
            "queued_s": None,
            "completed_s": None,
        }
        while True:
            found = (await client.get(f"/v1/campaigns/{campaign_id}")).json()
            elapsed = time.perf_counter() - started
            counts = found["counts"]
            if figures["first_sent_s"] is None and counts["sent"] + counts["delivered"] > 0:
                figures["first_sent_s"] = elapsed
                print(f"first message sent after {elapsed:.2f} s")
            if figures["queued_s"] is None and found["expanded_at"] is not None:
                figures["queued_s"] = elapsed
                print(f"all {counts['targets']:,} queued after {elapsed:.2f} s")
            if found["status"] == "completed":
                figures["completed_s"] = elapsed
                print(f"completed after {elapsed:.2f} s: {counts}")
                return figures
            if figures["queued_s"] is not None and figures["first_sent_s"] and not wait:
                return figures
            if elapsed > 1800:
                raise SystemExit(f"not completed after {elapsed:.0f} s: {found}")
            await asyncio.sleep(0.05 if figures["first_sent_s"] is None else 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--no-wait", action="store_true", help="stop once everything is queued")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tidings-bench-") as tmp:
        workdir = Path(tmp)
        schema = None
        if args.database_url is None:
            url = f"sqlite+aiosqlite:///{workdir / 'tidings.db'}"
        else:
            schema = f"bench_{secrets.token_hex(6)}"
            url = (
                make_url(args.database_url)
                .update_query_dict({"search_path": schema})
                .render_as_string(hide_password=False)
            )
            asyncio.run(_schema(args.database_url, f'CREATE SCHEMA "{schema}"'))
        try:
            secret = asyncio.run(prepare(url, workdir, args.contacts))
            http_port, smpp_port = free_port(), free_port()
            env = service_environment(workdir, smpp_port, url, TIDINGS_HTTP_PORT=str(http_port))
            simulator = tidings(
                "simulator", "serve", "--port", str(smpp_port), "--no-control", "--deliver-all"
            )
            print(f"cpus={os.cpu_count()} contacts={args.contacts} database={url.split(':')[0]}")
            with (
                running(simulator, env, smpp_port, "simulator"),
                running(tidings("serve", "--no-simulator"), env, http_port, "service"),
            ):
                figures = asyncio.run(
                    watch(f"http://127.0.0.1:{http_port}", secret, not args.no_wait)
                )
        finally:
            if schema is not None:
                asyncio.run(_schema(args.database_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    print(
        json.dumps(
            {
                "contacts": args.contacts,
                **{k: None if v is None else round(v, 3) for k, v in figures.items()},
            }
        )
    )


async def _schema(server_url: str, statement: str) -> None:
    admin = create_engine(server_url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


if __name__ == "__main__":
    main()
