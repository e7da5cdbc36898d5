"""The console in a real browser: Debian's Chromium driven by Playwright, against a real
``tidings serve`` (API, dispatcher, embedded SMSC simulator, console) in its own process on
free ports of 127.0.0.1, as ``make run`` starts it.

One service serves the whole browser suite and one browser each module (each test has its own
browser context, so its own cookies); tests use numbers of their own so they never see each other's
messages. Without Chromium or Playwright the tests skip with the reason, except under
TIDINGS_REQUIRE_PEERS=1 (CI), where they fail.

Set TIDINGS_SCREENSHOTS_DIR to keep screenshots of the pages the tests visit (desktop and
phone width).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.interop.harness import peer_unavailable
from tests.ports import free_port

CHROMIUM = "/usr/bin/chromium"
# As BRIEF-independent advice for headless Chromium on a closed network: no GPU, no QUIC, no
# background requests to Google's hosts that would fail one by one.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# What the browser waits for before a test fails; receipts come within a second here, but CI runs
# two workers beside Chromium, LibreOffice and the peers on two cores.
EXPECT_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Console:
    """The running service as a browser test sees it."""

    url: str
    data_dir: Path
    env: dict[str, str]
    account_id: str
    api_secret: str
    email: str
    password: str
    simulator_control: str

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.api_secret}"},
            timeout=30.0,
        )

    def cli(self, *args: str) -> Any:
        """Run ``tidings <args> -o json`` against the service's database; its parsed output."""
        done = subprocess.run(
            [sys.executable, "-m", "tidings.cli", *args, "-o", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    # A new process imports the whole service and migrates its database: with both workers
    # starting Chromium and a service beside other suites on two cores, that once took over 60 s.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tidings serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=10.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"tidings serve did not become ready: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    data_dir = tmp_path_factory.mktemp("console-service")
    port = free_port()
    control = free_port()
    env = {
        **os.environ,
        # serve saves the demo account's credentials for the CLI in the user's config directory.
        "XDG_CONFIG_HOME": str(data_dir / "config"),
        "TIDINGS_DATA_DIR": str(data_dir),
        "TIDINGS_HTTP_PORT": str(port),
        "TIDINGS_SIMULATOR_PORT": str(free_port()),
        "TIDINGS_SIMULATOR_CONTROL_PORT": str(control),
        # Every test signs in; the limit itself is tested without a browser.
        "TIDINGS_CONSOLE_SIGNIN_RATE": "1000/60 seconds",
        # The webhook test's receiver listens on 127.0.0.1.
        "TIDINGS_WEBHOOK_ALLOW_LOOPBACK": "true",
        "TIDINGS_OUTBOX_POLL_SECONDS": "0.1",
        "TIDINGS_WEBHOOK_BACKOFF_BASE_SECONDS": "0.1",
        "TIDINGS_WEBHOOK_BACKOFF_CAP_SECONDS": "0.2",
        "TIDINGS_WEBHOOK_GIVE_UP_AFTER_SECONDS": "1",
        # Tests check the simulator through /v1/simulator with the demo account's (tenant) key.
        "TIDINGS_OPERATIONS_NETWORKS": '["127.0.0.1/32"]',
    }
    env.pop("TIDINGS_DATABASE_URL", None)
    log = data_dir / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tidings.cli", "serve"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        demo = json.loads((data_dir / "demo-credentials.json").read_text())
        login = json.loads((data_dir / "demo-console.json").read_text())
        yield Console(
            url=url,
            data_dir=data_dir,
            env=env,
            account_id=demo["account_id"],
            api_secret=demo["secret"],
            email=login["email"],
            password=login["password"],
            simulator_control=f"http://127.0.0.1:{control}",
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Per module, not per session: Playwright's synchronous API runs an event loop in this thread
# while it is open, and the suite's asyncio tests in other modules need the thread's loop free.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        peer_unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        peer_unavailable("playwright is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    opened = browser.new_context(viewport=DESKTOP)
    opened.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def sign_in(
    page: Any, console: Console, email: str | None = None, password: str | None = None
) -> None:
    page.goto(f"{console.url}/signin")
    page.get_by_label("E-mail address").fill(email or console.email)
    page.get_by_label("Password").fill(password or console.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/signin).*$"))


def serious_accessibility_violations(page: Any) -> list[str]:
    """axe-core (the copy shipped in axe-playwright-python) run in the page: its serious and
    critical violations, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def snap(page: Any, name: str) -> None:
    """Keep a screenshot of the page at desktop and phone width when asked to."""
    directory = os.environ.get("TIDINGS_SCREENSHOTS_DIR")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=f"{directory}/{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    page.screenshot(path=f"{directory}/{name}-phone.png", full_page=True)
    page.set_viewport_size(size)
