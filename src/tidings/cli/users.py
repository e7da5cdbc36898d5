"""``tidings users``: the web console's users (e-mail, password, role in an account)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from tidings.cli.db import run_with_database
from tidings.cli.output import OutputFormat, OutputOption, print_json, print_table, say
from tidings.config import Settings
from tidings.core import console_users
from tidings.core.console_users import ConsoleRole, ConsoleUser
from tidings.store.engine import Database

app = typer.Typer(
    help="Web console users. Passwords are stored as argon2 hashes; a generated one is shown once.",
    no_args_is_help=True,
)

_PASSWORD_HELP = "the password (10 characters or more); generated and shown once when absent"


def _as_json(user: ConsoleUser, password: str | None = None) -> dict[str, object]:
    shown: dict[str, object] = {
        "id": user.id,
        "account_id": user.account_id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "created_at": user.created_at,
        "last_sign_in_at": user.last_sign_in_at,
    }
    if password is not None:
        shown["password"] = password
    return shown


@app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="the e-mail address the user signs in with")],
    account: Annotated[str, typer.Option("--account", help="account id")],
    role: Annotated[
        ConsoleRole, typer.Option(help="operator, owner, admin or member", case_sensitive=False)
    ] = ConsoleRole.MEMBER,
    name: Annotated[str | None, typer.Option(help="the user's name")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="TIDINGS_USER_PASSWORD", help=_PASSWORD_HELP)
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create a console user in an account."""
    chosen = password or console_users.generate_password()

    async def operation(database: Database, settings: Settings) -> ConsoleUser:
        return await console_users.create_user(
            database, account, email, chosen, role=role, name=name
        )

    user = run_with_database(operation)
    shown = None if password else chosen
    if output is OutputFormat.JSON:
        print_json(_as_json(user, shown))
        return
    say(f"created console user [bold]{escape(user.email)}[/bold] ({user.role}) in {account}")
    if shown is not None:
        say(f"password: [bold]{escape(shown)}[/bold]  (shown once; store it now)")


@app.command("list")
def list_(
    account: Annotated[str | None, typer.Option("--account", help="only this account")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List console users."""

    async def operation(database: Database, settings: Settings) -> list[ConsoleUser]:
        return await console_users.list_users(database, account)

    users = run_with_database(operation)
    if output is OutputFormat.JSON:
        print_json([_as_json(u) for u in users])
        return
    print_table(
        ("e-mail", "role", "account", "name", "last sign-in"),
        (
            (
                u.email,
                u.role.value,
                u.account_id,
                u.name,
                None if u.last_sign_in_at is None else u.last_sign_in_at.isoformat(" ", "seconds"),
            )
            for u in users
        ),
        empty="no console users",
    )


@app.command("reset-password")
def reset_password(
    email: str,
    password: Annotated[
        str | None, typer.Option(envvar="TIDINGS_USER_PASSWORD", help=_PASSWORD_HELP)
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Set a user's password; every browser they were signed in with is signed out."""
    chosen = password or console_users.generate_password()

    async def operation(database: Database, settings: Settings) -> ConsoleUser:
        return await console_users.reset_password(database, email, chosen)

    user = run_with_database(operation)
    shown = None if password else chosen
    if output is OutputFormat.JSON:
        print_json(_as_json(user, shown))
        return
    say(f"new password set for [bold]{escape(user.email)}[/bold]; signed out everywhere")
    if shown is not None:
        say(f"password: [bold]{escape(shown)}[/bold]  (shown once; store it now)")
