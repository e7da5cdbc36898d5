"""The exit codes of every ``tidings`` command, and the error that carries one.

A script can tell "the service refused this" from "the service is not there" from "the
command line is wrong" by the code alone. The table is documented in ``docs/cli.md``; a test
holds the two to each other.
"""

from __future__ import annotations

from enum import IntEnum

from tidings.errors import TidingsError


class ExitCode(IntEnum):
    """What a ``tidings`` process's exit status means."""

    # The command did what it was asked (a send: the message was delivered).
    OK = 0
    # The request was understood and refused, or its outcome is a failure: a domain error
    # (invalid number, conflict), an undelivered message, CSV rows that failed.
    ERROR = 1
    # The command line is wrong: unknown command or option, a missing or malformed value.
    USAGE = 2
    # The service or the database could not be reached.
    UNREACHABLE = 3
    # No credentials were found, or the service refused them (HTTP 401 or 403).
    AUTH = 4
    # What the command names does not exist (or belongs to another account).
    NOT_FOUND = 5
    # `serve` or `simulator serve` could not listen: a port is in use or not allowed.
    PORT_IN_USE = 6
    # `send` stopped waiting (--wait) before the message reached a final status.
    PENDING = 7
    # A fault in tidings itself: an unexpected error (`--traceback` shows where).
    INTERNAL = 70
    # Interrupted with Ctrl+C.
    INTERRUPTED = 130


class CliError(TidingsError):
    """The command cannot go on."""

    def __init__(
        self,
        message: str | None = None,
        *,
        hint: str | None = None,
        code: ExitCode = ExitCode.ERROR,
    ) -> None:
        super().__init__(message)
        self.hint = hint
        self.code = code
