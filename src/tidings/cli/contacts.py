"""``tidings contacts``: import contacts from CSV (with a progress bar) and export them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tidings.cli.db import run_with_database
from tidings.cli.exits import ExitCode
from tidings.cli.output import OutputFormat, OutputOption, error_console, print_json
from tidings.config import Settings
from tidings.core import accounts, contacts, lists
from tidings.core.contacts import DuplicatePolicy, ImportReport
from tidings.errors import InvalidRequest
from tidings.store.engine import Database
from tidings.store.records import AccountRecord

app = typer.Typer(help="Contacts: CSV import and export.", no_args_is_help=True)

_READ_BYTES = 1 << 20
_SHOWN_ERRORS = 20


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    file = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, _READ_BYTES):
            yield chunk
    finally:
        file.close()


async def _the_account(database: Database, account_id: str | None) -> AccountRecord:
    """The account given, or the only account there is."""
    if account_id is not None:
        return await accounts.get_account(database, account_id)
    found = await accounts.list_accounts(database)
    if len(found) != 1:
        raise InvalidRequest(
            f"there are {len(found)} accounts: choose one with --account", field="account"
        )
    return found[0]


async def run_import(
    database: Database,
    path: Path,
    *,
    account_id: str | None,
    list_name: str | None,
    on_duplicate: DuplicatePolicy,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``path`` into the account (and the list called ``list_name``, made if missing)."""
    account = await _the_account(database, account_id)
    list_id = None
    if list_name is not None:
        list_id = (await lists.ensure_list(database, account, list_name)).id
    size = (await asyncio.to_thread(path.stat)).st_size
    task = None if progress is None else progress.add_task(path.name, total=size)

    def advance(consumed: int) -> None:
        if progress is not None and task is not None:
            progress.update(task, completed=size if consumed < 0 else consumed)

    return await contacts.import_contacts_csv(
        database,
        account,
        _file_chunks(path),
        list_id=list_id,
        on_duplicate=on_duplicate,
        on_progress=advance,
    )


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="a UTF-8 CSV file")
    ],
    list_name: Annotated[
        str | None, typer.Option("--list", help="also put the contacts in this list (made if new)")
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="account id (needed when there are several)")
    ] = None,
    on_duplicate: Annotated[
        DuplicatePolicy, typer.Option(help="for a phone that is already a contact")
    ] = DuplicatePolicy.SKIP,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Import contacts from a CSV file whose first row names the columns.

    Rows that fail are listed (row, column, reason) and the others are stored; the exit code
    is 1 when any row failed.
    """
    console = error_console()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=output is OutputFormat.JSON or not console.is_terminal,
    )

    async def operation(database: Database, settings: Settings) -> ImportReport:
        with progress:
            return await run_import(
                database,
                file,
                account_id=account,
                list_name=list_name,
                on_duplicate=on_duplicate,
                progress=progress,
            )

    report = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json(report)
    else:
        out = Console(highlight=False)
        out.print(
            f"{report.rows} rows: {report.created} created, {report.updated} updated, "
            f"{report.skipped} skipped, {report.failed} failed"
            + (f"; {report.added_to_list} added to {list_name}" if list_name else "")
        )
        for error in report.errors[:_SHOWN_ERRORS]:
            where = f" {error.field}" if error.field else ""
            out.print(f"  row {error.row}{where}: {error.reason}")
        hidden = len(report.errors) - _SHOWN_ERRORS
        if hidden > 0 or report.errors_truncated:
            out.print(f"  … and more (use -o json for {len(report.errors)} reported errors)")
    if report.failed:
        raise typer.Exit(ExitCode.ERROR)


@app.command("export")
def export(
    output: Annotated[
        Path | None, typer.Argument(dir_okay=False, help="file to write (default: stdout)")
    ] = None,
    list_name: Annotated[str | None, typer.Option("--list", help="only this list's")] = None,
    account: Annotated[str | None, typer.Option("--account", help="account id")] = None,
) -> None:
    """Export contacts as CSV (the columns that import reads back)."""

    async def operation(database: Database, settings: Settings) -> int:
        owner = await _the_account(database, account)
        list_id = None
        if list_name is not None:
            list_id = (await lists.find_list_by_name(database, owner, list_name)).id
        pages = await contacts.export_contacts_csv(database, owner, list_id=list_id)
        written = 0
        target = sys.stdout.buffer if output is None else output.open("wb")
        try:
            async for chunk in pages:
                target.write(chunk)
                written += len(chunk)
        finally:
            if output is not None:
                target.close()
            else:
                target.flush()
        return written

    run_with_database(operation)
