"""Soak: a million messages through the running service, with its memory (RSS) and throughput
over time.

    python bench/soak.py [--messages 1000000] [--rate 0] [--interval 10]

Starts a simulator in its own process and the service (``tidings serve --no-simulator``) on
SQLite in a temporary directory, sends ``messages`` messages in requests of 1,000 (two at a
time, at most ``rate`` messages/s when given), and every ``interval`` seconds prints the
service's RSS, the messages accepted and final so far, and the final statuses per second in
that interval. At the end: RSS after warm-up (the first tenth of the messages) and at the end,
its growth in percent (the target is under 10), the interval throughput's minimum, median and
maximum, and RSS from the moment every message was accepted to the end (the backlog draining).
The last line is JSON.

Unthrottled, the service accepts far faster than it sends, and RSS follows the backlog of
accepted messages up; while that backlog drains, RSS stays where it was. Growth that is a
leak shows in a run with ``--rate`` below the service's throughput (a small, steady backlog)
and while a backlog drains; growth that is the backlog's high-water mark does not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from processes import free_port, running, service_environment, simulator_command, tidings

REQUEST_SIZE = 1000
FINAL = ("delivered", "undelivered", "expired", "rejected", "failed", "cancelled", "unknown")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def final_count(http: httpx.AsyncClient) -> int:
    total = 0
    for line in (await http.get("/metrics")).text.splitlines():
        if line.startswith("tidings_messages{"):
            status = line.split('status="', 1)[1].split('"', 1)[0]
            if status in FINAL:
                total += int(float(line.rsplit(" ", 1)[1]))
    return total


async def soak(count: int, rate: float, interval: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="tidings-soak-") as directory:
        data = Path(directory)
        smpp_port, control_port, http_port = free_port(), free_port(), free_port()
        env = service_environment(data, smpp_port, TIDINGS_RATE_LIMIT="1000000/60 seconds")
        simulator = simulator_command(smpp_port, control_port=control_port, receipt_delay=0.01)
        service = tidings("serve", "--no-simulator", "--port", str(http_port))
        with (
            running(simulator, env, control_port, "the simulator", quiet=True),
            running(service, env, http_port, "the service", quiet=True) as process,
        ):
            secret = json.loads((data / "demo-credentials.json").read_text())["secret"]
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{http_port}",
                headers={"Authorization": f"Bearer {secret}"},
                timeout=300,
            ) as http:
                return await _run(http, process.pid, count, rate, interval)


async def _run(
    http: httpx.AsyncClient, pid: int, count: int, rate: float, interval: float
) -> dict[str, object]:
    accepted = 0
    started = time.monotonic()
    semaphore = asyncio.Semaphore(2)

    async def post(start: int) -> None:
        nonlocal accepted
        size = min(REQUEST_SIZE, count - start)
        body = {
            "to": [f"+3585{n % 10_000_000:07d}" for n in range(start, start + size)],
            "from": "Tidings",
            "body": "Your code is 123456. It expires in 10 minutes.",
        }
        async with semaphore:
            if rate:
                delay = started + start / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            answer = await http.post("/v1/messages", json=body)
            if answer.status_code != 202:
                raise SystemExit(f"refused: {answer.status_code} {answer.text[:200]}")
            accepted += size

    sender = asyncio.gather(*(post(s) for s in range(0, count, REQUEST_SIZE)))
    samples: list[dict[str, float]] = []
    last_final, last_time = 0, started
    print(f"{'elapsed s':>9} {'RSS MiB':>8} {'accepted':>10} {'final':>10} {'final/s':>8}")
    while True:
        await asyncio.sleep(interval)
        now = time.monotonic()
        final = await final_count(http)
        sample = {
            "elapsed": now - started,
            "rss_mib": rss_mib(pid),
            "accepted": accepted,
            "final": final,
            "per_s": (final - last_final) / (now - last_time),
        }
        samples.append(sample)
        last_final, last_time = final, now
        print(
            f"{sample['elapsed']:9.0f} {sample['rss_mib']:8.1f} {accepted:10,} {final:10,}"
            f" {sample['per_s']:8,.0f}",
            flush=True,
        )
        if final >= count:
            break
    await sender
    warm = next(s for s in samples if s["final"] >= count / 10)
    all_accepted = next(s for s in samples if s["accepted"] >= count)
    end = samples[-1]
    steady = [s["per_s"] for s in samples if s["final"] >= count / 10][:-1] or [end["per_s"]]
    growth = (end["rss_mib"] - warm["rss_mib"]) / warm["rss_mib"] * 100
    summary = {
        "messages": count,
        "seconds": round(end["elapsed"]),
        "rss_after_warmup_mib": round(warm["rss_mib"], 1),
        "rss_end_mib": round(end["rss_mib"], 1),
        "rss_growth_percent": round(growth, 1),
        "rss_all_accepted_mib": round(all_accepted["rss_mib"], 1),
        "backlog_at_all_accepted": int(all_accepted["accepted"] - all_accepted["final"]),
        "rss_growth_while_draining_percent": round(
            (end["rss_mib"] - all_accepted["rss_mib"]) / all_accepted["rss_mib"] * 100, 1
        ),
        "final_per_s_min": round(min(steady)),
        "final_per_s_median": round(statistics.median(steady)),
        "final_per_s_max": round(max(steady)),
        "overall_per_s": round(count / end["elapsed"]),
    }
    print(
        f"RSS {summary['rss_after_warmup_mib']} MiB after warm-up, {summary['rss_end_mib']} MiB"
        f" at the end ({summary['rss_growth_percent']:+}%); final statuses per second: min"
        f" {summary['final_per_s_min']}, median {summary['final_per_s_median']}, max"
        f" {summary['final_per_s_max']}; {summary['overall_per_s']}/s overall; while a backlog"
        f" of {summary['backlog_at_all_accepted']:,} drained:"
        f" {summary['rss_growth_while_draining_percent']:+}%"
    )
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--interval", type=float, default=10.0)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(soak(arguments.messages, arguments.rate, arguments.interval))))
