"""``tidings migrate`` and what every database command shares: settings, errors, output."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

import typer
from rich.console import Console

from tidings.config import Settings
from tidings.errors import TidingsError
from tidings.store.engine import Database
from tidings.store.migrate import current_revision, upgrade

T = TypeVar("T")


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2


def run_with_database(operation: Callable[[Database, Settings], Awaitable[T]]) -> T:
    """Run ``operation`` on a migrated database from the environment's settings.

    Routes are left as they are: only ``serve`` sets up the simulator's route, and only the route
    commands change routes.

    Domain errors become one line on stderr and exit code 1.
    """
    settings = Settings()

    async def main() -> T:
        database = Database.from_url(
            settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
        )
        try:
            await upgrade(database)
            return await operation(database, settings)
        finally:
            await database.close()

    try:
        return asyncio.run(main())
    except TidingsError as error:
        Console(stderr=True).print(f"[red]error:[/red] {error.message}", highlight=False)
        raise typer.Exit(ExitCode.ERROR) from None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    typer.echo(json.dumps(_plain(value), indent=2))


def migrate() -> None:
    """Create or upgrade the database schema."""

    async def operation(database: Database, settings: Settings) -> str | None:
        return await current_revision(database)

    revision = run_with_database(operation)
    Console().print(f"database at revision [bold]{revision}[/bold]", highlight=False)
