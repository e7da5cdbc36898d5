"""Which connections a listening socket keeps: limits in total and per peer address, and
who makes room when a listener is full.

Every accepted connection costs a file descriptor, and a process that runs out of them can no
longer reach its database or accept the next request: 450 idle connections once took the
service down with ``nofile`` at 400. So each listener admits at most ``max_total``
connections, and ``max_per_address`` from one peer address, both below the file limit with a
reserve for the database and outgoing work (:func:`default_limits`).

When a new connection would pass a limit, the oldest *idle* connection (of that address, or of
any address when the total is reached) is closed to make room: an HTTP connection that has not
sent a whole request, an SMPP connection that has not bound. Idle connections cost a client
nothing to hold, so they never keep out a client that is doing something; a connection at work
is never closed for another, and when every connection is at work the new one is refused.

Sans-IO: the listeners (``http_server``, ``net.server``) call :meth:`Admission.admit` when a
connection is made and :meth:`Admission.release` when it is lost.
"""

from __future__ import annotations

import resource
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

# Kept free of listeners in any process: database connections, outgoing HTTP and SMPP, files.
_RESERVE_FRACTION = 0.25
_MIN_RESERVE = 64
# Beyond this many, memory rather than descriptors is what runs out.
_MAX_DEFAULT = 10_000


class Admitted(Protocol):
    """A connection as admission sees it."""

    @property
    def address(self) -> str:
        """The peer's address (without port)."""

    @property
    def idle(self) -> bool:
        """Whether closing it loses nothing the peer has been told is done."""

    def evict(self) -> None:
        """Close it at once (its descriptor freed), to make room for another."""


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_total: int
    max_per_address: int

    def __post_init__(self) -> None:
        if self.max_total < 1 or self.max_per_address < 1:
            raise ValueError("connection limits are at least 1")


def file_limit() -> int:
    """The process's soft limit of open files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def default_limits(
    share: float, *, max_total: int = 0, max_per_address: int = 0, files: int | None = None
) -> ConnectionLimits:
    """Limits for a listener that may use ``share`` of what the file limit leaves after the
    reserve; a configured ``max_total`` or ``max_per_address`` (non-zero) wins. One address may
    hold half of the total by default (a proxy or NAT puts many clients behind one)."""
    files = file_limit() if files is None else files
    budget = files - max(_MIN_RESERVE, int(files * _RESERVE_FRACTION))
    total = max_total or max(8, min(_MAX_DEFAULT, int(budget * share)))
    per_address = max_per_address or max(4, total // 2)
    return ConnectionLimits(max_total=total, max_per_address=min(per_address, total))


class Admission:
    """The connections one listener holds, in the order they were admitted."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._open: dict[Admitted, None] = {}
        self._per_address: Counter[str] = Counter()
        self.refused = 0
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, connection: Admitted) -> bool:
        """Take ``connection`` in, closing an idle one if a limit is reached; False when every
        connection in its way is at work (then the caller closes ``connection``)."""
        address = connection.address
        crowded = self._per_address[address] >= self.limits.max_per_address
        if (crowded and not self._evict_one(address)) or (
            len(self._open) >= self.limits.max_total and not self._evict_one(None)
        ):
            self.refused += 1
            return False
        self._open[connection] = None
        self._per_address[address] += 1
        return True

    def release(self, connection: Admitted) -> None:
        """``connection`` is gone (idempotent)."""
        if connection not in self._open:
            return
        del self._open[connection]
        address = connection.address
        self._per_address[address] -= 1
        if not self._per_address[address]:
            del self._per_address[address]

    def _evict_one(self, address: str | None) -> bool:
        for candidate in self._open:
            if (address is None or candidate.address == address) and candidate.idle:
                self.release(candidate)
                self.evicted += 1
                candidate.evict()
                return True
        return False
