"""``tidings accounts``: create and list accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from tidings.cli.db import run_with_database
from tidings.cli.output import OutputFormat, OutputOption, print_json, print_table, say
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
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create an account (a sub-account with --parent); `tidings accounts key` gives it a key."""

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
    if output is OutputFormat.JSON:
        print_json(account)
    else:
        say(f"created account [bold]{account.id}[/bold] ({escape(account.name)})")


@app.command("list")
def list_(output: OutputOption = OutputFormat.TABLE) -> None:
    """List all accounts."""

    async def operation(database: Database, settings: Settings) -> list[AccountRecord]:
        return await accounts.list_accounts(database)

    found = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json(found)
        return
    print_table(
        ("id", "name", "parent", "region", "status"),
        ((a.id, a.name, a.parent_id, a.region, a.status) for a in found),
        empty="no accounts",
    )


@app.command("key")
def key(
    account_id: Annotated[str, typer.Argument(help="the account's id")],
    name: Annotated[str | None, typer.Option(help="a label for the key")] = None,
    operator: Annotated[
        bool,
        typer.Option(
            "--operator", help="an operator key: manages routes, accounts and unrouted inbound"
        ),
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create an API key for any account and print its secret (once): an account's first key,
    or an operator key.

    With a key, `tidings login` signs the CLI in, and `tidings keys` manages the others.
    """
    role = accounts.Role.OPERATOR if operator else accounts.Role.TENANT

    async def operation(database: Database, settings: Settings) -> accounts.CreatedKey:
        from tidings.core.secrets import secret_source

        return await accounts.create_api_key(
            database, account_id, name=name, role=role, secrets=secret_source(database, settings)
        )

    created = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json(
            {
                "id": created.key.id,
                "account_id": created.key.account_id,
                "name": created.key.name,
                "role": created.key.role,
                "secret": created.secret,
                "created_at": created.key.created_at,
            }
        )
        return
    say(f"key id: [bold]{created.key.id}[/bold]" + (" (operator)" if operator else ""))
    say(f"secret: [bold]{created.secret}[/bold]  (shown once; store it now)")
