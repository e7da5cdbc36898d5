"""``tidings config``: apply a file of routes and senders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tidings.cli.db import print_json, run_with_database
from tidings.config import Settings
from tidings.core.config_file import AppliedConfig, apply_config, load_config_file
from tidings.store.engine import Database

app = typer.Typer(help="Configuration files of routes and senders.", no_args_is_help=True)


@app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="TOML file with [[routes]] and [[senders]]")],
    as_json: Annotated[bool, typer.Option("--json", help="print what changed as JSON")] = False,
) -> None:
    """Create or update the routes and senders a file names; nothing else is removed."""

    async def operation(database: Database, settings: Settings) -> AppliedConfig:
        return await apply_config(database, load_config_file(file))

    applied = run_with_database(operation)
    if as_json:
        print_json(
            {
                "routes_created": applied.routes_created,
                "routes_updated": applied.routes_updated,
                "senders_added": applied.senders_added,
                "senders_updated": applied.senders_updated,
            }
        )
        return
    console = Console()
    for label, names in (
        ("routes created", applied.routes_created),
        ("routes updated", applied.routes_updated),
        ("senders added", applied.senders_added),
        ("senders updated", applied.senders_updated),
    ):
        console.print(f"{label}: {', '.join(names) if names else '-'}")
