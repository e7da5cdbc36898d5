"""``tidings config``: apply a file of routes and senders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidings.cli.db import run_with_database
from tidings.cli.output import OutputFormat, OutputOption, print_json, say
from tidings.config import Settings
from tidings.core.config_file import AppliedConfig, apply_config, load_config_file
from tidings.dispatch.transports import default_transports
from tidings.store.engine import Database

app = typer.Typer(help="Configuration files of routes and senders.", no_args_is_help=True)


@app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="TOML file with [[routes]] and [[senders]]")],
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create or update the routes and senders a file names; nothing else is removed."""

    async def operation(database: Database, settings: Settings) -> AppliedConfig:
        return await apply_config(database, default_transports(), load_config_file(file))

    applied = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json(
            {
                "routes_created": applied.routes_created,
                "routes_updated": applied.routes_updated,
                "senders_added": applied.senders_added,
                "senders_updated": applied.senders_updated,
            }
        )
        return
    for label, names in (
        ("routes created", applied.routes_created),
        ("routes updated", applied.routes_updated),
        ("senders added", applied.senders_added),
        ("senders updated", applied.senders_updated),
    ):
        say(f"{label}: {', '.join(names) if names else '-'}")
