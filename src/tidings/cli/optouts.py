"""``tidings opt-outs``: numbers that asked not to get messages (STOP), added by hand or
removed when a person asks again."""

from __future__ import annotations

from typing import Annotated

import typer

from tidings.cli.client import AccountOption, UrlOption, connect
from tidings.cli.output import (
    OutputFormat,
    OutputOption,
    print_json,
    print_listing,
    say,
    short_time,
)

app = typer.Typer(
    help="Opt-outs: numbers that replied STOP (or were added), never sent to unless forced.",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    phone: Annotated[str | None, typer.Option(help="only this number")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 100,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List opt-outs, newest first."""
    with connect(url) as client:
        entries = client.get("/v1/opt-outs", phone=phone, limit=limit, account_id=account)["data"]
    print_listing(
        output,
        entries,
        ("id", "number", "for sender", "source", "created"),
        lambda e: (
            e["id"],
            e["phone"],
            e["sender"] or "all",
            e["source"],
            short_time(e["created_at"]),
        ),
        empty="no opt-outs",
    )


@app.command("add")
def add(
    phone: Annotated[str, typer.Argument(help="the number that opts out")],
    sender: Annotated[
        str | None, typer.Option(help="only for this number of ours (default: every sender)")
    ] = None,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Opt a number out, as if it had replied STOP."""
    body = {"phone": phone} if sender is None else {"phone": phone, "sender": sender}
    with connect(url) as client:
        entry = client.post("/v1/opt-outs", body, account_id=account)
    if output is OutputFormat.JSON:
        print_json(entry)
        return
    scope = f"sender {entry['sender']}" if entry["sender"] else "every sender"
    say(f"opted out {entry['phone']} from {scope} ({entry['id']})")


@app.command("remove")
def remove(
    entry_id: Annotated[str, typer.Argument(help="the opt-out's id (`tidings opt-outs list`)")],
    account: AccountOption = None,
    url: UrlOption = None,
) -> None:
    """Remove an opt-out: the number gets messages again."""
    with connect(url) as client:
        client.delete(f"/v1/opt-outs/{entry_id}", account_id=account)
    say(f"removed opt-out {entry_id}")
