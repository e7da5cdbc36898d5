"""How every command prints: ``--output table|json``, tables that never cut ids, JSON for
scripts, and errors as sentences on stderr.

Commands print through these helpers so that the whole CLI answers alike: a person reads a
table, a script passes ``-o json`` and parses standard output, and errors never mix into it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


# Every listing (and every command that shows a record) takes this option.
OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        help="table for people, json for scripts",
        case_sensitive=False,
        show_default=False,
    ),
]

# Columns that may be shortened (with …) when the terminal is too narrow for the table; every
# other column is kept whole, whatever the width: a cut id or status cannot be copied into the
# next command.
SHORTENED_COLUMNS = frozenset({"text", "error", "detail", "url", "events", "last text", "name"})


def console() -> Console:
    """Standard output, for results. Lines are never wrapped or cut here: a terminal wraps what
    is too long for it, and a program reading a pipe gets every line whole."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def error_console() -> Console:
    """Standard error, for errors, hints and progress."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses become objects, times ISO 8601 text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """``value`` as indented JSON on standard output."""
    sys.stdout.write(json.dumps(plain(value), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str | None = None,
    empty: str | None = None,
    shortened: Collection[str] = (),
) -> None:
    """Rows in aligned columns on standard output, the header in bold on a terminal.

    Only the columns in ``SHORTENED_COLUMNS`` or ``shortened`` give way (ending in …) when the
    terminal is too narrow; the others keep every character, and a line that is still too long
    is left for the terminal to wrap. Piped output is never shortened. ``empty`` is printed
    instead of a table without rows.
    """
    from rich.text import Text

    cells = [[_cell(value) for value in row] for row in rows]
    out = console()
    if not cells and empty is not None:
        out.print(empty, markup=False)
        return
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    flexible = [
        i for i, name in enumerate(columns) if name in SHORTENED_COLUMNS or name in shortened
    ]
    if out.is_terminal and flexible:
        _fit(widths, flexible, [len(name) for name in columns], out.width)
    if title:
        out.print(Text(title, style="bold"))
    out.print(Text(_line(columns, widths), style="bold"))
    for row in cells:
        out.print(Text(_line(row, widths)))


Item = TypeVar("Item")


def print_listing(
    output: OutputFormat,
    items: Sequence[Item],
    columns: Sequence[str],
    row: Callable[[Item], Sequence[object]],
    *,
    empty: str,
) -> None:
    """What every ``list`` command prints: the items as the API gave them, in JSON for a
    script, or a table of ``row(item)`` for each, with ``empty`` instead when there are none."""
    if output is OutputFormat.JSON:
        print_json(items)
        return
    print_table(columns, (row(item) for item in items), empty=empty)


_GAP = "  "
_MIN_SHORTENED = 8


def _cell(value: object) -> str:
    # One line per row: a value's own line breaks would break the columns.
    return "" if value is None else " ".join(str(value).split())


def _fit(widths: list[int], flexible: list[int], headers: list[int], room: int) -> None:
    """Narrow the flexible columns, widest first, until the line fits ``room`` or each is at
    its minimum."""
    excess = sum(widths) + len(_GAP) * (len(widths) - 1) - room
    while excess > 0:
        widest = max(flexible, key=lambda i: widths[i])
        floor = min(max(headers[widest], 1), _MIN_SHORTENED)
        if widths[widest] <= floor:
            return
        widths[widest] -= 1
        excess -= 1


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    parts = []
    for value, width in zip(values, widths, strict=True):
        text = value if len(value) <= width else value[: max(width - 1, 0)] + "…"
        parts.append(text.ljust(width))
    return _GAP.join(parts).rstrip()


def short_time(value: str | None) -> str:
    """An API timestamp for a table: ``2030-01-31T09:00:00.123456+00:00`` → ``2030-01-31
    09:00:00`` (the zone is the service's, UTC)."""
    return "" if not value else value[:19].replace("T", " ")


def say(text: str) -> None:
    """One line of result on standard output (rich markup allowed)."""
    console().print(text)


def print_error(message: str, hint: str | None = None) -> None:
    """``error: message`` and, when there is one, ``hint: ...`` on standard error."""
    from rich.markup import escape

    err = error_console()
    err.print(f"[red]error:[/red] {escape(message)}")
    if hint:
        err.print(f"hint: {escape(hint)}")
