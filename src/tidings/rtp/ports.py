"""The RTP port range: even ports (RTCP would take the odd one above, RFC 3550 §11), each
held by one call and handed back when it ends."""

from __future__ import annotations

from collections.abc import Callable

from tidings.errors import TidingsError


class NoFreePort(TidingsError):
    """Every RTP port of the configured range is in use."""


class PortRange:
    def __init__(self, low: int, high: int) -> None:
        if low < 1024 or high > 65535 or high - low < 1:
            raise ValueError(f"bad RTP port range {low}-{high}")
        start = low + (low % 2)
        self.ports = tuple(range(start, high, 2))
        self._in_use: set[int] = set()
        self._next = 0

    @property
    def in_use(self) -> frozenset[int]:
        return frozenset(self._in_use)

    @property
    def capacity(self) -> int:
        return len(self.ports)

    def acquire(self, try_bind: Callable[[int], bool] = lambda port: True) -> int:
        """The next free port that ``try_bind`` could take (it may be in use elsewhere).

        Ports are handed out round robin, so a port just released is the last to come back:
        late packets of the previous call do not reach the next.
        """
        for _ in range(len(self.ports)):
            port = self.ports[self._next]
            self._next = (self._next + 1) % len(self.ports)
            if port in self._in_use:
                continue
            if try_bind(port):
                self._in_use.add(port)
                return port
        raise NoFreePort()

    def release(self, port: int) -> None:
        self._in_use.discard(port)
