"""The ``tidings`` command line."""

from __future__ import annotations

import typer

from tidings import __version__
from tidings.cli import simulator

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


app.add_typer(simulator.app, name="simulator")


def main() -> None:
    app()
