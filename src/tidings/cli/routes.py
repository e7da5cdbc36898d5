"""``tidings routes``: SMPP connections to SMSCs."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any

import typer

from tidings.cli.db import run_with_database
from tidings.cli.output import OutputFormat, OutputOption, print_json, print_table, say
from tidings.config import Settings
from tidings.core import routing
from tidings.store.engine import Database
from tidings.store.records import RouteRecord

app = typer.Typer(help="Routes: SMPP connections to SMSCs.", no_args_is_help=True)


def _public(route: RouteRecord) -> dict[str, Any]:
    # The bind password is write-only: never printed.
    return {f.name: getattr(route, f.name) for f in fields(route) if f.name != "password"}


@app.command("add")
def add(
    name: str,
    host: Annotated[str, typer.Option(help="SMSC host")],
    port: Annotated[int, typer.Option(help="SMSC port")],
    system_id: Annotated[str, typer.Option(help="bind system_id")],
    password: Annotated[str, typer.Option(help="bind password")] = "",
    system_type: Annotated[str, typer.Option(help="bind system_type")] = "",
    bind_mode: Annotated[routing.BindMode, typer.Option(help="one trx bind or tx+rx pairs")] = (
        routing.BindMode.TRX
    ),
    binds: Annotated[int, typer.Option(help="number of binds")] = 1,
    window: Annotated[int, typer.Option(help="unacknowledged submits per bind")] = 10,
    max_tps: Annotated[int | None, typer.Option(help="submits per second (all binds)")] = None,
    source_ton: Annotated[int | None, typer.Option(help="source TON (default: by sender)")] = None,
    source_npi: Annotated[int | None, typer.Option(help="source NPI (default: by sender)")] = None,
    destination_ton: Annotated[int, typer.Option(help="destination TON")] = 1,
    destination_npi: Annotated[int, typer.Option(help="destination NPI")] = 1,
    concat: Annotated[routing.ConcatMethod, typer.Option(help="concatenation method")] = (
        routing.ConcatMethod.UDH8
    ),
    encoding: Annotated[routing.DefaultEncoding, typer.Option(help="default encoding")] = (
        routing.DefaultEncoding.AUTO
    ),
    receipts: Annotated[bool, typer.Option(help="request delivery receipts")] = True,
    default: Annotated[bool, typer.Option("--default", help="make it the default route")] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Add a route."""

    async def operation(database: Database, settings: Settings) -> RouteRecord:
        return await routing.create_route(
            database,
            name=name,
            host=host,
            port=port,
            system_id=system_id,
            password=password,
            system_type=system_type,
            bind_mode=bind_mode.value,
            binds=binds,
            window=window,
            max_tps=max_tps,
            source_ton=source_ton,
            source_npi=source_npi,
            destination_ton=destination_ton,
            destination_npi=destination_npi,
            concat_method=concat.value,
            default_encoding=encoding.value,
            request_receipts=receipts,
            is_default=default,
        )

    route = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json(_public(route))
    else:
        say(f"added route [bold]{route.name}[/bold] → {route.host}:{route.port}")


@app.command("list")
def list_(output: OutputOption = OutputFormat.TABLE) -> None:
    """List routes."""

    async def operation(database: Database, settings: Settings) -> list[RouteRecord]:
        return await routing.list_routes(database)

    found = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json([_public(route) for route in found])
        return
    print_table(
        ("name", "address", "system_id", "binds", "window", "max tps", "default"),
        (
            (
                route.name,
                f"{route.host}:{route.port}",
                route.system_id,
                f"{route.binds} {route.bind_mode}",
                route.window,
                route.max_tps,
                "yes" if route.is_default else "",
            )
            for route in found
        ),
        empty="no routes",
    )


@app.command("remove")
def remove(name: str) -> None:
    """Remove a route (not the default one, nor one that senders use)."""

    async def operation(database: Database, settings: Settings) -> None:
        await routing.remove_route(database, name)

    run_with_database(operation)
    say(f"removed route {name}")
