"""``tidings inbound``: messages handsets sent to the signed-in account's numbers."""

from __future__ import annotations

from typing import Annotated

import typer

from tidings.cli.client import AccountOption, UrlOption, connect
from tidings.cli.output import OutputFormat, OutputOption, print_json, print_table, short_time

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
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List inbound messages, newest first."""
    with connect(url) as client:
        page = client.get(
            "/v1/inbound",
            to=to,
            since=since,
            limit=limit,
            account_id=account,
            **({"from": sender} if sender else {}),
        )
    messages = page["data"]
    if output is OutputFormat.JSON:
        print_json(messages)
        return
    print_table(
        ("id", "received", "from", "to", "thread", "text"),
        (
            (m["id"], short_time(m["created_at"]), m["from"], m["to"], m["thread_id"], m["body"])
            for m in messages
        ),
        empty="no inbound messages",
    )
