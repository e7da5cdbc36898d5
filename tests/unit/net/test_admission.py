"""Admission under connection limits: idle connections make room, busy ones never do."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tidings.net.admission import Admission, ConnectionLimits, default_limits


@dataclass(eq=False)
class Fake:
    address: str
    idle: bool = True
    evicted: bool = False

    def evict(self) -> None:
        self.evicted = True


def test_limits_derive_from_the_file_limit_with_a_reserve() -> None:
    limits = default_limits(0.5, files=400)
    # 400 files, 100 kept back: half of the 300 left for this listener, half of that per address.
    assert (limits.max_total, limits.max_per_address) == (150, 75)
    assert default_limits(0.25, files=400).max_total == 75
    configured = default_limits(0.5, max_total=20, max_per_address=30, files=400)
    assert (configured.max_total, configured.max_per_address) == (20, 20)
    assert default_limits(0.5, files=1 << 20).max_total == 10_000


def test_a_full_listener_closes_its_oldest_idle_connection_for_a_new_one() -> None:
    admission = Admission(ConnectionLimits(max_total=3, max_per_address=3))
    first, second, third = Fake("10.0.0.1"), Fake("10.0.0.2"), Fake("10.0.0.3")
    for connection in (first, second, third):
        assert admission.admit(connection)
    newcomer = Fake("10.0.0.4")
    assert admission.admit(newcomer)
    assert (first.evicted, second.evicted, third.evicted) == (True, False, False)
    assert len(admission) == 3 and admission.evicted == 1
    admission.release(first)  # its connection_lost comes later: nothing more happens
    assert len(admission) == 3


def test_busy_connections_are_never_closed_for_another() -> None:
    admission = Admission(ConnectionLimits(max_total=2, max_per_address=2))
    busy = [Fake("10.0.0.1", idle=False), Fake("10.0.0.2", idle=False)]
    for connection in busy:
        assert admission.admit(connection)
    assert not admission.admit(Fake("10.0.0.3"))
    assert admission.refused == 1 and not any(c.evicted for c in busy)
    admission.release(busy[0])
    assert admission.admit(Fake("10.0.0.3"))


def test_one_address_makes_room_among_its_own_connections() -> None:
    admission = Admission(ConnectionLimits(max_total=10, max_per_address=2))
    other = Fake("10.0.0.9")
    mine = [Fake("10.0.0.1"), Fake("10.0.0.1")]
    assert admission.admit(other)
    for connection in mine:
        assert admission.admit(connection)
    assert admission.admit(Fake("10.0.0.1"))
    assert mine[0].evicted and not other.evicted


@pytest.mark.parametrize("bad", [(0, 1), (1, 0)])
def test_limits_are_positive(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        ConnectionLimits(*bad)
