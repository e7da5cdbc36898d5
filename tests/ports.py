"""Listening ports for the servers that tests start (Kannel, the simulator, the service).

Some of those programs cannot be told to listen on port 0, so the test picks a port first and
hands it over. Asking the kernel for port 0 gives a port from the ephemeral range, the same range
that every outgoing connection on the machine draws its local port from, so another test's client
socket could take the port between the pick and the server's bind ("Address already in use").
Ports here come from below that range, where only listeners live, and each is probed before it is
handed out.
"""

from __future__ import annotations

import itertools
import os
import socket
from pathlib import Path

# Below Linux's default ephemeral range (32768-60999) and above the well-known services.
_LOW, _HIGH = 20000, 32000


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _xdist_worker() -> tuple[int, int]:
    """This process's place among pytest-xdist's workers (index, count); (0, 1) without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if name.startswith("gw") and name[2:].isdigit() and count.isdigit() and int(count) > 0:
        return int(name[2:]) % int(count), int(count)
    return 0, 1


def _candidates() -> itertools.cycle[int]:
    ephemeral_low, ephemeral_high = _ephemeral_range()
    ports = [p for p in range(_LOW, _HIGH) if not ephemeral_low <= p <= ephemeral_high]
    # The workers of one parallel run (pytest -n) each take ports of their own, so one worker
    # never hands out a port that another picked and has not bound yet (a Kannel or a service
    # still starting): the probe alone cannot see that.
    # A block each, not every n-th port: RTP wants even ports, with the odd one above for RTCP.
    worker, workers = _xdist_worker()
    block = len(ports) // workers // 2 * 2
    ports = ports[worker * block : (worker + 1) * block]
    # Start somewhere that depends on the process, so separate test runs rarely probe the same port.
    start = (os.getpid() * 7919) % len(ports)
    return itertools.cycle(ports[start:] + ports[:start])


_next_candidate = _candidates()


def free_port() -> int:
    """A TCP port of 127.0.0.1, outside the ephemeral range, that nothing listened on just now."""
    for _ in range(_HIGH - _LOW):
        port = next(_next_candidate)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free TCP port on 127.0.0.1 in {_LOW}-{_HIGH}")


def free_udp_port(*, even: bool = False) -> int:
    """A UDP port of 127.0.0.1, outside the ephemeral range, that nothing was bound to just now.

    ``even`` for an RTP port (RTCP takes the odd one above it, RFC 3550 §11).
    """
    for _ in range(_HIGH - _LOW):
        port = next(_next_candidate)
        if even and port % 2:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free UDP port on 127.0.0.1 in {_LOW}-{_HIGH}")
