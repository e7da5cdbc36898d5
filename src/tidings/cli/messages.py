"""``tidings messages``: look at messages and their history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tidings.cli.db import print_json, run_with_database
from tidings.config import Settings
from tidings.core import accounts, messaging
from tidings.core.lifecycle import MessageStatus
from tidings.store.engine import Database
from tidings.store.records import MessageRecord

app = typer.Typer(help="Messages: list and show.", no_args_is_help=True)


@app.command("list")
def list_(
    account: Annotated[str | None, typer.Option("--account", help="only this account")] = None,
    status: Annotated[list[MessageStatus] | None, typer.Option(help="only these statuses")] = None,
    to: Annotated[str | None, typer.Option("--to", help="only this recipient")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List messages, newest first."""

    async def operation(database: Database, settings: Settings) -> list[MessageRecord]:
        owner = None if account is None else await accounts.get_account(database, account)
        page, _ = await messaging.list_messages(
            database,
            owner,
            limit=limit,
            statuses=status or (),
            recipient=to,
            region=settings.default_region,
        )
        return page

    found = run_with_database(operation)
    if as_json:
        print_json(found)
        return
    table = Table("id", "created", "from", "to", "status", "parts", "text")
    for message in found:
        text = message.body if len(message.body) <= 40 else message.body[:39] + "…"
        table.add_row(
            message.id,
            message.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            message.sender,
            message.recipient,
            message.status,
            str(message.parts_count),
            text,
        )
    Console().print(table)


@app.command("show")
def show(
    message_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show one message: status, history and parts."""

    async def operation(database: Database, settings: Settings) -> messaging.MessageDetail:
        return await messaging.get_message(database, None, message_id)

    detail = run_with_database(operation)
    if as_json:
        print_json(detail)
        return
    message = detail.message
    console = Console(highlight=False)
    console.print(f"[bold]{message.id}[/bold]  {message.sender} → {message.recipient}")
    parts_text = f"{message.encoding}, {message.parts_count} part(s)"
    console.print(f"status: [bold]{message.status}[/bold]  ({parts_text})")
    if message.error_code:
        console.print(f"error: {message.error_code} {message.error_detail or ''}")
    console.print(f"text: {message.body}")
    history = Table("at", "status", "detail", title="history")
    for event in detail.history:
        history.add_row(event.at.isoformat(), event.status, event.detail or "")
    console.print(history)
    if detail.parts:
        parts = Table("seq", "status", "smsc id", "error", title="parts")
        for part in detail.parts:
            parts.add_row(
                str(part.seq), part.status, part.smsc_message_id or "", part.error_code or ""
            )
        console.print(parts)
