"""``tidings routes``: connections to carriers, each of a transport kind (SMPP to an SMSC...)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from tidings.cli.db import run_with_database
from tidings.cli.output import OutputFormat, OutputOption, print_json, print_table, say
from tidings.config import Settings
from tidings.core import routing
from tidings.dispatch.transport import AnyTransport
from tidings.dispatch.transports import default_transports
from tidings.dispatch.transports.smpp_settings import BindMode, ConcatMethod, DefaultEncoding
from tidings.store.engine import Database
from tidings.store.records import RouteRecord

app = typer.Typer(
    help="Routes: connections to carriers (SMPP to an SMSC, and the other kinds).",
    no_args_is_help=True,
)


def _public(route: RouteRecord) -> dict[str, Any]:
    # Secrets (the bind password...) are write-only: never printed.
    return {
        "id": route.id,
        "name": route.name,
        "kind": route.kind,
        "settings": dict(route.settings),
        "channels": sorted(route.channels),
        "default_for": sorted(route.default_for),
        "created_at": route.created_at,
        "updated_at": route.updated_at,
    }


def _target(route: RouteRecord) -> str:
    """Where a route connects to, in a few characters."""
    settings = route.settings
    if "host" in settings:
        who = f"{settings['system_id']}@" if settings.get("system_id") else ""
        return f"{who}{settings['host']}:{settings.get('port', '')}"
    return str(settings.get("url", ""))


def _parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value that reads as JSON (a number, true, null, a list) is that."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="--set")
        try:
            parsed[key] = json.loads(raw)
        except ValueError:
            parsed[key] = raw
    return parsed


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="a setting of the route's kind, key=value (repeatable)"),
]
ChannelOption = Annotated[
    list[str] | None,
    typer.Option("--channel", help="a channel it carries (repeatable; default: all its kind can)"),
]


@app.command("add")
def add(
    name: str,
    kind: Annotated[str, typer.Option(help="the transport (tidings routes kinds)")] = "smpp",
    host: Annotated[str | None, typer.Option(help="SMPP: SMSC host")] = None,
    port: Annotated[int | None, typer.Option(help="SMPP: SMSC port")] = None,
    system_id: Annotated[str | None, typer.Option(help="SMPP: bind system_id")] = None,
    password: Annotated[str | None, typer.Option(help="SMPP: bind password")] = None,
    system_type: Annotated[str | None, typer.Option(help="SMPP: bind system_type")] = None,
    bind_mode: Annotated[
        BindMode | None, typer.Option(help="SMPP: one trx bind or tx+rx pairs")
    ] = None,
    binds: Annotated[int | None, typer.Option(help="SMPP: number of binds")] = None,
    window: Annotated[
        int | None, typer.Option(help="SMPP: unacknowledged submits per bind")
    ] = None,
    max_tps: Annotated[int | None, typer.Option(help="SMPP: submits per second")] = None,
    source_ton: Annotated[
        int | None, typer.Option(help="SMPP: source TON (default: by sender)")
    ] = (None),
    source_npi: Annotated[
        int | None, typer.Option(help="SMPP: source NPI (default: by sender)")
    ] = (None),
    destination_ton: Annotated[int | None, typer.Option(help="SMPP: destination TON")] = None,
    destination_npi: Annotated[int | None, typer.Option(help="SMPP: destination NPI")] = None,
    concat: Annotated[ConcatMethod | None, typer.Option(help="SMPP: concatenation method")] = None,
    encoding: Annotated[DefaultEncoding | None, typer.Option(help="SMPP: default encoding")] = None,
    receipts: Annotated[
        bool | None, typer.Option("--receipts/--no-receipts", help="SMPP: request receipts")
    ] = None,
    settings: SetOption = None,
    channel: ChannelOption = None,
    default: Annotated[
        bool, typer.Option("--default", help="make it the default route of its channels")
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Add a route. SMPP settings have their own options; any kind's settings go in --set."""
    smpp = {
        "host": host,
        "port": port,
        "system_id": system_id,
        "password": password,
        "system_type": system_type,
        "bind_mode": bind_mode,
        "binds": binds,
        "window": window,
        "max_tps": max_tps,
        "source_ton": source_ton,
        "source_npi": source_npi,
        "destination_ton": destination_ton,
        "destination_npi": destination_npi,
        "concat_method": concat,
        "default_encoding": encoding,
        "request_receipts": receipts,
    }
    given = {k: (v.value if hasattr(v, "value") else v) for k, v in smpp.items() if v is not None}
    if given and kind != routing.SMPP:
        options = ", ".join("--" + k.replace("_", "-") for k in given)
        raise typer.BadParameter(f"{options} are SMPP settings; use --set for a {kind} route")
    values = {**given, **_parse_settings(settings or [])}

    async def operation(database: Database, _: Settings) -> RouteRecord:
        return await routing.create_route(
            database,
            default_transports(),
            name=name,
            kind=kind,
            settings=values,
            channels=channel,
            is_default=default,
        )

    route = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json(_public(route))
    else:
        say(f"added {route.kind} route [bold]{route.name}[/bold] → {_target(route)}")


@app.command("update")
def update(
    name: str,
    settings: SetOption = None,
    channel: ChannelOption = None,
    rename: Annotated[str | None, typer.Option(help="a new name")] = None,
    default: Annotated[
        bool, typer.Option("--default", help="make it the default route of its channels")
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Change a route's settings (--set key=value; key=null resets one), channels or name."""
    changes = _parse_settings(settings or [])

    async def operation(database: Database, _: Settings) -> RouteRecord:
        return await routing.update_route(
            database,
            default_transports(),
            name,
            new_name=rename,
            settings=changes or None,
            channels=channel,
            is_default=True if default else None,
        )

    route = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json(_public(route))
    else:
        say(f"updated route [bold]{route.name}[/bold]")


@app.command("list")
def list_(output: OutputOption = OutputFormat.TABLE) -> None:
    """List routes."""

    async def operation(database: Database, _: Settings) -> list[RouteRecord]:
        return await routing.list_routes(database)

    found = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json([_public(route) for route in found])
        return
    print_table(
        ("name", "kind", "target", "channels", "default for"),
        (
            (
                route.name,
                route.kind,
                _target(route),
                ", ".join(sorted(route.channels)),
                ", ".join(sorted(route.default_for)),
            )
            for route in found
        ),
        empty="no routes",
    )


@app.command("kinds")
def kinds(output: OutputOption = OutputFormat.TABLE) -> None:
    """The kinds of route this installation can run, and their settings (* required)."""
    found = default_transports().transports()
    if output is OutputFormat.JSON:
        print_json(
            [
                {
                    "kind": t.kind,
                    "channels": sorted(t.channels),
                    "settings_schema": t.settings_model.model_json_schema(),
                }
                for t in found
            ]
        )
        return

    def described(transport: type[AnyTransport]) -> str:
        model = transport.settings_model
        secret = model.secret_fields()
        return ", ".join(
            name + ("*" if field.is_required() else "") + (" (secret)" if name in secret else "")
            for name, field in model.model_fields.items()
        )

    print_table(
        ("kind", "channels", "settings"),
        ((t.kind, ", ".join(sorted(t.channels)), described(t)) for t in found),
        shortened=("settings",),
    )


@app.command("remove")
def remove(name: str) -> None:
    """Remove a route (not one that is a channel's default while others carry it, nor one that
    senders use)."""

    async def operation(database: Database, _: Settings) -> None:
        await routing.remove_route(database, name)

    run_with_database(operation)
    say(f"removed route {name}")
