"""``tidings migrate``, and how operator commands open the database: settings from the
environment, the schema migrated, and a database that cannot be opened said in one line."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer

from tidings.cli.exits import CliError, ExitCode
from tidings.cli.output import say
from tidings.config import Settings
from tidings.store.engine import Database
from tidings.store.migrate import current_revision, upgrade

T = TypeVar("T")


def _unreachable(settings: Settings, error: Exception) -> CliError:
    from sqlalchemy.engine import make_url

    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    reason = getattr(error, "orig", None) or error
    return CliError(
        f"Cannot open the database {shown}: {reason}.",
        hint="operator commands open the database directly: set TIDINGS_DATABASE_URL "
        "(or TIDINGS_DATA_DIR for SQLite) as the service has them",
        code=ExitCode.UNREACHABLE,
    )


def _refuse_a_stray_database(settings: Settings) -> None:
    """Refuse to make a new, empty SQLite database in ``./var`` of whatever directory the
    command was run from: that is never the service's (whose data the operator meant), and
    the command would seem to work on nothing."""
    from sqlalchemy.engine import make_url

    if os.environ.get("TIDINGS_DATABASE_URL") or os.environ.get("TIDINGS_DATA_DIR"):
        return
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return
    path = Path(url.database)
    if not path.exists():
        raise CliError(
            f"No tidings database at {path.absolute()}.",
            hint="operator commands open the service's database: run them where you run "
            "`make run`, or set TIDINGS_DATA_DIR (SQLite) or TIDINGS_DATABASE_URL as the service "
            "has them; `tidings migrate` makes a new database",
            code=ExitCode.UNREACHABLE,
        )


def run_with_database(
    operation: Callable[[Database, Settings], Awaitable[T]], *, create: bool = False
) -> T:
    """Run ``operation`` on a migrated database from the environment's settings (the default
    SQLite database is made only when ``create``).

    Routes are left as they are: only ``serve`` sets up the simulator's route, and only the route
    commands change routes. Domain errors propagate; the root command prints them as one line
    with their exit code.
    """
    from sqlalchemy.exc import InterfaceError, OperationalError

    settings = Settings()
    if not create:
        _refuse_a_stray_database(settings)

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
    except (OperationalError, InterfaceError, ConnectionError) as error:
        # The driver could not connect, or the file cannot be opened or locked.
        raise _unreachable(settings, error) from None


migrate_app = typer.Typer()


@migrate_app.command("migrate")
def migrate() -> None:
    """Create or upgrade the database schema."""

    async def operation(database: Database, settings: Settings) -> str | None:
        return await current_revision(database)

    revision = run_with_database(operation, create=True)
    say(f"database at revision [bold]{revision}[/bold]")
