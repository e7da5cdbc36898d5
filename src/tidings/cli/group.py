"""The root command group: commands imported only when they run, and every error turned into
one line and an exit code from ``ExitCode``.

``tidings --help`` lists the commands from a table of names and one-line helps without
importing them; ``tidings messages list`` imports ``tidings.cli.messages`` alone. A command
module that imported the web app or the database layer at the top would cost every command
seconds, so each module imports what it needs inside its functions.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import typer
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from tidings.cli.exits import CliError, ExitCode

TRACEBACK_FLAG = "--traceback"


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """A command listed by name and help, loaded from ``target`` ("module:attribute", a Typer
    app) only when it runs."""

    target: str
    help: str
    panel: str


def load_command(name: str, entry: LazyCommand) -> Any:
    module_name, _, attribute = entry.target.partition(":")
    typer_app = getattr(importlib.import_module(module_name), attribute)
    # A group (made with no_args_is_help=True) stays a group with a single subcommand too.
    is_group = typer_app.info.no_args_is_help is True
    command = typer.main.get_group(typer_app) if is_group else typer.main.get_command(typer_app)
    command.name = name
    tidy_help(command)
    return command


def _no_type(ctx: Any) -> None:
    return None


_COMPLETION_PARAMS = frozenset({"install_completion", "show_completion"})


def tidy_help(command: Any) -> None:
    """Help as plain text, like the root's (rich's help costs a third of a second to import),
    values named like ``--to TO`` or ``--output [table|json]`` rather than by Python type
    (``<str>``), and shell completion offered by the root only."""
    from typer.core import TyperArgument, TyperOption

    command.rich_markup_mode = None
    command.params = [p for p in command.params if p.name not in _COMPLETION_PARAMS]
    for param in command.params:
        if isinstance(param, TyperArgument):
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
            # Typer shows an argument's Python type beside its name (TEXT <str>).
            setattr(param, "display_type_rich", _no_type)  # noqa: B010
        if not isinstance(param, TyperOption) or param.is_flag or param.metavar is not None:
            continue
        descriptor = param.type_descriptor
        if descriptor.is_choice:
            param.metavar = "[" + "|".join(str(c) for c in descriptor.choices or ()) + "]"
        elif param.name:
            param.metavar = param.name.upper()
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


def _placeholder(name: str, entry: LazyCommand) -> Any:
    """What ``--help`` lists for a command not loaded yet: its name, help line and panel."""
    from typer.core import TyperCommand

    command = TyperCommand(name=name, help=entry.help, short_help=entry.help)
    command.rich_help_panel = entry.panel
    return command


def _domain_exit(error: BaseException) -> tuple[str, ExitCode] | None:
    """A domain error from ``tidings.core`` (commands that open the database) as a message and
    an exit code; None for anything else. Imports only on this error path."""
    from tidings.errors import TidingsError

    if not isinstance(error, TidingsError):
        return None
    from tidings.errors import Forbidden, NotFound, Unauthorized

    if isinstance(error, NotFound):
        return error.message, ExitCode.NOT_FOUND
    if isinstance(error, Unauthorized | Forbidden):
        return error.message, ExitCode.AUTH
    return error.message, ExitCode.ERROR


class TidingsGroup(TyperGroup):
    """The root group. Subclasses name their lazy commands in ``lazy``."""

    lazy: Mapping[str, LazyCommand] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        eager = [name for name in self.commands if name not in self.lazy]
        return [*self.lazy, *eager]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = self.commands.get(cmd_name)
        if found is not None:
            return found
        entry = self.lazy.get(cmd_name)
        return None if entry is None else _placeholder(cmd_name, entry)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands in sections, by their panel, without importing any of them."""
        sections: dict[str, list[tuple[str, Any]]] = {}
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            panel = getattr(command, "rich_help_panel", None) or "Commands"
            sections.setdefault(panel, []).append((name, command))
        longest = max(len(n) for rows in sections.values() for n, _ in rows)
        width = formatter.width - 6 - longest
        for panel, rows in sections.items():
            with formatter.section(panel):
                formatter.write_dl(
                    [(n.ljust(longest), c.get_short_help_str(width)) for n, c in rows]
                )

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in self.lazy and args[0] not in self.commands:
            self.commands[args[0]] = load_command(args[0], self.lazy[args[0]])
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # `--traceback` is the root's option, but people add it at the end of the command that
        # failed: take it from anywhere before a `--`.
        end = args.index("--") if "--" in args else len(args)
        if TRACEBACK_FLAG in args[:end]:
            args = [TRACEBACK_FLAG] + [
                a for i, a in enumerate(args) if i >= end or a != TRACEBACK_FLAG
            ]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except CliError as error:
            _print_error(error.message, error.hint)
            raise typer.Exit(error.code) from None
        except KeyboardInterrupt:
            _print_error("Interrupted.")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as error:
            domain = _domain_exit(error)
            if domain is not None:
                _print_error(*domain[:1])
                raise typer.Exit(domain[1]) from None
            if ctx.params.get("traceback"):
                import traceback

                traceback.print_exception(error, file=sys.stderr)
                raise typer.Exit(ExitCode.INTERNAL) from None
            _print_error(
                f"Unexpected {type(error).__name__}: {error}".rstrip(": "),
                "this is a fault in tidings; run the command again with --traceback for "
                "details, and report it",
            )
            raise typer.Exit(ExitCode.INTERNAL) from None


def _print_error(message: str, hint: str | None = None) -> None:
    from tidings.cli.output import print_error

    print_error(message, hint)


def group_class(commands: Mapping[str, LazyCommand]) -> type[TidingsGroup]:
    """A root group class whose lazy commands are ``commands``."""
    return type("TidingsRoot", (TidingsGroup,), {"lazy": commands})
