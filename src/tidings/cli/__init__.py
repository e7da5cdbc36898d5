"""The ``tidings`` command line."""

from __future__ import annotations

import typer

from tidings import __version__
from tidings.cli import (
    accounts,
    config,
    connectors,
    contacts,
    db,
    keys,
    messages,
    routes,
    senders,
    serve,
    simulator,
    users,
)

app = typer.Typer(
    name="tidings",
    help="Self-hosted business messaging over SMPP 3.4.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root() -> None:
    """Self-hosted business messaging over SMPP 3.4."""


@app.command()
def version() -> None:
    """Print the tidings version."""
    typer.echo(__version__)


app.command("migrate")(db.migrate)
app.command("serve")(serve.serve)
app.command("send")(serve.send)
app.add_typer(accounts.app, name="accounts")
app.add_typer(keys.app, name="keys")
app.add_typer(routes.app, name="routes")
app.add_typer(config.app, name="config")
app.add_typer(senders.app, name="senders")
app.add_typer(messages.app, name="messages")
app.add_typer(contacts.app, name="contacts")
app.add_typer(simulator.app, name="simulator")
app.add_typer(connectors.app, name="connectors")
app.add_typer(users.app, name="users")


def main() -> None:
    app()
