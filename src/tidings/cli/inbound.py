"""``tidings inbound``: messages handsets sent to the signed-in account's numbers."""

from __future__ import annotations

from typing import Annotated

import typer

from tidings.cli.client import AccountOption, UrlOption, connect
from tidings.cli.output import (
    OutputFormat,
    OutputOption,
    print_listing,
    say,
    short_time,
)

app = typer.Typer(
    help="Inbound messages: what handsets sent to your numbers.", no_args_is_help=True
)


@app.command("list")
def list_(
    to: Annotated[str | None, typer.Option("--to", help="only to this number of ours")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="only from this handset")] = None,
    since: Annotated[
        str | None, typer.Option(help="received at or after (ISO 8601 with a zone)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 20,
    unrouted: Annotated[
        bool,
        typer.Option(
            "--unrouted", help="operators: those sent to numbers no account owns, to assign"
        ),
    ] = False,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List inbound messages, newest first."""
    if unrouted:
        _list_unrouted(to, limit, url, output)
        return
    with connect(url) as client:
        page = client.get(
            "/v1/inbound",
            to=to,
            since=since,
            limit=limit,
            account_id=account,
            **({"from": sender} if sender else {}),
        )
    print_listing(
        output,
        page["data"],
        ("id", "received", "from", "to", "thread", "text"),
        lambda m: (
            m["id"],
            short_time(m["created_at"]),
            m["from"],
            m["to"],
            m["thread_id"],
            m["body"],
        ),
        empty="no inbound messages",
    )


def _list_unrouted(to: str | None, limit: int, url: str | None, output: OutputFormat) -> None:
    with connect(url) as client:
        messages = client.get("/v1/inbound", unrouted="true", to=to, limit=limit)["data"]
    print_listing(
        output,
        messages,
        ("id", "received", "from", "to", "text"),
        lambda m: (m["id"], short_time(m["received_at"]), m["from"], m["to"], m["body"]),
        empty="no unrouted inbound messages",
    )


@app.command("assign")
def assign(
    message_ids: Annotated[list[str], typer.Argument(help="ids from `inbound list --unrouted`")],
    to_account: Annotated[str, typer.Option("--account", help="the account to receive them")],
    url: UrlOption = None,
) -> None:
    """Operators: give unrouted inbound messages to an account, which receives them as if they
    had just arrived. Register the number (`tidings senders add`) for the next ones."""
    with connect(url) as client:
        for message_id in message_ids:
            client.post(f"/v1/inbound/unrouted/{message_id}/assign", {"account_id": to_account})
            say(f"assigned {message_id} to account {to_account}")
