"""End to end: HTTP API → store → dispatcher → SMPP → simulator → receipt → store.

    python bench/e2e.py [--count 100000] [--database-url URL] [--singles 3000]
                        [--single-client aiohttp|httpx]

Starts a simulator in its own process and the service (``tidings serve --no-simulator``, role
all) in another, on SQLite in a temporary directory unless ``--database-url`` is given. Sends
``count`` messages through the batch API (10,000 recipients per request) and waits until every
one has its final status from a receipt (``--count 0`` skips this phase), and reports the
service process's CPU time per message over that phase, from the first request to the last
final status (API, dispatcher and status writer together; the bench's polling of ``/metrics``
included). Then sends ``singles`` one-recipient requests at concurrency 10 (``--singles 0``
skips this phase), with aiohttp by default: httpx costs about a millisecond of client CPU per
request, which on a small host is the service's CPU too. The last line is one JSON object with
``accepted_per_s``, ``e2e_per_s``, ``batch_cpu_us`` (the service's CPU time per message in the
batch phase, in microseconds), ``single_rps``, ``p50_ms``, ``p99_ms`` and ``service_cpu_ms``
(the service process's CPU time per single request); a figure of a skipped phase is null.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp
import httpx

from processes import free_port, running, service_environment, simulator_command, tidings

Client = TypeVar("Client")

FINAL = ("delivered", "undelivered", "expired", "rejected", "failed", "cancelled")
BATCH = 10_000
CONCURRENCY = 10


async def count_final(client: httpx.AsyncClient) -> int:
    """Messages with a final status, from the service's own metrics."""
    text = (await client.get("/metrics")).text
    total = 0
    for line in text.splitlines():
        if line.startswith("tidings_messages{"):
            status = line.split('status="', 1)[1].split('"', 1)[0]
            if status in FINAL:
                total += int(float(line.rsplit(" ", 1)[1]))
    return total


async def batch_phase(
    base: str, secret: str, count: int, service_pid: int
) -> tuple[float, float, float | None]:
    """Accepted and end-to-end messages/s, and the service's CPU µs per message (or None)."""
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        bodies = []
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            bodies.append(
                {
                    "to": [f"+35840{n:07d}" for n in range(start, start + size)],
                    "from": "Tidings",
                    "body": "Your code is 123456. It expires in 10 minutes.",
                }
            )
        cpu_before = cpu_seconds(service_pid)
        started = time.perf_counter()
        semaphore = asyncio.Semaphore(2)

        async def post(body: dict[str, object]) -> None:
            async with semaphore:
                answer = await client.post("/v1/messages", json=body)
                if answer.status_code != 202:
                    raise SystemExit(f"batch refused: {answer.status_code} {answer.text[:300]}")

        await asyncio.gather(*(post(b) for b in bodies))
        accepted = time.perf_counter() - started
        print(f"accepted {count:,} in {accepted:.2f} s: {count / accepted:,.0f} messages/s")
        while True:
            done = await count_final(client)
            elapsed = time.perf_counter() - started
            if done >= count:
                break
            if elapsed > max(600.0, count / 50):
                raise SystemExit(f"only {done:,} of {count:,} final after {elapsed:.0f} s")
            await asyncio.sleep(0.25)
        e2e = time.perf_counter() - started
        cpu_after = cpu_seconds(service_pid)
        cpu_us = None
        if cpu_before is not None and cpu_after is not None:
            cpu_us = round((cpu_after - cpu_before) * 1e6 / count, 1)
        print(
            f"all {count:,} final in {e2e:.2f} s: {count / e2e:,.0f} messages/s end to end; "
            f"service CPU {cpu_us} µs/message"
        )
        return count / accepted, count / e2e, cpu_us


async def single_phase_httpx(base: str, secret: str, count: int) -> tuple[float, list[float]]:
    headers = {"Authorization": f"Bearer {secret}"}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)

    async def send(client: httpx.AsyncClient, n: int) -> tuple[int, str]:
        body = {"to": f"+35850{n:07d}", "from": "Tidings", "body": "Hello"}
        answer = await client.post("/v1/messages", json=body)
        return answer.status_code, answer.text

    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=30, limits=limits
    ) as client:
        return await concurrent_requests(client, count, send, 202)


async def concurrent_requests(
    client: Client,
    count: int,
    request: Callable[[Client, int], Awaitable[tuple[int, str]]],
    accepted_status: int,
) -> tuple[float, list[float]]:
    """Requests/s and latencies of ``count`` calls of ``request(client, n)`` at concurrency
    10; each returns its HTTP status and body, and any other status than ``accepted_status``
    ends the bench."""
    latencies: list[float] = []
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            status, text = await request(client, remaining)
            latencies.append(time.perf_counter() - started)
            if status != accepted_status:
                raise SystemExit(f"request refused: {status} {text[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - started), latencies


async def single_phase_aiohttp(base: str, secret: str, count: int) -> tuple[float, list[float]]:
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    async def send(session: aiohttp.ClientSession, n: int) -> tuple[int, str]:
        body = json.dumps({"to": f"+35850{n:07d}", "from": "Tidings", "body": "Hello"})
        async with session.post("/v1/messages", data=body) as answer:
            return answer.status, await answer.text()

    async with aiohttp.ClientSession(
        base_url=base,
        headers=headers,
        connector=aiohttp.TCPConnector(limit=CONCURRENCY),
        timeout=aiohttp.ClientTimeout(total=30),
    ) as session:
        return await concurrent_requests(session, count, send, 202)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), or None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class BenchService:
    """The service under test, its simulator, and a key of an account with no rate limit."""

    base: str
    secret: str
    pid: int
    smpp_port: int


@contextlib.contextmanager
def bench_service(database_url: str | None = None) -> Iterator[BenchService]:
    """A simulator in its own process and ``tidings serve --no-simulator`` bound to it, on
    SQLite in a temporary directory unless ``database_url`` is given."""
    with tempfile.TemporaryDirectory(prefix="tidings-bench-") as tmp:
        http_port, smpp_port = free_port(), free_port()
        env = service_environment(
            Path(tmp), smpp_port, database_url, TIDINGS_HTTP_PORT=str(http_port)
        )
        subprocess.run(tidings("migrate"), env=env, check=True, stdout=subprocess.DEVNULL)
        account = json.loads(
            subprocess.run(
                tidings(
                    "accounts", "create", "Bench", "--rate-limit", "1000000/1 second", "-o", "json"
                ),
                env=env,
                check=True,
                capture_output=True,
            ).stdout
        )
        key = json.loads(
            subprocess.run(
                tidings("accounts", "key", account["id"], "-o", "json"),
                env=env,
                check=True,
                capture_output=True,
            ).stdout
        )
        with (
            running(simulator_command(smpp_port), env, smpp_port, "simulator"),
            running(tidings("serve", "--no-simulator"), env, http_port, "service") as service,
        ):
            yield BenchService(
                f"http://127.0.0.1:{http_port}", key["secret"], service.pid, smpp_port
            )


def latency_figures(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(latencies)
    p50 = round(statistics.median(ordered) * 1000, 2)
    p99 = round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2)
    return p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=3000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--single-client", choices=("aiohttp", "httpx"), default="aiohttp")
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} count={args.count} database={args.database_url or 'sqlite'}")
    single_phase = single_phase_aiohttp if args.single_client == "aiohttp" else single_phase_httpx
    with bench_service(args.database_url) as service:
        accepted_per_s = e2e_per_s = 0.0
        batch_cpu_us = None
        if args.count > 0:
            accepted_per_s, e2e_per_s, batch_cpu_us = asyncio.run(
                batch_phase(service.base, service.secret, args.count, service.pid)
            )
        single_rps, latencies = 0.0, []
        cpu_before = cpu_after = None
        if args.singles > 0:
            cpu_before = cpu_seconds(service.pid)
            single_rps, latencies = asyncio.run(
                single_phase(service.base, service.secret, args.singles)
            )
            cpu_after = cpu_seconds(service.pid)
    p50 = p99 = service_cpu_ms = None
    if latencies:
        p50, p99 = latency_figures(latencies)
        if cpu_before is not None and cpu_after is not None:
            service_cpu_ms = round((cpu_after - cpu_before) * 1000 / args.singles, 2)
        print(
            f"single-message requests at concurrency {CONCURRENCY} ({args.single_client}): "
            f"{single_rps:,.0f}/s"
        )
        print(f"latency p50 {p50} ms, p99 {p99} ms; service CPU {service_cpu_ms} ms/request")
    print(
        json.dumps(
            {
                "accepted_per_s": round(accepted_per_s),
                "e2e_per_s": round(e2e_per_s),
                "batch_cpu_us": batch_cpu_us,
                "single_rps": round(single_rps),
                "p50_ms": p50,
                "p99_ms": p99,
                "service_cpu_ms": service_cpu_ms,
                "single_client": args.single_client,
            }
        )
    )


if __name__ == "__main__":
    main()
