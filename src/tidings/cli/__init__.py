"""The ``tidings`` command line.

To add a command: write ``tidings/cli/<name>.py`` with a ``typer.Typer`` called ``app`` (a
group is made with ``help=`` and ``no_args_is_help=True`` and has ``@app.command()``s; a single
command is ``typer.Typer()`` with one ``@app.command()``), importing heavy modules
(``tidings.core``, ``tidings.api``, SQLAlchemy) inside the functions, then add one line to
``COMMANDS``. ``docs/cli.md`` says how commands print, fail and exit.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Annotated

import typer

from tidings import __version__
from tidings.cli.group import TRACEBACK_FLAG, LazyCommand, group_class

SERVICE = "Using the service (over HTTP: --url, TIDINGS_URL, `tidings login`)"
OPERATOR = "Operating (on the database: TIDINGS_DATABASE_URL, TIDINGS_DATA_DIR)"
RUNNING = "Running"

# name → where its Typer app lives, the line `tidings --help` shows, and its help panel.
COMMANDS = MappingProxyType(
    {
        "login": LazyCommand(
            "tidings.cli.login:login_app", "Save the service's URL and an API secret.", SERVICE
        ),
        "logout": LazyCommand(
            "tidings.cli.login:logout_app", "Forget a saved service and its secret.", SERVICE
        ),
        "send": LazyCommand(
            "tidings.cli.send:app",
            "Send an SMS, MMS, call, WhatsApp, fax or letter and follow it.",
            SERVICE,
        ),
        "messages": LazyCommand(
            "tidings.cli.messages:app", "Messages: list, show and cancel.", SERVICE
        ),
        "inbound": LazyCommand(
            "tidings.cli.inbound:app", "Messages received from handsets.", SERVICE
        ),
        "threads": LazyCommand(
            "tidings.cli.threads:app", "Conversations with each number.", SERVICE
        ),
        "opt-outs": LazyCommand(
            "tidings.cli.optouts:app", "Numbers that opted out (STOP): list, add, remove.", SERVICE
        ),
        "webhooks": LazyCommand(
            "tidings.cli.webhooks:app",
            "Webhook subscriptions, their deliveries and replays.",
            SERVICE,
        ),
        "keys": LazyCommand("tidings.cli.keys:app", "API keys: list, create, revoke.", SERVICE),
        "serve": LazyCommand(
            "tidings.cli.serve:app",
            "Run the service: HTTP API, dispatcher and the embedded SMSC simulator.",
            RUNNING,
        ),
        "simulator": LazyCommand(
            "tidings.cli.simulator:app", "The embedded SMSC simulator.", RUNNING
        ),
        "migrate": LazyCommand(
            "tidings.cli.db:migrate_app", "Create or upgrade the database schema.", OPERATOR
        ),
        "db": LazyCommand(
            "tidings.cli.backup:app", "Back up the database while it runs; restore it.", OPERATOR
        ),
        "accounts": LazyCommand(
            "tidings.cli.accounts:app", "Accounts (tenants) and sub-accounts.", OPERATOR
        ),
        "routes": LazyCommand(
            "tidings.cli.routes:app",
            "Routes to carriers: SMPP, MM7, SIP, fax, post, WhatsApp.",
            OPERATOR,
        ),
        "senders": LazyCommand(
            "tidings.cli.senders:app", "Registered senders (numbers and names).", OPERATOR
        ),
        "config": LazyCommand(
            "tidings.cli.config:app", "Configuration files of routes and senders.", OPERATOR
        ),
        "contacts": LazyCommand(
            "tidings.cli.contacts:app", "Contacts: CSV import and export.", OPERATOR
        ),
        "users": LazyCommand(
            "tidings.cli.users:app", "Web console users (e-mail, password, role).", OPERATOR
        ),
        "connectors": LazyCommand(
            "tidings.cli.connectors:app",
            "Power Automate custom connectors for the provider dialects.",
            OPERATOR,
        ),
    }
)

app = typer.Typer(
    name="tidings",
    help="Self-hosted business messaging: SMS, MMS, voice, WhatsApp, fax and post.",
    epilog="Exit codes: see docs/cli.md (0 ok, 1 refused or failed, 2 usage, "
    "3 unreachable, 4 credentials, 5 not found, 6 port in use, 7 still pending, "
    "70 fault in tidings, 130 interrupted).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=group_class(COMMANDS),
    rich_markup_mode=None,
)


@app.callback()
def root(
    traceback: Annotated[
        bool,
        typer.Option(
            TRACEBACK_FLAG,
            help="on an unexpected error, print its traceback (anywhere on the line)",
        ),
    ] = False,
) -> None:
    """Self-hosted business messaging: SMS, MMS, voice, WhatsApp, fax and post."""


@app.command(rich_help_panel=RUNNING)
def version() -> None:
    """Print the tidings version."""
    typer.echo(__version__)


def main() -> None:
    app()
