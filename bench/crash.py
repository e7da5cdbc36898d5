"""Crash duplicates: a burst, ``kill -9`` of the service while it accepts and while it
dispatches, a restart, and then what was answered, stored and arrived.

    python bench/crash.py [--messages 20000] [--writer-batch 1000]

The simulator runs in a process of its own (it outlives the kills and counts every submit it
accepts); the service (``tidings serve --no-simulator``) on SQLite in a temporary directory.
Each phase sends ``messages`` messages, one recipient each, in requests of 500, each request
with its own Idempotency-Key, as a careful client sends them:

- accept: the service is killed once a third of the requests are answered, while the others
  are on their way; after the restart the client sends the unanswered requests again.
- dispatch: every request is answered first, the messages scheduled a few seconds ahead so
  that all of them wait in the queue; the service is killed once the SMSC has accepted a third
  of them.

After the restart every stored message must reach its final status. Per phase: answered (202),
stored, lost (answered but not stored), submits the SMSC accepted, duplicates (submits beyond
one per stored message: the handset got it twice) and the bound duplicates must stay within,
one window per bind plus one status-writer batch (``--writer-batch``, the service's
``TIDINGS_STATUS_WRITE_BATCH``: a small one makes the bound tight enough for a small run to
fail on a service without back-pressure). The last line is JSON. Exit status 1 when a message
was lost or duplicates exceed the bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from processes import (
    free_port,
    running,
    service_environment,
    simulator_command,
    start_process,
    stop_process,
    tidings,
)

REQUEST_SIZE = 500
# The simulator route: one bind, window 100; the status writer's largest batch by default.
WINDOW, BINDS, WRITER_BATCH = 100, 1, 1000
# The dispatch phase's messages are accepted this far ahead of their send time (seconds per
# 1,000 messages, at least 5), so that they are all queued when dispatching starts.
SCHEDULE_AHEAD_PER_1000 = 1.0
FINAL = ("delivered", "undelivered", "expired", "rejected", "failed", "cancelled", "unknown")


class Service:
    """``tidings serve`` that the bench kills with SIGKILL and starts again."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = tidings("serve", "--no-simulator", "--port", str(self.port))
        self.process = start_process(command, self.env, self.port, "the service", quiet=True)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


def stored(database: Path, body: str) -> tuple[dict[str, str], int]:
    """The phase's messages in the database (id → status) and how many distinct recipients."""
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT id, status, recipient FROM messages WHERE body = ?", (body,)
        ).fetchall()
    return {row[0]: row[1] for row in rows}, len({row[2] for row in rows})


async def submits_accepted(control: httpx.AsyncClient) -> int:
    return int((await control.get("/stats")).json()["submits"])


async def send(
    http: httpx.AsyncClient, requests: dict[str, dict[str, object]], answered: dict[str, list[str]]
) -> None:
    """Send each request (by its idempotency key) not answered yet, two at a time."""
    semaphore = asyncio.Semaphore(2)

    async def post(key: str, body: dict[str, object]) -> None:
        async with semaphore:
            try:
                answer = await http.post(
                    "/v1/messages", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError:
                return  # killed before it answered: not answered
            if answer.status_code == 202:
                answered[key] = [m["id"] for m in answer.json()["messages"]]

    pending = [post(k, b) for k, b in requests.items() if k not in answered]
    await asyncio.gather(*pending)


async def phase(
    name: str,
    count: int,
    service: Service,
    secret: str,
    control_port: int,
    database: Path,
    bound: int,
) -> dict[str, object]:
    text = f"crash test, {name} phase"
    prefix = "1" if name == "accept" else "2"
    ahead = max(5.0, count / 1000 * SCHEDULE_AHEAD_PER_1000)
    send_at = (datetime.now(UTC) + timedelta(seconds=ahead)).isoformat()
    requests: dict[str, dict[str, object]] = {}
    for start in range(0, count, REQUEST_SIZE):
        numbers = range(start, min(start + REQUEST_SIZE, count))
        body: dict[str, object] = {
            "to": [f"+3584{prefix}{n:07d}" for n in numbers],
            "from": "Tidings",
            "body": text,
        }
        if name == "dispatch":
            body["send_at"] = send_at
        requests[f"{name}-{start}"] = body
    answered: dict[str, list[str]] = {}
    base = f"http://127.0.0.1:{service.port}"
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{control_port}", timeout=30
    ) as control:
        before = await submits_accepted(control)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
            if name == "accept":
                sending = asyncio.create_task(send(http, requests, answered))
                while True:  # polls the client's own progress
                    if len(answered) >= len(requests) // 3 or sending.done():
                        break
                    await asyncio.sleep(0.005)
                service.kill()
                await sending
            else:
                await send(http, requests, answered)
                while True:  # polls the simulator, another process
                    if await submits_accepted(control) - before >= count // 3:
                        break
                    await asyncio.sleep(0.005)
                service.kill()
        answered_before_restart = sum(len(ids) for ids in answered.values())
        service.start()
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
            await send(http, requests, answered)  # what was not answered, again
            deadline = time.monotonic() + max(600.0, count / 10)
            while True:
                statuses, recipients = stored(database, text)
                if statuses and all(s in FINAL for s in statuses.values()):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name}: messages still not final after the restart")
                await asyncio.sleep(0.5)
        submits = await submits_accepted(control) - before
    answered_ids = {i for ids in answered.values() for i in ids}
    lost = len(answered_ids - statuses.keys())
    delivered = sum(1 for s in statuses.values() if s == "delivered")
    return {
        "phase": name,
        "answered_before_kill": answered_before_restart,
        "answered": len(answered_ids),
        "stored": len(statuses),
        "stored_twice": len(statuses) - recipients,
        "lost": lost,
        "delivered": delivered,
        "submits": submits,
        "duplicates": submits - delivered,
        "bound": bound,
    }


async def main(count: int, writer_batch: int) -> int:
    bound = WINDOW * BINDS + writer_batch
    with tempfile.TemporaryDirectory(prefix="tidings-crash-") as directory:
        data = Path(directory)
        smpp_port, control_port, http_port = free_port(), free_port(), free_port()
        env = service_environment(
            data,
            smpp_port,
            TIDINGS_RATE_LIMIT="1000000/60 seconds",
            TIDINGS_STATUS_WRITE_BATCH=str(writer_batch),
        )
        simulator = simulator_command(smpp_port, control_port=control_port, receipt_delay=0.01)
        results = []
        with running(simulator, env, control_port, "the simulator", quiet=True):
            service = Service(env, http_port)
            service.start()
            try:
                secret = json.loads((data / "demo-credentials.json").read_text())["secret"]
                for name in ("accept", "dispatch"):
                    result = await phase(
                        name, count, service, secret, control_port, data / "tidings.db", bound
                    )
                    print(
                        f"{name:8}: answered {result['answered']:,} (before the kill "
                        f"{result['answered_before_kill']:,}), stored {result['stored']:,}, "
                        f"lost {result['lost']}, SMSC accepted {result['submits']:,}, "
                        f"duplicates {result['duplicates']} (bound {bound})"
                    )
                    results.append(result)
            finally:
                service.stop()
    print(json.dumps(results))
    failed = any(
        r["lost"] or r["stored_twice"] or int(str(r["duplicates"])) > bound for r in results
    )
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--writer-batch", type=int, default=WRITER_BATCH)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.messages, arguments.writer_batch)))
