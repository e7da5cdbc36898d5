"""``tidings serve``: a port in use said in one line with the option that changes it, the
banner's try line working as printed, and JSON logs with nothing else mixed in."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from tests.ports import free_port, free_udp_port
from tidings.cli import app
from tidings.cli.exits import ExitCode

TIDINGS = str(Path(sys.executable).with_name("tidings"))


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``serve`` configures logging for its process; in this one, undo it afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.NOTSET)
    structlog.reset_defaults()


@pytest.fixture
def held_port() -> Iterator[int]:
    """A TCP port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", free_port()))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture
def held_udp_port() -> Iterator[int]:
    """A UDP port something else has bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", free_udp_port()))
        yield holder.getsockname()[1]


@pytest.mark.parametrize(
    ("option", "listener", "variable"),
    [
        ("--port", "HTTP API", "TIDINGS_HTTP_PORT"),
        ("--simulator-port", "simulator's SMPP listener", "TIDINGS_SIMULATOR_PORT"),
        (
            "--simulator-control-port",
            "simulator's control API",
            "TIDINGS_SIMULATOR_CONTROL_PORT",
        ),
        (
            "--simulator-sip-port",
            "simulator's phone network (SIP)",
            "TIDINGS_SIMULATOR_SIP_PORT",
        ),
    ],
)
@pytest.mark.usefixtures("restore_logging")
def test_a_port_in_use_is_one_line_naming_its_option(
    tmp_path: Path,
    held_port: int,
    held_udp_port: int,
    option: str,
    listener: str,
    variable: str,
) -> None:
    ports = {
        "--port": free_port(),
        "--simulator-port": free_port(),
        "--simulator-control-port": free_port(),
        "--simulator-sip-port": free_udp_port(),
    }
    held = held_udp_port if option == "--simulator-sip-port" else held_port
    ports[option] = held
    args = ["serve", "--data-dir", str(tmp_path), "--log-format", "json"]
    for name, port in ports.items():
        args += [name, str(port)]
    result = CliRunner().invoke(app, args, env={"TIDINGS_DATABASE_URL": ""})
    assert result.exit_code == ExitCode.PORT_IN_USE, result.output
    errors = [line for line in result.output.splitlines() if not line.startswith("{")]
    assert errors == [
        f"error: The {listener} cannot listen on 127.0.0.1:{held}: the port is in use; "
        f"choose another port with {option} or {variable}."
    ]


@pytest.mark.usefixtures("restore_logging")
def test_the_simulator_alone_says_which_port_is_in_use(held_port: int) -> None:
    args = ["simulator", "serve", "--port", str(free_port()), "--control-port", str(held_port)]
    result = CliRunner().invoke(app, [*args, "--log-format", "json"])
    assert result.exit_code == ExitCode.PORT_IN_USE, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"error: The simulator's control API cannot listen on 127.0.0.1:{held_port}: "
        "the port is in use; choose another port with --control-port."
    )


class Serving:
    """``tidings serve`` as a process of its own, on free ports, in ``home``."""

    def __init__(self, home: Path, *extra: str) -> None:
        self.home = home
        self.out = home / "serve.out"
        self.err = home / "serve.err"
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "COLUMNS": "80"}
        for name in ("TIDINGS_URL", "TIDINGS_API_SECRET", "TIDINGS_DATABASE_URL"):
            self.env.pop(name, None)
        command = [
            TIDINGS,
            "serve",
            "--port",
            str(free_port()),
            "--simulator-port",
            str(free_port()),
            "--simulator-control-port",
            str(free_port()),
            *extra,
        ]
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(command, cwd=home, env=self.env, stdout=out, stderr=err)

    def wait_for(self, pattern: str, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.out.read_text() + self.err.read_text()
            if re.search(pattern, text):
                return text
            assert self.process.poll() is None, text
            assert time.monotonic() < deadline, text
            time.sleep(0.1)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


async def test_the_banners_try_line_works_as_printed_from_another_directory(
    tmp_path: Path,
) -> None:
    serving = Serving(tmp_path, "--log-format", "human")
    try:
        banner = await asyncio.to_thread(serving.wait_for, r"Press Ctrl\+C")
        [line] = [row for row in banner.splitlines() if row.strip().startswith("try: ")]
        command = line.strip().removeprefix("try: ")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        done = await asyncio.to_thread(
            subprocess.run,
            ["bash", "-c", command],
            cwd=elsewhere,
            env=serving.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert done.stdout.strip().splitlines()[-1] == "delivered"

        # The demo account owns the demo number: a handset's reply arrives in its inbound.
        [line] = [row for row in banner.splitlines() if row.strip().startswith("reply: ")]
        reply = line.strip().removeprefix("reply: ")
        replied = await asyncio.to_thread(
            subprocess.run,
            ["bash", "-c", reply],
            cwd=elsewhere,
            env={**serving.env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert replied.returncode == 0, (reply, replied.stdout, replied.stderr)
        assert "No account owns" not in replied.stdout
        [row] = [row for row in replied.stdout.splitlines() if "Kiitos, sain viestin!" in row]
        assert "+358405550100" in row and "delivered from" not in row
    finally:
        await asyncio.to_thread(serving.stop)


async def test_json_logs_are_json_lines_only(tmp_path: Path) -> None:
    # Not a terminal: JSON by default.
    serving = Serving(tmp_path)
    try:
        await asyncio.to_thread(serving.wait_for, "tidings is running")
    finally:
        code = await asyncio.to_thread(serving.stop)
    assert code == 0
    assert serving.out.read_text() == ""
    events = [json.loads(line) for line in serving.err.read_text().splitlines()]
    [started] = [e for e in events if e["event"] == "tidings is running"]
    assert started["api"].startswith("http://127.0.0.1:")
    assert started["demo_account"] and "secret" not in json.dumps(started)
    # Without the banner, the console's address and where its demo login is kept, never the
    # password itself.
    assert started["console"] == started["api"] + "/"
    assert started["console_login"] == "demo@example.com"
    login = json.loads(await asyncio.to_thread(Path(started["console_login_file"]).read_text))
    assert login["email"] == "demo@example.com"
    assert login["password"] not in json.dumps(started)
    assert all({"event", "level", "timestamp"} <= e.keys() for e in events)
