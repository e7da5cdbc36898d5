"""``tidings messages``: list, show and cancel the signed-in account's messages."""

from __future__ import annotations

from typing import Annotated, Any

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
from tidings.cli.send import outcome_line
from tidings.lifecycle import MessageStatus

app = typer.Typer(help="Messages: list, show and cancel.", no_args_is_help=True)

_TEXT_WIDTH = 40


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TEXT_WIDTH else text[: _TEXT_WIDTH - 1] + "…"


@app.command("list")
def list_(
    status: Annotated[
        list[MessageStatus] | None, typer.Option("--status", help="only these (repeatable)")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="only to this number")] = None,
    since: Annotated[
        str | None, typer.Option(help="created at or after (ISO 8601 with a zone)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 20,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List messages, newest first."""
    with connect(url) as client:
        page = client.get(
            "/v1/messages",
            status=[s.value for s in status or ()],
            recipient=to,
            since=since,
            limit=limit,
            account_id=account,
        )
    messages: list[dict[str, Any]] = page["data"]
    print_listing(
        output,
        messages,
        ("id", "created", "from", "to", "status", "parts", "error", "text"),
        lambda m: (
            m["id"],
            short_time(m["created_at"]),
            m["from"],
            m["to"],
            m["status"],
            m["parts_count"],
            m.get("error_detail") or m.get("error_code"),
            _excerpt(m["body"]),
        ),
        empty="no messages",
    )


@app.command("show")
def show(
    message_id: Annotated[str, typer.Argument(help="the message's id")],
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show one message: its status, history and parts."""
    from rich.markup import escape

    with connect(url) as client:
        message = client.get(f"/v1/messages/{message_id}", account_id=account)
    if output is OutputFormat.JSON:
        print_json(message)
        return
    say(f"[bold]{message['id']}[/bold]  {escape(message['from'])} → {escape(message['to'])}")
    say(
        f"status: [bold]{escape(outcome_line(message))}[/bold]  "
        f"({message['encoding']}, {message['parts_count']} part(s))"
    )
    if message.get("send_at"):
        say(f"send at: {message['send_at']}")
    if message.get("subject"):
        say(f"subject: {escape(message['subject'])}")
    say(f"text: {escape(message['body'])}")
    if message.get("media"):
        # The signed link in full: it is how the file is fetched (no API key needed).
        print_table(
            ("name", "type", "bytes", "link"),
            (
                (m.get("name"), m["content_type"], m.get("size"), m.get("url"))
                for m in message["media"]
            ),
            title="media",
        )
    print_table(
        ("at", "status", "detail"),
        ((e["at"], e["status"], e.get("detail")) for e in message["history"]),
        title="history",
    )
    if message["parts"]:
        print_table(
            ("seq", "status", "smsc id", "error"),
            (
                (p["seq"], p["status"], p.get("smsc_message_id"), p.get("error_code"))
                for p in message["parts"]
            ),
            title="parts",
        )


@app.command("cancel")
def cancel(
    message_id: Annotated[str, typer.Argument(help="the message's id")],
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Cancel a message that is queued or scheduled (not yet handed to a carrier)."""
    with connect(url) as client:
        message = client.post(f"/v1/messages/{message_id}/cancel", account_id=account)
    if output is OutputFormat.JSON:
        print_json(message)
    else:
        say(f"cancelled {message['id']}")
