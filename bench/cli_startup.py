"""CLI start-up: how long ``tidings --help`` and ``tidings messages list`` take, as processes,
against ``python -c pass`` on the same interpreter.

    python bench/cli_startup.py [--rounds 15]

Starts ``tidings serve`` on free ports in a temporary directory (its demo account's
credentials saved in a temporary config directory, as ``make run`` saves them), then runs each
command once per round, in turn, so that a busy machine slows them alike. Prints the median and
the best wall-clock time of each, and each median as a multiple of ``python -c pass``'s. Also
timed, for reference: ``python -c "import tidings.api.app"``, which every command imported
before commands were loaded lazily. The last line is one JSON object with the medians.

Targets on a quiet machine: ``--help`` under 0.3 s, ``messages list`` (a call to the service)
under 0.6 s. On a shared machine compare the ratios, which move less than the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIDINGS = str(Path(sys.executable).with_name("tidings"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command} failed: {done.stderr.decode()}")
    return elapsed


def start_service(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    out = home / "serve.out"
    command = [
        TIDINGS,
        "serve",
        "--data-dir",
        str(home / "var"),
        "--port",
        str(free_port()),
        "--simulator-port",
        str(free_port()),
        "--simulator-control-port",
        str(free_port()),
        "--log-format",
        "human",
    ]
    with out.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while "Press Ctrl+C" not in out.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the service did not start:\n{out.read_text()}")
        time.sleep(0.2)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(home / "config"),
            "COLUMNS": "120",
        }
        for name in ("TIDINGS_URL", "TIDINGS_API_SECRET", "TIDINGS_DATABASE_URL"):
            env.pop(name, None)
        service = start_service(home, env)
        try:
            commands = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "tidings --help": [TIDINGS, "--help"],
                "tidings messages list": [TIDINGS, "messages", "list"],
                "import tidings.api.app": [sys.executable, "-c", "import tidings.api.app"],
            }
            for command in commands.values():  # warm the file cache and bytecode
                timed(command, env)
            samples: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(rounds):
                for name, command in commands.items():
                    samples[name].append(timed(command, env))
        finally:
            service.send_signal(signal.SIGINT)
            service.wait(timeout=60)
    baseline = statistics.median(samples["python -c pass"])
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{rounds} rounds, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for name, values in samples.items():
        print(
            f"{name:24s} median {medians[name]:6.3f} s  best {min(values):6.3f} s  "
            f"{medians[name] / baseline:5.1f}× python -c pass"
        )
    print(json.dumps({re.sub(r"\W+", "_", k).strip("_"): round(v, 4) for k, v in medians.items()}))


if __name__ == "__main__":
    main()
