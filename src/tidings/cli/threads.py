"""``tidings threads``: conversations between the account's numbers and each handset."""

from __future__ import annotations

from typing import Annotated

import typer

from tidings.cli.client import AccountOption, UrlOption, connect
from tidings.cli.output import (
    OutputFormat,
    OutputOption,
    print_json,
    print_listing,
    print_table,
    say,
    short_time,
)

app = typer.Typer(help="Threads: conversations with each number.", no_args_is_help=True)

ThreadArgument = Annotated[str, typer.Argument(help="the thread's id (`tidings threads list`)")]


@app.command("list")
def list_(
    number: Annotated[str | None, typer.Option(help="only for this number of ours")] = None,
    contact_number: Annotated[
        str | None, typer.Option("--with", help="only with this handset's number")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 20,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List threads, most recently active first."""
    with connect(url) as client:
        page = client.get(
            "/v1/threads",
            number=number,
            contact_number=contact_number,
            limit=limit,
            account_id=account,
        )
    print_listing(
        output,
        page["data"],
        ("id", "number", "with", "messages", "in", "last", "last text"),
        lambda t: (
            t["id"],
            t["number"],
            t["contact_number"],
            t["message_count"],
            t["inbound_count"],
            short_time(t["last_message_at"]),
            t["last_preview"],
        ),
        empty="no threads",
    )


@app.command("show")
def show(
    thread_id: ThreadArgument,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show a thread's messages in order, both directions."""
    with connect(url) as client:
        thread = client.get(f"/v1/threads/{thread_id}", account_id=account)
    if output is OutputFormat.JSON:
        print_json(thread)
        return
    say(f"thread [bold]{thread['id']}[/bold]: {thread['number']} ↔ {thread['contact_number']}")
    print_table(
        ("at", "direction", "id", "status", "text"),
        (
            (short_time(m["created_at"]), m["direction"], m["id"], m["status"], m["body"])
            for m in thread["messages"]
        ),
        empty="no messages",
    )


@app.command("reply")
def reply(
    thread_id: ThreadArgument,
    text: Annotated[str, typer.Argument(help="the message text")],
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Send a message into a thread (from our number, to the handset)."""
    from tidings.cli.send import recipient_error

    with connect(url) as client:
        accepted = client.post(f"/v1/threads/{thread_id}/reply", {"body": text}, account_id=account)
    if output is OutputFormat.JSON:
        print_json(accepted)
        return
    outcome = accepted["messages"][0]
    if outcome.get("id") is None:
        from tidings.cli.exits import CliError

        raise CliError(recipient_error(outcome))
    say(f"accepted {outcome['id']} → {outcome['address']}")
