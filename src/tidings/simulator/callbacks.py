"""The calls a simulated peer makes back to the service (the MMSC's delivery reports, the Cloud
API's webhooks), queued and sent when due, and sent again with backoff when the service does
not take them: a real carrier or Meta keeps trying, so nothing is lost while the service is
down or restarting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")

# The longest wait between two tries of one call, and how many doublings lead there.
MAX_RETRY_S = 30.0
_MAX_DOUBLINGS = 5


@dataclass(slots=True)
class _Pending(Generic[Item]):
    item: Item
    due: float
    attempts: int = 0


class CallbackQueue(Generic[Item]):
    """Sends queued items, oldest first, each once its delay has passed.

    ``send`` answers whether the service took the item. One it did not take is tried again
    after ``retry_s``, doubling up to ``MAX_RETRY_S``. With ``in_order`` it holds back the ones
    behind it (their order means something to the receiver, as a message's statuses do);
    without, it waits behind them (independent reports). Nothing is sent while ``ready`` says
    there is nowhere to send to; call :meth:`wake` when that changes. Beyond ``limit`` waiting
    items the oldest are dropped and counted in ``dropped``.
    """

    def __init__(
        self,
        send: Callable[[Item], Awaitable[bool]],
        *,
        ready: Callable[[], bool],
        retry_s: float,
        limit: int,
        in_order: bool,
    ) -> None:
        self._send = send
        self._ready = ready
        self._retry_s = retry_s
        self._limit = limit
        self._in_order = in_order
        self._waiting: deque[_Pending[Item]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, item: Item, delay: float = 0.0) -> None:
        self._waiting.append(_Pending(item, time.monotonic() + delay))
        while len(self._waiting) > self._limit:
            self._waiting.popleft()
            self.dropped += 1
        self._wake.set()

    def wake(self) -> None:
        """Look again at ``ready`` (the receiver's address changed)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pump(self) -> None:
        while True:
            if not self._waiting or not self._ready():
                self._wake.clear()
                await self._wake.wait()
                continue
            pending = self._waiting[0]
            delay = pending.due - time.monotonic()
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            if not self._in_order:
                self._waiting.popleft()
            if await self._send(pending.item):
                # (unless the limit dropped it meanwhile)
                if self._in_order and self._waiting and self._waiting[0] is pending:
                    self._waiting.popleft()
                continue
            pending.attempts += 1
            pending.due = time.monotonic() + min(
                MAX_RETRY_S, self._retry_s * 2 ** min(pending.attempts - 1, _MAX_DOUBLINGS)
            )
            if not self._in_order:
                self._waiting.append(pending)
