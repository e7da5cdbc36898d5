"""Fixtures that run independent SMPP peers on free ports of 127.0.0.1.

A missing peer skips the test with the reason, unless TIDINGS_REQUIRE_PEERS=1 (CI), where it fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.harness import (
    HttpSink,
    Kannel,
    KannelSettings,
    PeerProcess,
    kannel_missing,
    netsmpp_smsc_argv,
    netsmpp_smsc_missing,
    node_smsc_argv,
    node_smsc_missing,
    peer_unavailable,
    running_peer,
)

# The credentials the peer SMSCs insist on, so a test also proves the client sends them.
PEER_SYSTEM_ID = "tidings"
PEER_PASSWORD = "secret"

SMSC_PEERS: dict[str, tuple[Callable[[], str | None], Callable[..., list[str]]]] = {
    "node-smpp": (node_smsc_missing, node_smsc_argv),
    "net-smpp": (netsmpp_smsc_missing, netsmpp_smsc_argv),
}


def _start_smsc_peer(name: str, workdir: Path) -> Iterator[PeerProcess]:
    missing, argv = SMSC_PEERS[name]
    reason = missing()
    if reason is not None:
        peer_unavailable(reason)
    with running_peer(name, argv(PEER_SYSTEM_ID, PEER_PASSWORD), workdir) as peer:
        yield peer


@pytest.fixture
def node_smsc(tmp_path: Path) -> Iterator[PeerProcess]:
    """node-smpp acting as an SMSC (peers/node_smsc.js)."""
    yield from _start_smsc_peer("node-smpp", tmp_path)


@pytest.fixture
def netsmpp_smsc(tmp_path: Path) -> Iterator[PeerProcess]:
    """Perl Net::SMPP acting as an SMSC (peers/netsmpp_smsc.pl), one connection at a time."""
    yield from _start_smsc_peer("net-smpp", tmp_path)


@pytest.fixture(params=sorted(SMSC_PEERS))
def smsc_peer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PeerProcess]:
    """Each independent SMSC peer in turn."""
    yield from _start_smsc_peer(request.param, tmp_path)


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    """An HTTP server on 127.0.0.1 recording the callbacks it gets (Kannel's dlr-url, get-url)."""
    sink = HttpSink()
    try:
        yield sink
    finally:
        sink.stop()


KannelFactory = Callable[..., Kannel]


@pytest.fixture
def kannel_factory(tmp_path: Path) -> Iterator[KannelFactory]:
    """Start Kannel (bearerbox + smsbox) bound as a transceiver to an SMSC on a given port.

    Call it as ``kannel_factory(smsc_port=P, system_id=..., password=..., mo_url=...)``; it returns
    a started :class:`Kannel`; wait with ``wait_ready()`` (or ``await wait_ready_async()`` when the
    SMSC runs on the test's event loop). Kannel is stopped by PID at teardown.
    """
    reason = kannel_missing()
    if reason is not None:
        peer_unavailable(reason)
    started: list[Kannel] = []

    def start(**settings: Any) -> Kannel:
        workdir = tmp_path / f"kannel{len(started)}"
        workdir.mkdir()
        kannel = Kannel(workdir, KannelSettings(**settings))
        started.append(kannel)
        kannel.start()
        return kannel

    try:
        yield start
    finally:
        for kannel in started:
            kannel.stop()
