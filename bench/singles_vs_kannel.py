"""Single-message HTTP requests: tidings and Kannel side by side, on one simulator, in one run.

    python bench/singles_vs_kannel.py [--requests 3000] [--rounds 3]

Issue 3's target for single requests is Kannel's figure, and that figure moves with the host:
on a shared two-core machine two runs an hour apart differ by more than the gap being
measured. So this bench measures both in the same window. It starts our simulator in its own
process, the service bound to it (as ``bench/e2e.py`` does) and Kannel (bearerbox + smsbox, from
the ``kannel`` package, at log level 1) bound to it too. Then, for each round, it sends
``requests`` one-recipient requests at concurrency 10 to Kannel's ``/cgi-bin/sendsms``, then as
many to tidings' ``POST /v1/messages``, both with aiohttp.

The two do not do the same work: tidings stores each message, tracks its receipt and answers
with its id; Kannel queues it in memory and asks for no receipt. The comparison favours Kannel.

The last line is one JSON object: ``kannel_rps`` and ``tidings_rps`` (medians over the rounds)
and ``ratio`` (the median of each round's tidings/Kannel ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import urllib.parse
from pathlib import Path

import aiohttp

from e2e import (
    CONCURRENCY,
    bench_service,
    concurrent_requests,
    cpu_seconds,
    latency_figures,
    single_phase_aiohttp,
)

# The Kannel harness of the interop tests writes the configuration and runs both boxes.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.interop.harness import Kannel, KannelSettings


async def kannel_phase(kannel: Kannel, count: int) -> tuple[float, list[float]]:
    """Requests/s and latencies of ``count`` sendsms requests at concurrency 10."""
    settings = kannel.settings

    async def send(session: aiohttp.ClientSession, n: int) -> tuple[int, str]:
        query = urllib.parse.urlencode(
            {
                "username": settings.sendsms_user,
                "password": settings.sendsms_password,
                "from": "Tidings",
                "to": f"35850{n:07d}",
                "text": "Hello",
            }
        )
        async with session.get(f"/cgi-bin/sendsms?{query}") as answer:
            return answer.status, await answer.text()

    async with aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{settings.sendsms_port}",
        connector=aiohttp.TCPConnector(limit=CONCURRENCY),
        timeout=aiohttp.ClientTimeout(total=30),
    ) as session:
        return await concurrent_requests(session, count, send, 202)


def kannel_cpu(kannel: Kannel) -> float | None:
    """CPU seconds of bearerbox and smsbox together."""
    seconds = [cpu_seconds(process.pid) for process in kannel.processes]
    return None if None in seconds else sum(s for s in seconds if s is not None)


def describe(name: str, rps: float, latencies: list[float], cpu_ms: float | None) -> str:
    p50, p99 = latency_figures(latencies)
    return f"{name}: {rps:,.0f}/s, p50 {p50} ms, p99 {p99} ms, CPU {cpu_ms} ms/request"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    kannel_figures: list[float] = []
    tidings_figures: list[float] = []
    ratios: list[float] = []
    with bench_service() as service, tempfile.TemporaryDirectory(prefix="kannel-bench-") as tmp:
        kannel = Kannel(Path(tmp), KannelSettings(smsc_port=service.smpp_port, log_level=1))
        kannel.start()
        try:
            kannel.wait_ready()
            for round_number in range(1, args.rounds + 1):
                before = kannel_cpu(kannel)
                kannel_rps, kannel_latencies = asyncio.run(kannel_phase(kannel, args.requests))
                after = kannel_cpu(kannel)
                kannel_ms = (
                    None
                    if before is None or after is None
                    else round((after - before) * 1000 / args.requests, 2)
                )
                before = cpu_seconds(service.pid)
                tidings_rps, tidings_latencies = asyncio.run(
                    single_phase_aiohttp(service.base, service.secret, args.requests)
                )
                after = cpu_seconds(service.pid)
                tidings_ms = (
                    None
                    if before is None or after is None
                    else round((after - before) * 1000 / args.requests, 2)
                )
                print(f"round {round_number}")
                print("  " + describe("Kannel ", kannel_rps, kannel_latencies, kannel_ms))
                print("  " + describe("tidings", tidings_rps, tidings_latencies, tidings_ms))
                kannel_figures.append(kannel_rps)
                tidings_figures.append(tidings_rps)
                ratios.append(tidings_rps / kannel_rps)
        finally:
            kannel.stop()
    print(
        json.dumps(
            {
                "kannel_rps": round(statistics.median(kannel_figures)),
                "tidings_rps": round(statistics.median(tidings_figures)),
                "ratio": round(statistics.median(ratios), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
