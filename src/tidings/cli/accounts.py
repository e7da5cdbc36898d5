"""``tidings accounts``: create and list accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tidings.cli.db import print_json, run_with_database
from tidings.config import Settings
from tidings.core import accounts
from tidings.store.engine import Database
from tidings.store.records import AccountRecord

app = typer.Typer(help="Accounts (tenants) and sub-accounts.", no_args_is_help=True)


@app.command("create")
def create(
    name: str,
    region: Annotated[
        str | None, typer.Option(help="region for local numbers, e.g. FI (default from settings)")
    ] = None,
    parent: Annotated[str | None, typer.Option(help="parent account id")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone")] = "UTC",
    rate_limit: Annotated[
        str | None, typer.Option(help="API request rate, e.g. '200/60 seconds'")
    ] = None,
    registered_senders_only: Annotated[
        bool, typer.Option(help="send only from this account's registered senders")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the account as JSON")] = False,
) -> None:
    """Create an account (a sub-account with --parent)."""

    async def operation(database: Database, settings: Settings) -> AccountRecord:
        return await accounts.create_account(
            database,
            name,
            region=region or settings.default_region,
            timezone=timezone,
            parent_id=parent,
            rate_limit=rate_limit,
            restrict_to_registered_senders=registered_senders_only,
        )

    account = run_with_database(operation)
    if as_json:
        print_json(account)
    else:
        Console().print(f"created account [bold]{account.id}[/bold] ({account.name})")


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List all accounts."""

    async def operation(database: Database, settings: Settings) -> list[AccountRecord]:
        return await accounts.list_accounts(database)

    found = run_with_database(operation)
    if as_json:
        print_json(found)
        return
    table = Table("id", "name", "parent", "region", "status")
    for account in found:
        table.add_row(
            account.id, account.name, account.parent_id or "", account.region, account.status
        )
    Console().print(table)
