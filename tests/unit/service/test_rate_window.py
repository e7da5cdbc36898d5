"""The in-memory moving window of the rate limiter, on a clock the test moves."""

from __future__ import annotations

from limits import parse

from tidings.api.limits import MemoryMovingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_rate_per_moving_window_and_learns_when_it_may_retry() -> None:
    clock = Clock()
    window = MemoryMovingWindow(clock)
    rate = "3/10 seconds"
    item = parse(rate)
    results = []
    for _ in range(3):
        results.append(window.hit("key", rate, item))
        clock.now += 2
    assert results == [None, None, None]
    # Hits at 1000, 1002 and 1004; at 1006 the first leaves the window at 1010.
    assert window.hit("key", rate, item) == 4
    clock.now = 1010.5
    assert window.hit("key", rate, item) is None
    # A refused hit is not counted: the window now holds 1002, 1004 and 1010.5.
    assert window.hit("key", rate, item) == 1.5


def test_keys_and_rates_are_counted_apart() -> None:
    clock = Clock()
    window = MemoryMovingWindow(clock)
    one = parse("1/minute")
    assert window.hit("a", "1/minute", one) is None
    assert window.hit("a", "1/minute", one) is not None
    assert window.hit("b", "1/minute", one) is None
    # A changed rate for a key starts its own window, as limits' storages do.
    two = parse("2/minute")
    assert window.hit("a", "2/minute", two) is None


def test_idle_keys_are_swept() -> None:
    clock = Clock()
    window = MemoryMovingWindow(clock)
    item = parse("5/second")
    for n in range(MemoryMovingWindow._SWEEP_EVERY - 1):
        window.hit(f"key-{n}", "5/second", item)
    clock.now += 2
    window.hit("last", "5/second", item)
    assert list(window._hits) == [("last", "5/second")]
