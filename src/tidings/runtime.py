"""Running a long-lived process (``tidings serve``, ``tidings simulator serve``): uvloop where it
is installed, asyncio's own loop otherwise, and garbage collection tuned for a service."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# CPython collects its youngest generation every 700 net allocations, and an older one every
# tenth time. Accepting a 10,000-recipient request or a window of receipts allocates hundreds of
# thousands of short-lived objects, nearly all freed by reference counting, so those collections
# found little garbage while walking ever more live objects: in bench/e2e.py they cost a fifth of
# the service's CPU per batch message and a tenth per single request. Reference cycles are still
# collected, after 50,000 allocations instead of 700.
GC_THRESHOLDS = (50_000, 20, 20)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on the fastest available event loop.

    uvloop roughly halves the cost of each socket write and callback, which is most of what an
    SMPP connection does at tens of thousands of PDUs per second.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency wherever it builds
        return asyncio.run(main)
    return uvloop.run(main)
