"""Faxes from POST /v1/messages through a real MTA: Exim (Debian's ``exim4-daemon-light``) as
the mail front of a T.37 offramp gateway. A ``fax-smtp`` route made through /v1/routes hands
each fax to Exim over SMTP with the DSN extension (RFC 3461: NOTIFY, ENVID, RET, ORCPT); Exim
files the fax for the number, or refuses the number for good, and mails its own RFC 3464
delivery status notification back to the route's sender, which it relays to the service's
fax report listener. The message's status is what Exim's DSN said, found by its envelope id.

What this does not prove: Exim dials no fax line, so its reports carry no page counts and no
busy or no-answer (a refusal is ``failed`` with its RFC 3463 status); those come from the
embedded gateway (``tests/integration/documents/test_documents_end_to_end.py``)."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.document_samples import pdf_with_pages
from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tests.interop.harness import find_program, peer_unavailable
from tests.ports import free_port

pytestmark = pytest.mark.interop

FINAL = frozenset({"delivered", "failed", "busy", "no_answer", "rejected"})
GATEWAY = "faxgw.test"
# A number Exim refuses for good, as a gateway's front refuses a number it cannot dial.
REFUSED_SUFFIX = "0009"

# Exim, run in the foreground as the test's own daemon: everything under one directory.
EXIM_CONFIG = """\
primary_hostname = {gateway}
qualify_domain = {gateway}
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = {root}/spool
log_file_path = {root}/%slog
local_interfaces = 127.0.0.1
daemon_smtp_ports = {port}
dsn_advertise_hosts = *
tls_advertise_hosts =
acl_smtp_rcpt = acl_rcpt
domainlist fax_domains = {gateway}

begin acl
acl_rcpt:
  accept domains = +fax_domains
  deny message = relay not permitted

begin routers
refused_number:
  driver = redirect
  domains = +fax_domains
  local_part_suffix = {refused}
  allow_fail
  data = :fail: the number cannot be dialled
offramp:
  driver = accept
  domains = +fax_domains
  transport = fax_tray
reports:
  driver = manualroute
  domains = reports.test
  route_list = * 127.0.0.1
  self = send
  transport = to_listener

begin transports
fax_tray:
  driver = appendfile
  directory = {root}/tray
  maildir_format
  create_directory
  user = Debian-exim
  group = Debian-exim
to_listener:
  driver = smtp
  port = {report_port}
  hosts_avoid_tls = *
  allow_localhost

begin retry
* * F,1m,10s
"""


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def exim_program() -> str:
    found = find_program("exim4") or find_program("exim")
    if found is None:
        peer_unavailable("Exim is not installed (Debian package exim4-daemon-light)")
    return found


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    async with running_service(service_settings(tmp_path, database_url)) as service:
        yield service


@pytest.fixture
def exim_root() -> Iterator[Path]:
    # Exim gives root up for a configuration of its caller's and runs as its own user, who
    # cannot reach into pytest's private temporary directories: a directory of its own.
    root = Path(tempfile.mkdtemp(prefix="tidings-exim-"))
    root.chmod(0o777)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def exim(exim_program: str, exim_root: Path, running: Running) -> Iterator[int]:
    reports = running.service.fax_reports
    assert reports is not None
    root = exim_root
    port = free_port()
    config = root / "exim.conf"
    config.write_text(
        EXIM_CONFIG.format(
            gateway=GATEWAY,
            root=root,
            port=port,
            refused=REFUSED_SUFFIX,
            report_port=reports.port,
        )
    )
    daemon = subprocess.Popen(
        [exim_program, "-C", str(config), "-bdf", "-q10s"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not _listening(port) and daemon.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _listening(port):
            daemon.kill()
            _, errors = daemon.communicate(timeout=10)
            pytest.fail(f"Exim did not start: {errors.decode(errors='replace')}")
        yield port
    finally:
        daemon.terminate()
        try:
            daemon.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.communicate(timeout=10)


async def _route_to_exim(running: Running, port: int) -> None:
    await running.add_route(
        name="exim",
        kind="fax-smtp",
        settings={
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "gateway_domain": GATEWAY,
            "sender": "fax@reports.test",
        },
        channels=["fax"],
        is_default=True,
    )


async def test_faxes_through_exim_take_the_status_of_exims_own_dsns(
    running: Running, exim: int, exim_root: Path
) -> None:
    await _route_to_exim(running, exim)
    uploaded = await running.http.post(
        "/v1/media",
        files={"file": ("fax.pdf", pdf_with_pages(["Fax", "Page 2"]), "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["id"]
    delivered_id = await running.send_one("+61261111111", channel="fax", document=document)
    refused_id = await running.send_one(
        f"+6126111{REFUSED_SUFFIX}", channel="fax", document=document
    )

    delivered = await running.wait_for(delivered_id, FINAL)
    assert delivered["status"] == "delivered", delivered
    # Exim's words, in the history: its DSN named our envelope id.
    assert any(
        "relayed via non SMTP router" in (e.get("detail") or "") for e in delivered["history"]
    )
    refused = await running.wait_for(refused_id, FINAL)
    assert (refused["status"], refused["error_code"]) == ("failed", "dsn-5.0.0"), refused

    # What Exim filed for the number is our fax: the TIFF-F as image/tiff; application=faxbw.
    [filed] = sorted((exim_root / "tray" / "new").glob("*"))
    mail = email.message_from_bytes(filed.read_bytes(), policy=email.policy.default)
    assert mail["To"] == "FAX=+61261111111@faxgw.test"
    [tiff] = [part for part in mail.walk() if part.get_content_type() == "image/tiff"]
    assert tiff.get_param("application") == "faxbw"
    assert tiff.get_payload(decode=True).startswith(b"II*\x00")
