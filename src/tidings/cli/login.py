"""``tidings login`` and ``tidings logout``: the service and API secret the CLI uses, saved in
the user's credentials file (see ``tidings.cli.credentials``)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from tidings.cli.client import ServiceClient, UrlOption
from tidings.cli.credentials import (
    SavedService,
    Target,
    find_target,
    forget,
    normalise_url,
    save_login,
)
from tidings.cli.exits import CliError, ExitCode
from tidings.cli.output import say

login_app = typer.Typer()
logout_app = typer.Typer()

SECRET_PREFIX = "tdk_"


def _key_id(secret: str) -> str | None:
    """``tdk_<key id>_<random>`` → the key id."""
    parts = secret.split("_")
    return parts[1] if len(parts) == 3 and parts[0] + "_" == SECRET_PREFIX else None


@login_app.command("login")
def login(
    url: UrlOption = None,
    secret_stdin: Annotated[
        bool,
        typer.Option(
            "--secret-stdin", help="read the secret from standard input instead of a prompt"
        ),
    ] = False,
) -> None:
    """Sign the CLI in to a service: check the API secret, then save it with the URL in the
    user's credentials file (mode 0600). The service becomes the default.

    The secret is asked for without echo, or read from TIDINGS_API_SECRET or --secret-stdin.
    """
    target = find_target(url)
    secret = os.environ.get("TIDINGS_API_SECRET", "").strip()
    if secret_stdin:
        secret = sys.stdin.readline().strip()
    elif not secret:
        secret = typer.prompt(f"API secret for {target.url}", hide_input=True).strip()
    if not secret:
        raise CliError("No API secret given.", code=ExitCode.USAGE)
    checked = Target(target.url, target.url_from, secret, "what you gave")
    with ServiceClient(checked) as client:
        account = client.get("/v1/account")
    path = save_login(
        SavedService(
            url=target.url, secret=secret, key_id=_key_id(secret), account_id=account["id"]
        )
    )
    say(f"signed in to {target.url} as account {account['name']} ({account['id']})")
    say(f"saved in {path}")


@logout_app.command("logout")
def logout(url: UrlOption = None) -> None:
    """Forget the saved secret of a service (the default one unless --url is given)."""
    target = find_target(url)
    resolved = normalise_url(url) if url else target.url
    if not forget(resolved):
        raise CliError(f"No saved credentials for {resolved}.", code=ExitCode.NOT_FOUND)
    say(f"forgot {resolved}")
