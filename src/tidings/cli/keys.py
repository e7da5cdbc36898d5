"""``tidings keys``: create and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tidings.cli.db import print_json, run_with_database
from tidings.config import Settings
from tidings.core import accounts
from tidings.store.engine import Database

app = typer.Typer(
    help="API keys. A secret is shown once, when its key is created.", no_args_is_help=True
)


@app.command("create")
def create(
    account: Annotated[str, typer.Option("--account", help="account id")],
    name: Annotated[str | None, typer.Option(help="a label for the key")] = None,
    operator: Annotated[
        bool,
        typer.Option(
            "--operator", help="an operator key: manages routes, accounts and unrouted inbound"
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the key as JSON")] = False,
) -> None:
    """Create an API key for an account and print its secret (once)."""
    role = accounts.Role.OPERATOR if operator else accounts.Role.TENANT

    async def operation(database: Database, settings: Settings) -> accounts.CreatedKey:
        return await accounts.create_api_key(database, account, name=name, role=role)

    created = run_with_database(operation)
    key = created.key
    if as_json:
        print_json(
            {
                "id": key.id,
                "account_id": key.account_id,
                "name": key.name,
                "role": key.role,
                "secret": created.secret,
                "created_at": key.created_at,
            }
        )
        return
    console = Console(highlight=False)
    console.print(f"key id: [bold]{key.id}[/bold]" + (" (operator)" if operator else ""))
    console.print(f"secret: [bold]{created.secret}[/bold]  (shown once; store it now)")


@app.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke an API key (takes effect within the service's auth cache time)."""

    async def operation(database: Database, settings: Settings) -> None:
        await accounts.revoke_api_key(database, key_id)

    run_with_database(operation)
    Console().print(f"revoked key {key_id}")
