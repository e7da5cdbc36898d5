"""``tidings db backup|restore``: an online copy of the SQLite database, and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidings.cli.exits import CliError, ExitCode
from tidings.cli.output import say

app = typer.Typer(
    help="The database: back it up while the service runs, restore it.", no_args_is_help=True
)


def _sqlite_path() -> Path:
    from sqlalchemy.engine import make_url

    from tidings.config import Settings

    url = make_url(Settings().database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise CliError(
            "This database is not SQLite.",
            hint="back up PostgreSQL with pg_dump (docs/guide/backup.md)",
            code=ExitCode.ERROR,
        )
    return Path(url.database)


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="the backup to write (a new file)")],
) -> None:
    """Copy the SQLite database to FILE, consistently, while the service runs."""
    from tidings.store.backup import BackupError, backup_sqlite

    try:
        info = backup_sqlite(_sqlite_path(), file)
    except BackupError as error:
        raise CliError(error.message, code=ExitCode.ERROR) from None
    say(
        f"backed up {info.messages} messages ({info.size} bytes, schema {info.revision}) "
        f"to {info.path}"
    )


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="a backup made by `tidings db backup`")],
    replace: Annotated[
        bool,
        typer.Option("--replace", help="overwrite an existing database (stop the service first)"),
    ] = False,
) -> None:
    """Make the database (TIDINGS_DATA_DIR's) a copy of FILE; run `tidings migrate` or `serve`
    after it to bring an older schema up to date."""
    from tidings.store.backup import BackupError, restore_sqlite

    try:
        info = restore_sqlite(file, _sqlite_path(), replace=replace)
    except BackupError as error:
        raise CliError(error.message, code=ExitCode.ERROR) from None
    say(f"restored {info.messages} messages (schema {info.revision}) into {info.path}")
