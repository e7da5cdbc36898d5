"""How the benches run the service and its simulator: each in a process of its own, as ``tidings
serve --no-simulator`` and ``tidings simulator serve`` on free ports of 127.0.0.1, its data in a
directory of the bench's, held until its port listens, and stopped with SIGTERM (killed when it
does not end in time).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# A loaded machine (several benches or test runs at once) takes long to start the service.
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tidings(*args: str) -> list[str]:
    """The CLI of the Python running the bench (its venv's tidings)."""
    return [sys.executable, "-m", "tidings.cli", *args]


def simulator_command(
    smpp_port: int, *, control_port: int | None = None, receipt_delay: float = 0.0
) -> list[str]:
    """The simulator delivering every message, a receipt ``receipt_delay`` seconds after each
    submit; with its control API on ``control_port`` when one is given."""
    control = ["--no-control"] if control_port is None else ["--control-port", str(control_port)]
    return tidings(
        "simulator",
        "serve",
        "--port",
        str(smpp_port),
        *control,
        "--receipt-delay",
        str(receipt_delay),
        "--deliver-all",
    )


def service_environment(
    data: Path, simulator_port: int, database_url: str | None = None, **settings: str
) -> dict[str, str]:
    """This environment with the service's data in ``data`` (SQLite there unless
    ``database_url``), the simulator route at ``simulator_port``, ``/metrics`` readable from
    this host without an operator key, and ``settings`` (``TIDINGS_…`` variables) on top."""
    env = {
        **os.environ,
        "TIDINGS_DATA_DIR": str(data),
        # serve saves its demo account's credentials for the CLI: not in the user's own.
        "XDG_CONFIG_HOME": str(data / "config"),
        "TIDINGS_SIMULATOR_PORT": str(simulator_port),
        "TIDINGS_OPERATIONS_NETWORKS": '["127.0.0.1/32"]',
        **settings,
    }
    env.pop("TIDINGS_DATABASE_URL", None)
    if database_url:
        env["TIDINGS_DATABASE_URL"] = database_url
    return env


def start_process(
    command: list[str], env: dict[str, str], port: int, what: str, *, quiet: bool = False
) -> subprocess.Popen[bytes]:
    """``command`` started, once it listens on ``port``; ``quiet`` drops its standard error too."""
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet else None,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        time.sleep(0.1)
    stop_process(process)
    raise SystemExit(f"{what} did not start listening on {port}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL when the process has not ended in ``STOP_TIMEOUT_S``."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running(
    command: list[str], env: dict[str, str], port: int, what: str, *, quiet: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running (see :func:`start_process`) while the block runs, stopped after it."""
    process = start_process(command, env, port, what, quiet=quiet)
    try:
        yield process
    finally:
        stop_process(process)
