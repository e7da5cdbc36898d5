"""SMS, MMS and WhatsApp through the same pipeline: HTTP API → store → dispatcher → carrier
protocol → far end → receipt → store.

    python bench/channels.py [--channel sms|mms|mms-resize|whatsapp|whatsapp-template ...]
                             [--messages 2000] [--runs 2] [--database-url URL]

Each run of a case starts a far end in its own process (the SMSC, the MMSC and the WhatsApp
Cloud API simulators, every message delivered, no simulated network delay) and ``tidings serve
--no-simulator`` (role all) in another, on SQLite in a temporary directory unless
``--database-url`` is given, with an MM7 route and a WhatsApp Cloud API route to the far end.
It then sends ``messages`` messages through the batch API (``POST /v1/messages``, 1,000
recipients per request, two requests at once, as ``e2e.py`` does) and waits until every one is
delivered. Cases:

- ``sms``: the reference, a one-part SMS over SMPP (the same as ``e2e.py``'s batch phase);
- ``mms``: a 640×480 JPEG (about 60 KB, within the route's 300 KB) and a line of text, over MM7;
- ``mms-resize``: a 2000×1500 photo (about 1.5 MB) that the route's 300 KB limit makes the
  dispatcher scale and recompress; the bench also converts it once itself, to compare the
  service's extra CPU with the cost of one conversion;
- ``whatsapp``: free-form text; each recipient writes to the business number first (the
  simulator's inbound message, as a handset does), which opens the 24-hour window;
- ``whatsapp-template``: an approved template with one body parameter (no window needed).

Runs alternate between the cases (sms, mms, ..., sms, mms, ...) so that the shared machine's
load falls on all of them alike. For each run it prints accepted/s (first request to last
202), submitted/s (to the last message sent to the carrier), delivered/s (to the last
delivered), the latency from acceptance to delivered (p50/p95/p99 in ms, to 0.1 s: the bench
reads the service's counts every 0.1 s, and the k-th message accepted is taken as the k-th
delivered), and the service process's CPU time per message over the
run (API, dispatcher, status writer, webhook and MM7 callbacks; the bench's polling of
``/metrics`` included). Then per case the median of its runs, the spread (min–max) and the
ratio to SMS. The host's load average is printed before and after since the machine is shared.
The last line is one JSON object with every run's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from processes import free_port, running, service_environment, tidings

CASES = ("sms", "mms", "mms-resize", "whatsapp", "whatsapp-template")
BATCH = 1000
# How often the bench reads the service's counts (the latencies' resolution).
POLL_S = 0.1
SUBMITTED = ("sent", "delivered", "undelivered", "expired", "rejected", "failed", "unknown")
FINAL = ("delivered", "undelivered", "expired", "rejected", "failed", "cancelled")
BUSINESS_NUMBER = "+358409990100"
PHONE_NUMBER_ID = "109876543210001"
WABA_ID = "102290129340398"
MMS_ROUTE = "bench-mmsc"
WHATSAPP_ROUTE = "bench-whatsapp"
TEMPLATE = "bench_order_ready"


# --- the far end, in a process of its own ---------------------------------------------------


async def far_end(settings: dict[str, Any]) -> None:
    """The SMSC, MMSC and Cloud API, delivering everything at once. Reads commands on stdin:
    a JSON list of numbers sends a WhatsApp message from each to the business number (opening
    its window), answered ``OPENED`` once the service took every webhook; EOF stops it."""
    from tidings.logs import configure_logging
    from tidings.net.mm7 import BasicAuth
    from tidings.simulator import Simulator, SimulatorConfig
    from tidings.simulator.mmsc import MmscConfig
    from tidings.simulator.whatsapp import BusinessNumber, CloudApi, CloudApiConfig

    # Its logs on standard error, warnings only: standard output answers the bench.
    configure_logging(level=os.environ.get("BENCH_FAR_END_LOG_LEVEL", "warning"))
    simulator = Simulator(
        SimulatorConfig(
            smpp_port=settings["smpp_port"],
            control_port=None,
            receipt_delay_s=0.0,
            rules=(),
            mmsc=MmscConfig(
                port=settings["mms_port"],
                vasp_url=settings["vasp_url"],
                vasp_auth=BasicAuth("bench-mmsc", settings["app_secret"]),
                rules=(),
                report_delay_s=0.0,
            ),
        )
    )
    cloud = CloudApi(
        CloudApiConfig(
            port=settings["whatsapp_port"],
            access_token=settings["access_token"],
            app_secret=settings["app_secret"],
            verify_token=settings["verify_token"],
            waba_id=WABA_ID,
            webhook_url=settings["webhook_url"],
            numbers=(BusinessNumber(PHONE_NUMBER_ID, BUSINESS_NUMBER),),
            rules=(),
            status_delay_s=0.0,
            review_delay_s=0.2,
        )
    )
    await simulator.start()
    await cloud.start()
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            for number in json.loads(line):
                cloud.inject(number, PHONE_NUMBER_ID, text="Hi, any news on my order?")
            # The simulator sends its webhooks one by one: wait until the last was taken.
            for _ in itertools.count():
                if not cloud.pending_webhooks:
                    break
                await asyncio.sleep(0.05)
            print("OPENED", flush=True)
    finally:
        await cloud.stop()
        await simulator.stop()


@contextlib.contextmanager
def far_end_process(settings: dict[str, Any]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--far-end", json.dumps(settings)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "READY":
            raise SystemExit("the far end did not start")
        yield process
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the service under test -----------------------------------------------------------------


@dataclass(frozen=True)
class Bench:
    base: str
    secret: str
    pid: int
    far_end: subprocess.Popen[str]


def cli_json(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(tidings(*args, "-o", "json"), env=env, check=True, capture_output=True)
    return json.loads(done.stdout)


@contextlib.contextmanager
def bench_service(database_url: str | None, profile: str | None = None) -> Iterator[Bench]:
    """The far end and ``tidings serve --no-simulator`` with routes to it, and a key of an
    account with no rate limit whose sender is the far end's WhatsApp business number."""
    with tempfile.TemporaryDirectory(prefix="tidings-bench-") as tmp:
        data = Path(tmp)
        http_port, smpp_port, mms_port, whatsapp_port = (free_port() for _ in range(4))
        base = f"http://127.0.0.1:{http_port}"
        far = {
            "smpp_port": smpp_port,
            "mms_port": mms_port,
            "whatsapp_port": whatsapp_port,
            "vasp_url": f"{base}/carriers/mm7/{MMS_ROUTE}",
            "webhook_url": f"{base}/carriers/whatsapp-cloud/{WHATSAPP_ROUTE}",
            "access_token": secrets.token_urlsafe(24),
            "app_secret": secrets.token_urlsafe(24),
            "verify_token": secrets.token_urlsafe(12),
        }
        config = data / "routes.toml"
        env = service_environment(
            data,
            smpp_port,
            database_url,
            TIDINGS_HTTP_PORT=str(http_port),
            TIDINGS_CONFIG_FILE=str(config),
        )
        subprocess.run(tidings("migrate"), env=env, check=True, stdout=subprocess.DEVNULL)
        account = cli_json(env, "accounts", "create", "Bench", "--rate-limit", "1000000/1 second")
        key = cli_json(env, "accounts", "key", account["id"])
        config.write_text(
            f"""
[[routes]]
name = "{MMS_ROUTE}"
kind = "mm7"
default = true
url = "http://127.0.0.1:{mms_port}/mm7"
vasp_id = "bench"
inbound_username = "bench-mmsc"
inbound_password = "{far["app_secret"]}"

[[routes]]
name = "{WHATSAPP_ROUTE}"
kind = "whatsapp-cloud"
default = true
base_url = "http://127.0.0.1:{whatsapp_port}"
waba_id = "{WABA_ID}"
phone_number_id = "{PHONE_NUMBER_ID}"
access_token = "{far["access_token"]}"
app_secret = "{far["app_secret"]}"
verify_token = "{far["verify_token"]}"

[[senders]]
account = "{account["id"]}"
address = "{BUSINESS_NUMBER}"
route = "{WHATSAPP_ROUTE}"
"""
        )
        serve = tidings("serve", "--no-simulator")
        if profile:
            serve = [sys.executable, "-m", "cProfile", "-o", profile, "-m", *serve[2:]]
        with (
            far_end_process(far) as far_end,
            running(serve, env, http_port, "service") as service,
        ):
            yield Bench(base, key["secret"], service.pid, far_end)


# --- content --------------------------------------------------------------------------------


def photo(width: int, height: int, quality: int) -> bytes:
    """A JPEG with a photo's detail (gradients and grain), so it compresses as one does."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack(
        [
            128 + 100 * np.sin(x / 97.0) * np.cos(y / 61.0),
            128 + 90 * np.cos((x + y) / 143.0),
            128 + 80 * np.sin(y / 37.0),
        ],
        axis=-1,
    )
    grain = rng.normal(0, 18, (height, width, 3))
    pixels = np.clip(base + grain, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def one_conversion_cpu_ms(data: bytes) -> float:
    """CPU time of fitting ``data`` to an MM7 route's default limit once, in this process."""
    from tidings.media.convert import Converter, Target

    started = time.process_time()
    asyncio.run(Converter().convert(data, Target()))
    return (time.process_time() - started) * 1000


# --- one run --------------------------------------------------------------------------------


@dataclass
class RunFigures:
    case: str
    accepted_per_s: float
    submitted_per_s: float
    delivered_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_us_per_message: float | None


def recipients(count: int) -> list[str]:
    return [f"+35840{n:07d}" for n in range(1, count + 1)]


async def counts(client: httpx.AsyncClient) -> dict[str, int]:
    """Messages by status, from the service's own metrics."""
    found: dict[str, int] = {}
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith("tidings_messages{"):
            status = line.split('status="', 1)[1].split('"', 1)[0]
            found[status] = int(float(line.rsplit(" ", 1)[1]))
    return found


async def prepare(client: httpx.AsyncClient, bench: Bench, case: str, numbers: list[str]) -> Any:
    """What every request of the case carries besides ``to``."""
    if case == "sms":
        return {"from": "Tidings", "body": "Your code is 123456. It expires in 10 minutes."}
    if case in ("mms", "mms-resize"):
        data = photo(640, 480, 80) if case == "mms" else photo(2000, 1500, 92)
        answer = await client.post("/v1/media", files={"file": ("photo.jpg", data, "image/jpeg")})
        if answer.status_code != 201:
            raise SystemExit(f"upload refused: {answer.status_code} {answer.text[:300]}")
        print(f"  {case}: uploaded a {len(data):,}-byte JPEG")
        return {
            "from": "+358409990200",
            "channel": "mms",
            "subject": "Your order",
            "body": "Here is a photo of your order, ready for collection.",
            "media": [answer.json()["id"]],
        }
    if case == "whatsapp":
        assert bench.far_end.stdin is not None and bench.far_end.stdout is not None
        bench.far_end.stdin.write(json.dumps(numbers) + "\n")
        bench.far_end.stdin.flush()
        line = await asyncio.to_thread(bench.far_end.stdout.readline)
        if line.strip() != "OPENED":
            raise SystemExit("the far end did not open the windows")
        body = {
            "from": BUSINESS_NUMBER,
            "channel": "whatsapp",
            "body": "Your order is ready for collection at the counter.",
        }
        # The webhooks were taken; the inbound messages are stored by the status writer.
        deadline = time.monotonic() + 120
        while True:
            preview = await client.post(
                "/v1/messages/preview", json={**body, "to": numbers[-BATCH:]}
            )
            windows = preview.json().get("whatsapp", {}).get("window_open", {})
            if preview.status_code == 200 and all(windows.values()) and windows:
                return body
            if time.monotonic() > deadline:
                raise SystemExit(f"windows not open: {preview.status_code} {preview.text[:300]}")
            await asyncio.sleep(0.5)
    assert case == "whatsapp-template"
    answer = await client.post(
        "/v1/whatsapp/templates",
        json={
            "from": BUSINESS_NUMBER,
            "name": TEMPLATE,
            "language": "en_US",
            "category": "UTILITY",
            "body": "Hi {{1}}, your order is ready for collection.",
        },
    )
    if answer.status_code != 201:
        raise SystemExit(f"template refused: {answer.status_code} {answer.text[:300]}")
    template_id = answer.json()["id"]
    deadline = time.monotonic() + 120
    while (await client.get(f"/v1/whatsapp/templates/{template_id}")).json()[
        "status"
    ] != "APPROVED":
        if time.monotonic() > deadline:
            raise SystemExit("the template was not approved")
        await asyncio.sleep(0.2)
    return {
        "from": BUSINESS_NUMBER,
        "channel": "whatsapp",
        "body": "Hi Alex, your order is ready for collection.",
        "template": {"name": TEMPLATE, "language": "en_US", "body": ["Alex"]},
    }


def latencies_ms(batches: list[tuple[float, int]], curve: list[tuple[float, int]]) -> list[float]:
    """Acceptance to delivered of each message, in ms, taking them as delivered in the order
    their batches were accepted: the k-th delivered is the k-th accepted. Measured here (to
    ``POLL_S``), not from the messages' own times: an MM7 report's and a WhatsApp status's time
    is the far end's, in whole seconds."""
    found: list[float] = []
    index = 0
    for accepted_at, size in batches:
        for _ in range(size):
            index += 1
            delivered_at = next(at for at, delivered in curve if delivered >= index)
            found.append(max(0.0, delivered_at - accepted_at) * 1000)
    return found


def percentile(ordered: list[float], fraction: float) -> float:
    return round(ordered[max(0, int(len(ordered) * fraction + 0.5) - 1)], 1)


async def run_case(bench: Bench, case: str, count: int) -> RunFigures:
    headers = {"Authorization": f"Bearer {bench.secret}"}
    async with httpx.AsyncClient(base_url=bench.base, headers=headers, timeout=300) as client:
        numbers = recipients(count)
        common = await prepare(client, bench, case, numbers)
        before = await counts(client)
        already = sum(before.get(s, 0) for s in FINAL)
        bodies = [{**common, "to": numbers[i : i + BATCH]} for i in range(0, count, BATCH)]
        cpu_before = cpu_seconds(bench.pid)
        started = time.perf_counter()
        semaphore = asyncio.Semaphore(2)

        # When each batch was accepted (its 202), in the order they were.
        batches: list[tuple[float, int]] = []

        async def post(body: dict[str, Any]) -> None:
            async with semaphore:
                answer = await client.post("/v1/messages", json=body)
                if answer.status_code != 202:
                    raise SystemExit(f"batch refused: {answer.status_code} {answer.text[:300]}")
                batches.append((time.perf_counter() - started, len(body["to"])))

        await asyncio.gather(*(post(b) for b in bodies))
        accepted = time.perf_counter() - started
        submitted: float | None = None
        # (seconds since the start, messages delivered so far), one per look at /metrics.
        curve: list[tuple[float, int]] = []
        while True:
            now = await counts(client)
            elapsed = time.perf_counter() - started
            curve.append((elapsed, now.get("delivered", 0) - before.get("delivered", 0)))
            if submitted is None and sum(now.get(s, 0) for s in SUBMITTED) - already >= count:
                submitted = elapsed
            done = sum(now.get(s, 0) for s in FINAL) - already
            if done >= count:
                break
            if elapsed > max(600.0, count / 5):
                raise SystemExit(f"{case}: only {done:,} of {count:,} final after {elapsed:.0f} s")
            await asyncio.sleep(POLL_S)
        delivered = time.perf_counter() - started
        cpu_after = cpu_seconds(bench.pid)
        if now.get("delivered", 0) - before.get("delivered", 0) < count:
            raise SystemExit(f"{case}: not every message was delivered: {now}")
    ordered = sorted(latencies_ms(batches, curve))
    cpu_us = None
    if cpu_before is not None and cpu_after is not None:
        cpu_us = round((cpu_after - cpu_before) * 1e6 / count, 1)
    figures = RunFigures(
        case,
        round(count / accepted, 1),
        round(count / (submitted or delivered), 1),
        round(count / delivered, 1),
        percentile(ordered, 0.50),
        percentile(ordered, 0.95),
        percentile(ordered, 0.99),
        cpu_us,
    )
    print(
        f"  {case}: accepted {figures.accepted_per_s:,.0f}/s, submitted "
        f"{figures.submitted_per_s:,.0f}/s, delivered {figures.delivered_per_s:,.0f}/s; "
        f"latency p50 {figures.p50_ms} ms, p95 {figures.p95_ms} ms, p99 {figures.p99_ms} ms; "
        f"service CPU {cpu_us} µs/message",
        flush=True,
    )
    return figures


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), or None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    return "unknown"


FIGURES = (
    "accepted_per_s",
    "submitted_per_s",
    "delivered_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "cpu_us_per_message",
)


def summary(runs: list[RunFigures], cases: list[str]) -> dict[str, dict[str, Any]]:
    """Per case: each figure's median over its runs, its min–max, and the median's ratio to
    SMS's (when SMS ran)."""
    table: dict[str, dict[str, Any]] = {}
    for case in cases:
        mine = [asdict(r) for r in runs if r.case == case]
        table[case] = {}
        for name in FIGURES:
            values = [r[name] for r in mine if r[name] is not None]
            if values:
                table[case][name] = {
                    "median": round(statistics.median(values), 1),
                    "min": min(values),
                    "max": max(values),
                }
    if "sms" in table:
        for case in cases:
            for name, value in table[case].items():
                reference = table["sms"].get(name, {}).get("median")
                if reference:
                    value["vs_sms"] = round(value["median"] / reference, 2)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", action="append", choices=CASES, dest="cases")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--profile", metavar="FILE", help="run the service under cProfile, its stats to FILE"
    )
    parser.add_argument("--far-end", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.far_end:
        asyncio.run(far_end(json.loads(args.far_end)))
        return
    cases = args.cases or list(CASES)
    if "sms" not in cases:
        cases.insert(0, "sms")
    start_load = load_average()
    print(
        f"cpus={os.cpu_count()} messages={args.messages} runs={args.runs} "
        f"database={args.database_url or 'sqlite'} load average {start_load}",
        flush=True,
    )
    conversion_ms = None
    if "mms-resize" in cases:
        conversion_ms = round(one_conversion_cpu_ms(photo(2000, 1500, 92)), 1)
        print(f"one conversion of the 2000×1500 photo to 300 KB: {conversion_ms} ms CPU here")
    runs: list[RunFigures] = []
    for run in range(1, args.runs + 1):
        for case in cases:
            print(f"run {run}, {case} (load average {load_average()})", flush=True)
            profile = f"{args.profile}.{case}.{run}" if args.profile else None
            with bench_service(args.database_url, profile) as bench:
                runs.append(asyncio.run(run_case(bench, case, args.messages)))
    table = summary(runs, cases)
    print(f"\nmedian of {args.runs} runs [min–max], ratio to SMS:")
    for case, figures in table.items():
        shown = ", ".join(
            f"{name} {value['median']:,} [{value['min']:,}–{value['max']:,}]"
            + (f" ×{value['vs_sms']}" if case != "sms" and "vs_sms" in value else "")
            for name, value in figures.items()
        )
        print(f"  {case}: {shown}")
    end_load = load_average()
    print(f"load average before {start_load}, after {end_load}")
    print(
        json.dumps(
            {
                "messages": args.messages,
                "load_average": [start_load, end_load],
                "one_conversion_cpu_ms": conversion_ms,
                "summary": table,
                "runs": [asdict(r) for r in runs],
            }
        )
    )


if __name__ == "__main__":
    main()
