"""Starting our simulator for the interop tests, in one place so API changes are one edit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.interop.harness import port_accepts, stop_process
from tests.ports import free_port

SIMULATOR_SYSTEM_ID = "kannel"
SIMULATOR_PASSWORD = "secret"
DEFAULT_TIMEOUT = 30.0


@contextlib.asynccontextmanager
async def running_simulator(**overrides: Any) -> AsyncIterator[Any]:
    """Our embedded simulator on free ports of 127.0.0.1, in this event loop."""
    from tidings.simulator import Simulator, SimulatorConfig

    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "smpp_port": 0,
        "control_port": 0,
        "system_id": SIMULATOR_SYSTEM_ID,
        "password": SIMULATOR_PASSWORD,
    }
    settings.update(overrides)
    async with Simulator(SimulatorConfig(**settings)) as simulator:
        yield simulator


async def inbox_message(simulator: Any, number: str, within: float = DEFAULT_TIMEOUT) -> Any:
    """The first message in a handset inbox, waiting for it without blocking the loop."""
    deadline = time.monotonic() + within
    while True:
        messages = list(simulator.inbox(number))
        if messages:
            return messages[0]
        if time.monotonic() >= deadline:
            raise AssertionError(f"handset {number} received nothing within {within}s")
        await asyncio.sleep(0.02)


@dataclass
class StandaloneSimulator:
    process: subprocess.Popen[bytes]
    smpp_port: int
    control_port: int

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"


@contextlib.contextmanager
def standalone_simulator(workdir: Path) -> Iterator[StandaloneSimulator]:
    """`tidings simulator serve` as a subprocess, for blocking clients that need their own loop."""
    smpp_port, control_port = free_port(), free_port()
    log = (workdir / "simulator.log").open("wb")
    # The console script installed beside this interpreter (pyproject [project.scripts]).
    argv = [
        str(Path(sys.executable).with_name("tidings")),
        "simulator",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(smpp_port),
        "--control-port",
        str(control_port),
        "--system-id",
        SIMULATOR_SYSTEM_ID,
        "--password",
        SIMULATOR_PASSWORD,
    ]
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    try:
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while not (port_accepts(smpp_port) and port_accepts(control_port)):
            if process.poll() is not None or time.monotonic() >= deadline:
                log.flush()
                output = (workdir / "simulator.log").read_text(errors="replace")
                raise AssertionError(f"simulator did not start: {output[-3000:]}")
            time.sleep(0.05)
        yield StandaloneSimulator(process, smpp_port, control_port)
    finally:
        stop_process(process)
        log.close()
