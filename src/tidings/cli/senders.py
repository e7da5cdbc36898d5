"""``tidings senders``: sender ids and numbers an account sends from."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from tidings.cli.db import run_with_database
from tidings.cli.output import OutputFormat, OutputOption, print_json, print_table, say
from tidings.config import Settings
from tidings.core import accounts, routing
from tidings.store.engine import Database

app = typer.Typer(
    help="Senders: alphanumeric ids, long codes and short codes.", no_args_is_help=True
)


def _plain(view: routing.SenderView) -> dict[str, Any]:
    sender = view.sender
    return {
        "id": sender.id,
        "account_id": sender.account_id,
        "address": sender.address,
        "kind": view.kind,
        "route": view.route_name,
        "default": sender.is_default,
        "created_at": sender.created_at,
    }


@app.command("add")
def add(
    address: str,
    account: Annotated[str, typer.Option("--account", help="owning account id")],
    route: Annotated[str | None, typer.Option(help="route name (default route if absent)")] = None,
    default: Annotated[
        bool, typer.Option("--default", help="send under it when a request names no sender")
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Register a sender for an account."""

    async def operation(database: Database, settings: Settings) -> routing.SenderView:
        owner = await accounts.get_account(database, account)
        return await routing.add_sender(database, owner, address, route_name=route, default=default)

    view = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json(_plain(view))
    else:
        say(
            f"added {view.kind} sender [bold]{escape(view.sender.address)}[/bold] "
            f"({view.sender.id}) on route {view.route_name or '(default)'}"
        )


@app.command("list")
def list_(
    account: Annotated[str | None, typer.Option("--account", help="only this account")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List senders."""

    async def operation(database: Database, settings: Settings) -> list[routing.SenderView]:
        return await routing.list_senders(database, account)

    found = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json([_plain(view) for view in found])
        return
    print_table(
        ("id", "address", "kind", "account", "route", "default"),
        (
            (
                v.sender.id,
                v.sender.address,
                v.kind,
                v.sender.account_id,
                v.route_name or "(default)",
                "yes" if v.sender.is_default else "",
            )
            for v in found
        ),
        empty="no senders",
    )


@app.command("remove")
def remove(
    sender_id: str,
    account: Annotated[str, typer.Option("--account", help="owning account id")],
) -> None:
    """Remove a sender."""

    async def operation(database: Database, settings: Settings) -> None:
        owner = await accounts.get_account(database, account)
        await routing.remove_sender(database, owner, sender_id)

    run_with_database(operation)
    say(f"removed sender {sender_id}")
