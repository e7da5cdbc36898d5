"""Run independent SMPP peers as subprocesses on 127.0.0.1 and watch what they see.

Each SMSC peer script (peers/node_smsc.js, peers/netsmpp_smsc.pl) prints one JSON object per
line on stdout; :class:`PeerProcess` collects them on a reader thread so a test can wait for an
event with a timeout, synchronously (blocking clients such as smpplib) or asynchronously (asyncio
code under test, which must keep running while the test waits). :class:`Kannel` runs bearerbox and
smsbox as an ESME, and :class:`HttpSink` records the HTTP callbacks Kannel makes (dlr-url, get-url).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.ports import free_port

PEERS_DIR = Path(__file__).resolve().parent / "peers"
REQUIRE_PEERS_ENV = "TIDINGS_REQUIRE_PEERS"
DEFAULT_TIMEOUT = 30.0
# Debian installs Kannel's daemons in /usr/sbin, which is not on every user's PATH.
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")

Event = dict[str, Any]
Predicate = Callable[[Event], bool]


class PeerError(Exception):
    """An interop peer did not start, or stopped before it was expected to."""


def peer_unavailable(reason: str) -> NoReturn:
    """Skip the test because a peer is not installed, or fail when peers are required (CI)."""
    if os.environ.get(REQUIRE_PEERS_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_PEERS_ENV}=1: interop peers must be installed)")
    pytest.skip(reason)


def find_program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in SBIN_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def node_smsc_missing() -> str | None:
    """Why the node-smpp SMSC cannot run here, or None when it can."""
    if find_program("node") is None:
        return "node is not installed"
    if not (PEERS_DIR / "node_modules" / "smpp").is_dir():
        return "node-smpp is not installed (run `npm install` in tests/interop/peers)"
    return None


def netsmpp_smsc_missing() -> str | None:
    """Why the Net::SMPP SMSC cannot run here, or None when it can."""
    perl = find_program("perl")
    if perl is None:
        return "perl is not installed"
    probe = subprocess.run(
        [perl, "-MNet::SMPP", "-MJSON::PP", "-e1"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        return "Perl Net::SMPP is not installed (apt-get install libnet-smpp-perl)"
    return None


def kannel_missing() -> str | None:
    """Why Kannel cannot run here, or None when it can."""
    for program in ("bearerbox", "smsbox"):
        if find_program(program) is None:
            return f"Kannel's {program} is not installed (apt-get install kannel)"
    return None


def port_accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def event_is(kind: str, **fields: Any) -> Predicate:
    """A predicate matching events of one kind whose fields equal the given values."""

    def matches(event: Event) -> bool:
        return event.get("event") == kind and all(event.get(k) == v for k, v in fields.items())

    return matches


def stop_process(process: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Terminate one process we started (by its PID), then kill it if it does not exit."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


class EventLog:
    """Events appended by one thread and awaited by tests, sync or async."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._changed = threading.Condition()
        self.closed = False

    def append(self, event: Event) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def snapshot(self) -> list[Event]:
        with self._changed:
            return list(self._events)

    def _first(self, predicate: Predicate) -> Event | None:
        return next((event for event in self._events if predicate(event)), None)

    def wait_for(self, predicate: Predicate, timeout: float, what: str) -> Event:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._first(predicate)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    break
                self._changed.wait(remaining)
        raise PeerError(f"{what}: no matching event within {timeout}s; saw {self.snapshot()}")

    async def wait_for_async(self, predicate: Predicate, within: float, what: str) -> Event:
        # Polls instead of blocking so the event loop keeps serving the code under test.
        deadline = time.monotonic() + within
        while True:
            with self._changed:
                found = self._first(predicate)
                closed = self.closed
            if found is not None:
                return found
            if closed or time.monotonic() >= deadline:
                raise PeerError(
                    f"{what}: no matching event within {within}s; saw {self.snapshot()}"
                )
            await asyncio.sleep(0.02)


class PeerProcess:
    """A peer SMSC script running as a subprocess that reports events as JSON lines on stdout."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name = name
        self._log_path = log_path
        self._stderr = log_path.open("wb")
        self.process: subprocess.Popen[bytes] = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=PEERS_DIR,
        )
        self._log = EventLog()
        self._reader = threading.Thread(
            target=self._read_stdout, name=f"{name}-stdout", daemon=True
        )
        self._reader.start()
        self.port = 0

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for raw_line in self.process.stdout:
            line = raw_line.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"event": "output", "line": line}
            self._log.append(
                event if isinstance(event, dict) else {"event": "output", "line": line}
            )
        self._log.close()

    def wait_listening(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        try:
            listening = self.wait_for(event_is("listening"), timeout)
        except PeerError as error:
            raise PeerError(f"{self.name} did not start: {self.stderr_text()}") from error
        self.port = int(listening["port"])
        return self.port

    def events(self, kind: str | None = None) -> list[Event]:
        """The events seen so far, optionally only those of one kind."""
        events = self._log.snapshot()
        return events if kind is None else [e for e in events if e.get("event") == kind]

    def wait_for(self, predicate: Predicate, timeout: float = DEFAULT_TIMEOUT) -> Event:
        """Block until an event matches (for blocking clients); raise PeerError on timeout."""
        return self._log.wait_for(predicate, timeout, self.name)

    async def wait_for_async(self, predicate: Predicate, within: float = DEFAULT_TIMEOUT) -> Event:
        """Wait until an event matches without blocking the event loop."""
        return await self._log.wait_for_async(predicate, within, self.name)

    def send_command(self, command: Mapping[str, Any]) -> None:
        """Write one JSON command line to the peer's stdin (node_smsc.js: {"command":"deliver"})."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        self.process.stdin.flush()

    def stderr_text(self) -> str:
        self._stderr.flush()
        return self._log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        stop_process(self.process)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


def node_smsc_argv(system_id: str | None, password: str | None) -> list[str]:
    node = find_program("node")
    assert node is not None
    return [
        node,
        str(PEERS_DIR / "node_smsc.js"),
        "--port",
        "0",
        *_credentials(system_id, password),
    ]


def netsmpp_smsc_argv(system_id: str | None, password: str | None) -> list[str]:
    perl = find_program("perl")
    assert perl is not None
    return [
        perl,
        str(PEERS_DIR / "netsmpp_smsc.pl"),
        "--port",
        "0",
        *_credentials(system_id, password),
    ]


def _credentials(system_id: str | None, password: str | None) -> list[str]:
    argv: list[str] = []
    if system_id is not None:
        argv += ["--system-id", system_id]
    if password is not None:
        argv += ["--password", password]
    return argv


@contextlib.contextmanager
def running_peer(name: str, argv: list[str], workdir: Path) -> Iterator[PeerProcess]:
    peer = PeerProcess(name, argv, workdir / f"{name}.stderr")
    try:
        peer.wait_listening()
        yield peer
    finally:
        peer.stop()


# --- HTTP sink for Kannel's callbacks -------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    path: str
    query: dict[str, str]


class HttpSink:
    """A threaded HTTP server on 127.0.0.1 that answers 200 and records every GET it receives."""

    def __init__(self) -> None:
        self._log = EventLog()
        log = self._log

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
                log.append({"event": "request", "path": parsed.path, "query": query})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, path: str | None = None) -> list[HttpRequest]:
        return [
            HttpRequest(e["path"], e["query"])
            for e in self._log.snapshot()
            if path is None or e["path"] == path
        ]

    @staticmethod
    def _on(path: str, predicate: Callable[[dict[str, str]], bool]) -> Predicate:
        return lambda event: event["path"] == path and predicate(event["query"])

    def wait_for(
        self,
        path: str,
        predicate: Callable[[dict[str, str]], bool] = lambda query: True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> HttpRequest:
        event = self._log.wait_for(self._on(path, predicate), timeout, f"HTTP {path}")
        return HttpRequest(event["path"], event["query"])

    async def wait_for_async(
        self,
        path: str,
        predicate: Callable[[dict[str, str]], bool] = lambda query: True,
        within: float = DEFAULT_TIMEOUT,
    ) -> HttpRequest:
        event = await self._log.wait_for_async(self._on(path, predicate), within, f"HTTP {path}")
        return HttpRequest(event["path"], event["query"])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# --- Kannel as an ESME ----------------------------------------------------------------------------

# Kannel's dlr-url escapes (userguide, "sendsms" / "dlr-url"): %d delivery report type (1 delivered,
# 2 failed, 4 queued on SMSC, 8 ack from SMSC, 16 nack), %A the SMSC's answer (for a receipt: the
# receipt text), %F the message id the SMSC assigned, %i the smsc-id, %p/%P sender/receiver.
DLR_QUERY = "type=%d&answer=%A&smsc_id=%F&smsc=%i&from=%p&to=%P"
MO_QUERY = "from=%p&to=%P&text=%a&coding=%c&charset=%C"


@dataclass
class KannelSettings:
    """What a kannel.conf needs to bind one SMPP transceiver to an SMSC on 127.0.0.1."""

    smsc_port: int
    system_id: str = "kannel"
    password: str = "secret"
    # Kannel 1.4.5 (gw/smsc/smsc_smpp.c, msg-id-type): bit 0 set = the id in deliver_sm receipts
    # is hex, bit 1 set = the id in submit_sm_resp is hex. 0x03: both hex, which matches peers and
    # SMSCs whose message ids are hex strings; use 0x00 for decimal ids.
    msg_id_type: int = 0x03
    smsc_id: str = "sim"
    sendsms_user: str = "tester"
    sendsms_password: str = "testpw"
    admin_password: str = "adminpw"
    admin_port: int = field(default_factory=free_port)
    smsbox_port: int = field(default_factory=free_port)
    sendsms_port: int = field(default_factory=free_port)
    mo_url: str | None = None
    # 0 is debug, which the tests keep for diagnosis; a benchmark runs Kannel as production would.
    log_level: int = 0


def write_kannel_conf(directory: Path, settings: KannelSettings) -> Path:
    """Write kannel.conf for bearerbox + smsbox into ``directory`` and return its path.

    Character set: with no ``alt-charset`` in the smsc group, Kannel converts text that fits the
    GSM default alphabet with its own UTF-8 → GSM 03.38 table and sends it unpacked, one septet per
    octet, with data_coding 0 (extension characters as ESC 0x1B + code, so "€" is 1B 65). That is
    what our simulator expects; ``alt-charset`` would make Kannel send ISO-8859-x/ASCII octets.
    Text outside the GSM alphabet is sent as UCS-2 with data_coding 8.
    """
    s = settings
    mo_service = (
        f"""
group = sms-service
keyword = default
catch-all = true
get-url = "{s.mo_url}?{MO_QUERY}"
max-messages = 0
"""
        if s.mo_url
        else ""
    )
    text = f"""# Written by the tidings interop tests; every port is on 127.0.0.1.
group = core
admin-port = {s.admin_port}
admin-interface = 127.0.0.1
admin-password = {s.admin_password}
status-password = {s.admin_password}
admin-allow-ip = "127.0.0.1"
smsbox-port = {s.smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{directory / "bearerbox.log"}"
log-level = {s.log_level}
access-log = "{directory / "access.log"}"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = {s.smsc_id}
host = 127.0.0.1
port = {s.smsc_port}
transceiver-mode = true
smsc-username = "{s.system_id}"
smsc-password = "{s.password}"
system-type = ""
interface-version = 34
msg-id-type = {s.msg_id_type:#04x}
reconnect-delay = 1
enquire-link-interval = 30
max-pending-submits = 10

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {s.smsbox_port}
sendsms-port = {s.sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{directory / "smsbox.log"}"
log-level = {s.log_level}
access-log = "{directory / "smsbox-access.log"}"

group = sendsms-user
username = {s.sendsms_user}
password = {s.sendsms_password}
forced-smsc = {s.smsc_id}
max-messages = 10
concatenation = true
{mo_service}"""
    path = directory / "kannel.conf"
    path.write_text(text)
    return path


@dataclass(frozen=True)
class SendsmsAnswer:
    status: int
    body: str


_KANNEL_START_ATTEMPTS = 3


class Kannel:
    """bearerbox + smsbox started as subprocesses from a kannel.conf in ``workdir``."""

    def __init__(self, workdir: Path, settings: KannelSettings) -> None:
        self.workdir = workdir
        self.settings = settings
        self.conf = write_kannel_conf(workdir, settings)
        self._processes: list[subprocess.Popen[bytes]] = []
        self._outputs: list[Any] = []

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        """bearerbox and smsbox, once started."""
        return list(self._processes)

    def _spawn(self, program: str) -> None:
        executable = find_program(program)
        if executable is None:
            raise PeerError(f"{program} is not installed")
        output = (self.workdir / f"{program}.out").open("wb")
        self._outputs.append(output)
        self._processes.append(
            subprocess.Popen(
                [executable, str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        )

    def start(self) -> None:
        """Start bearerbox, then smsbox once bearerbox listens for boxes.

        Kannel's own ports are picked before it starts, so another program can still take one in
        between; bearerbox then exits with "Address already in use". That says nothing about the
        behaviour under test, so Kannel is started again on fresh ports, a few times at most.
        """
        for attempt in range(1, _KANNEL_START_ATTEMPTS + 1):
            try:
                self._spawn("bearerbox")
                self._wait(lambda: port_accepts(self.settings.smsbox_port), "bearerbox smsbox-port")
                self._spawn("smsbox")
                self._wait(lambda: port_accepts(self.settings.sendsms_port), "smsbox sendsms-port")
                return
            except PeerError:
                lost_a_port = "Address already in use" in self.logs()
                self.stop()
                if not lost_a_port or attempt == _KANNEL_START_ATTEMPTS:
                    raise
                self.settings = replace(
                    self.settings,
                    admin_port=free_port(),
                    smsbox_port=free_port(),
                    sendsms_port=free_port(),
                )
                self.conf = write_kannel_conf(self.workdir, self.settings)
                for log in self.workdir.glob("*.log"):
                    log.unlink()

    def _check_alive(self) -> None:
        for process in self._processes:
            if process.poll() is not None:
                raise PeerError(f"Kannel exited early ({process.args!r}): {self.logs()}")

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            self._check_alive()
            if time.monotonic() >= deadline:
                raise PeerError(f"Kannel not ready ({what}) within {timeout}s: {self.logs()}")
            time.sleep(0.1)

    async def _wait_async(
        self, ready: Callable[[], bool], what: str, within: float = DEFAULT_TIMEOUT
    ) -> None:
        deadline = time.monotonic() + within
        while not await asyncio.to_thread(ready):
            self._check_alive()
            if time.monotonic() >= deadline:
                raise PeerError(f"Kannel not ready ({what}) within {within}s: {self.logs()}")
            await asyncio.sleep(0.1)

    def status_text(self) -> str:
        """Kannel's status page from the admin port (bearerbox), or "" if it does not answer."""
        url = (
            f"http://127.0.0.1:{self.settings.admin_port}/status.txt"
            f"?password={self.settings.admin_password}"
        )
        return _http_get(url)[1]

    def smsc_online(self) -> bool:
        return any(
            line.strip().startswith(self.settings.smsc_id) and "(online" in line
            for line in self.status_text().splitlines()
        )

    def ready(self) -> bool:
        return port_accepts(self.settings.sendsms_port) and self.smsc_online()

    def wait_ready(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Block until sendsms answers and the SMSC link is online (the SMSC runs elsewhere)."""
        self._wait(self.ready, "sendsms port and smsc online", timeout)

    async def wait_ready_async(self, within: float = DEFAULT_TIMEOUT) -> None:
        """Like wait_ready, for an SMSC that runs on this event loop."""
        await self._wait_async(self.ready, "sendsms port and smsc online", within)

    def sendsms_url(
        self,
        *,
        to: str,
        text: str,
        sender: str = "12345",
        dlr_url: str | None = None,
        coding: int | None = None,
    ) -> str:
        s = self.settings
        params = {
            "username": s.sendsms_user,
            "password": s.sendsms_password,
            "from": sender,
            "to": to,
            "text": text,
            "charset": "UTF-8",
        }
        if coding is not None:
            # Kannel's own coding parameter: 0 = 7-bit, 1 = 8-bit, 2 = UCS-2.
            params["coding"] = str(coding)
        if dlr_url is not None:
            # dlr-mask 3 = delivered (1) + failed (2); 31 would add SMSC ack/nack and buffered.
            params["dlr-mask"] = "3"
            params["dlr-url"] = f"{dlr_url}?{DLR_QUERY}"
        query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        return f"http://127.0.0.1:{s.sendsms_port}/cgi-bin/sendsms?{query}"

    def sendsms(
        self, *, to: str, text: str, sender: str = "12345", dlr_url: str | None = None
    ) -> SendsmsAnswer:
        status, body = _http_get(self.sendsms_url(to=to, text=text, sender=sender, dlr_url=dlr_url))
        return SendsmsAnswer(status, body)

    async def sendsms_async(
        self,
        *,
        to: str,
        text: str,
        sender: str = "12345",
        dlr_url: str | None = None,
        coding: int | None = None,
    ) -> SendsmsAnswer:
        url = self.sendsms_url(to=to, text=text, sender=sender, dlr_url=dlr_url, coding=coding)
        status, body = await asyncio.to_thread(_http_get, url)
        return SendsmsAnswer(status, body)

    def logs(self) -> str:
        parts = []
        for name in ("bearerbox.out", "smsbox.out", "bearerbox.log", "smsbox.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        # smsbox first, so bearerbox does not log a lost box; each by its own PID.
        for process in reversed(self._processes):
            stop_process(process, grace=10.0)
        for output in self._outputs:
            output.close()
        self._processes.clear()
        self._outputs.clear()


def _http_get(url: str) -> tuple[int, str]:
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parsed.port, timeout=30)
    try:
        connection.request("GET", f"{parsed.path}?{parsed.query}")
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""
    finally:
        connection.close()
