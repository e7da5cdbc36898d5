"""``tidings keys``: the signed-in account's API keys (the operator makes an account's first
key with ``tidings accounts key``)."""

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
    help="API keys of the signed-in account. A secret is shown once, when its key is created.",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List the account's keys, revoked ones too (never their secrets)."""
    with connect(url) as client:
        keys = client.get("/v1/account/keys", account_id=account)["keys"]
    print_listing(
        output,
        keys,
        ("key", "name", "created", "revoked"),
        lambda k: (k["id"], k["name"], short_time(k["created_at"]), short_time(k["revoked_at"])),
        empty="no keys",
    )


@app.command("create")
def create(
    name: Annotated[str | None, typer.Option(help="a label for the key")] = None,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create a key and print its secret (once)."""
    with connect(url) as client:
        created = client.post("/v1/account/keys", {"name": name}, account_id=account)
    if output is OutputFormat.JSON:
        print_json(created)
        return
    say(f"key id: [bold]{created['id']}[/bold]")
    say(f"secret: [bold]{created['secret']}[/bold]  (shown once; store it now)")


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (`tidings keys list`)")],
    account: AccountOption = None,
    url: UrlOption = None,
) -> None:
    """Revoke a key: requests made with it are refused from then on."""
    with connect(url) as client:
        client.delete(f"/v1/account/keys/{key_id}", account_id=account)
    say(f"revoked key {key_id}")
