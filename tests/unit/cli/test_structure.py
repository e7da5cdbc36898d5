"""The CLI's shape: commands loaded only when they run, plain help without type labels, one
exit-code table (documented), and unexpected errors in one line unless --traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tidings.cli import COMMANDS, app
from tidings.cli.exits import ExitCode
from tidings.cli.group import load_command

DOCS = Path(__file__).parents[3] / "docs" / "cli.md"

# What a command that only talks to the service must never load: the web app, the database
# layer and the use cases cost seconds to import on a loaded machine.
HEAVY = ("tidings.api", "tidings.core.accounts", "tidings.store", "sqlalchemy", "fastapi", "httpx")


def _modules_loaded_by(*args: str) -> list[str]:
    """Run ``tidings ARGS`` in a fresh interpreter; the heavy modules it imported."""
    script = (
        "import json, sys\n"
        "from tidings.cli import app\n"
        f"try:\n    app({list(args)!r})\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "TIDINGS_URL": "http://127.0.0.1:9"},
        check=False,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("messages", "--help"),
        ("messages", "list", "--help"),
        ("send", "--help"),
        # Fails (no secret), but only after parsing it and reading the credentials.
        ("messages", "list"),
        ("webhooks", "list"),
    ],
)
def test_help_and_service_commands_load_no_heavy_module(args: tuple[str, ...]) -> None:
    assert _modules_loaded_by(*args) == []


def _all_commands() -> list[tuple[list[str], Any]]:
    found: list[tuple[list[str], Any]] = []

    def walk(path: list[str], command: Any) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk([*path, name], sub)

    for name, entry in COMMANDS.items():
        walk([name], load_command(name, entry))
    return found


def test_every_command_loads_with_plain_help_and_no_type_labels() -> None:
    runner = CliRunner()
    for path, _command in _all_commands():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert not re.search(r"<(bool|str|int|float|path)[^>]*>", result.output), (
            path,
            result.output,
        )
        assert "--install-completion" not in result.output, path
        assert "╭" not in result.output, path


def test_every_listing_takes_output_json() -> None:
    listings = [
        (path, command) for path, command in _all_commands() if path[-1] in ("list", "deliveries")
    ]
    assert len(listings) >= 10
    for path, command in listings:
        options = {o for p in command.params for o in p.opts}
        assert {"--output", "-o"} <= options, path


def test_root_help_lists_every_command_by_panel() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for name in COMMANDS:
        assert re.search(rf"^  {re.escape(name)} +\S", result.output, re.MULTILINE), name
    assert "Using the service" in result.output and "Operating" in result.output


def test_root_help_says_send_takes_every_channel() -> None:
    # A newcomer reads `tidings --help` first: "Send an SMS" hid that the same command sends
    # an MMS, a call, a WhatsApp message, a fax and a letter.
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    send_line = next(line for line in result.output.splitlines() if line.startswith("  send "))
    for channel in ("SMS", "MMS", "call", "WhatsApp", "fax", "letter"):
        assert channel in send_line, channel
    routes_line = next(line for line in result.output.splitlines() if line.startswith("  routes "))
    assert "SMPP" in routes_line and "WhatsApp" in routes_line


def test_exit_codes_are_documented_as_defined() -> None:
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", DOCS.read_text(encoding="utf-8"), re.MULTILINE)
    assert [(int(code), name) for code, name in rows] == [(c.value, c.name) for c in ExitCode]


def test_an_unexpected_error_is_one_line_unless_traceback_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tidings.cli import messages

    def broken(url: str | None) -> Any:
        raise ValueError("the flux capacitor is cold")

    monkeypatch.setattr(messages, "connect", broken)
    runner = CliRunner()
    short = runner.invoke(app, ["messages", "list"])
    assert short.exit_code == ExitCode.INTERNAL
    assert short.output.splitlines()[0] == (
        "error: Unexpected ValueError: the flux capacitor is cold"
    )
    assert "--traceback" in short.output and "Traceback" not in short.output
    assert len(short.output.strip().splitlines()) == 2

    # --traceback anywhere on the line, the end included.
    full = runner.invoke(app, ["messages", "list", "--traceback"])
    assert full.exit_code == ExitCode.INTERNAL
    assert "Traceback (most recent call last)" in full.output
    assert "ValueError: the flux capacitor is cold" in full.output


def test_usage_errors_exit_2() -> None:
    result = CliRunner().invoke(app, ["messages", "list", "--limit", "0"])
    assert result.exit_code == ExitCode.USAGE
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == ExitCode.USAGE


def test_a_template_without_its_text_is_told_what_text_to_give() -> None:
    result = CliRunner().invoke(
        app,
        [
            *("send", "--whatsapp", "--from", "+358409990100", "--to", "+358401234569"),
            *("--template", "table_ready", "--param", "Aino"),
        ],
        env={"TIDINGS_URL": "http://127.0.0.1:9", "TIDINGS_API_SECRET": "tdk_x_y"},
    )
    assert result.exit_code == ExitCode.USAGE
    assert "give the message text also with --template" in result.output
    assert "the template's text with its values" in result.output
