"""SMPP throughput: our ESME client against our simulator running in a separate process.

    python bench/smpp_throughput.py [--count 100000] [--binds 1]

Sends ``count`` submit_sm at window 10, then at window 100, each over a fresh transceiver bind,
and prints submits per second. For the window-100 run it also waits for every delivery receipt
and prints how long after the first submit the last one arrived.

The host is usually shared, so wall-clock rates move with whatever else runs. Each run also
prints the CPU time each process spent per message (submit_sm, its response, the receipt and its
response), from the first submit to the last receipt: that is the work we do, and it moves far
less with the neighbours. The last line is one JSON object with ``submits_per_s_w10``,
``submits_per_s_w100``, ``receipts_done_s`` and the ``*_cpu_us`` figures per message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from tidings import runtime
from tidings.net import EsmeClient, EsmeConfig
from tidings.smpp.constants import EsmClass
from tidings.smpp.pdu import DataSm, DeliverSm, SubmitSm


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def simulator_process(port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        sys.executable,
        "-m",
        "tidings.cli",
        "simulator",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-control",
        "--receipt-delay",
        "0",
        "--deliver-all",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None:
                raise SystemExit(
                    f"simulator exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces; the fields after its closing parenthesis do not.
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class RunResult:
    submits_per_s: float
    receipts_done_s: float
    client_cpu_us: float  # per message, submit to receipt
    simulator_cpu_us: float


async def run(port: int, count: int, window: int, binds: int, simulator_pid: int) -> RunResult:
    receipts = 0
    all_receipts = asyncio.Event()

    def on_deliver(pdu: DeliverSm | DataSm) -> int:
        nonlocal receipts
        if pdu.esm_class & EsmClass.MESSAGE_TYPE_MASK == EsmClass.DELIVERY_RECEIPT:
            receipts += 1
            if receipts >= count:
                all_receipts.set()
        return 0

    config = EsmeConfig(
        host="127.0.0.1", port=port, system_id="bench", password="bench", window=window, binds=binds
    )
    client = EsmeClient(config, on_deliver=on_deliver)
    await client.start()
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            pdu = SubmitSm(
                source_addr="Tidings",
                source_addr_ton=5,
                destination_addr=f"35840{remaining % 10_000_000:07d}",
                dest_addr_ton=1,
                dest_addr_npi=1,
                registered_delivery=1,
                short_message=b"Benchmark message from tidings",
            )
            response = await client.submit(pdu)
            if response.command_status != 0:
                raise SystemExit(f"submit failed with status {response.command_status:#x}")

    client_cpu = time.process_time()
    simulator_cpu = process_cpu_seconds(simulator_pid)
    started = time.perf_counter()
    # One worker per window slot keeps every window full: a response frees its slot and wakes
    # the worker that sent it, which sends the next. More workers would only queue for slots.
    await asyncio.gather(*(worker() for _ in range(window * binds)))
    submitted = time.perf_counter() - started
    await asyncio.wait_for(all_receipts.wait(), timeout=max(60.0, count / 1000))
    receipts_done = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    simulator_cpu = process_cpu_seconds(simulator_pid) - simulator_cpu
    await client.stop()
    return RunResult(
        count / submitted, receipts_done, client_cpu * 1e6 / count, simulator_cpu * 1e6 / count
    )


def cpu_line(result: RunResult) -> str:
    return (
        f"CPU per message: client {result.client_cpu_us:.1f} us,"
        f" simulator {result.simulator_cpu_us:.1f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--binds", type=int, default=1)
    args = parser.parse_args()
    # The client runs as it does in the service: same event loop, same collector settings.
    runner = runtime.run
    port = free_port()
    print(f"cpus={os.cpu_count()} count={args.count} binds={args.binds}")
    with simulator_process(port) as simulator:
        w10 = runner(run(port, args.count, 10, args.binds, simulator.pid))
        print(f"window 10:  {w10.submits_per_s:,.0f} submit_sm/s; {cpu_line(w10)}")
        w100 = runner(run(port, args.count, 100, args.binds, simulator.pid))
        print(
            f"window 100: {w100.submits_per_s:,.0f} submit_sm/s;"
            f" all {args.count:,} receipts in {w100.receipts_done_s:.2f} s; {cpu_line(w100)}"
        )
    print(
        json.dumps(
            {
                "submits_per_s_w10": round(w10.submits_per_s),
                "submits_per_s_w100": round(w100.submits_per_s),
                "receipts_done_s": round(w100.receipts_done_s, 3),
                "client_cpu_us_w10": round(w10.client_cpu_us, 1),
                "simulator_cpu_us_w10": round(w10.simulator_cpu_us, 1),
                "client_cpu_us_w100": round(w100.client_cpu_us, 1),
                "simulator_cpu_us_w100": round(w100.simulator_cpu_us, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
