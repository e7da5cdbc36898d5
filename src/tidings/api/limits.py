"""Request limits: body size (413) and per-key request rate (429 with Retry-After)."""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Callable

import coredis
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidings.api.problems import problem
from tidings.core.accounts import validate_rate
from tidings.errors import RateLimited


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodySizeLimit:
    """Refuses bodies over ``max_bytes``: by Content-Length up front, else while reading."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await _send_too_large(send, self.max_bytes)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the app, so the problem handlers answer it.
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


async def _send_too_large(send: Send, limit: int) -> None:
    response = problem(413, f"The request body is larger than {limit} bytes.")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


def _redis_storage(redis_url: str, pool: coredis.ConnectionPool) -> Storage:
    storage = storage_from_string(
        redis_url if redis_url.startswith("async+") else f"async+{redis_url}",
        # limits documents connection_pool for its Redis storages; its annotation omits it.
        connection_pool=pool,  # type: ignore[arg-type]
    )
    if not isinstance(storage, Storage):
        raise ValueError(f"not an asyncio storage URL: {redis_url}")
    return storage


class MemoryMovingWindow:
    """A moving window per key in this process: the times of the key's hits within the window.

    ``limits``' own memory storage starts a cleanup task that hands a list to a worker thread
    on nearly every hit, which cost more than the rest of a small request's rate check. Here a
    hit costs a few deque operations; a key's hits that left the window are dropped on its next
    hit, and keys idle for longer than their window are swept every ``_SWEEP_EVERY`` hits.
    """

    _SWEEP_EVERY = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # (key, rate) → (window seconds, times of the hits in the window, oldest first)
        self._hits: dict[tuple[str, str], tuple[float, deque[float]]] = {}
        self._until_sweep = self._SWEEP_EVERY

    def hit(self, key: str, rate: str, item: RateLimitItem) -> float | None:
        """Count a hit; None if it is within the limit, else the seconds until one fits."""
        now = self._clock()
        self._until_sweep -= 1
        if self._until_sweep <= 0:
            self._sweep(now)
        entry = self._hits.get((key, rate))
        if entry is None:
            entry = self._hits[(key, rate)] = (float(item.get_expiry()), deque())
        window, hits = entry
        cutoff = now - window
        while hits and hits[0] < cutoff:
            hits.popleft()
        if len(hits) >= item.amount:
            return hits[0] + window - now
        hits.append(now)
        return None

    def wait(self, key: str, rate: str, item: RateLimitItem) -> float | None:
        """Like :meth:`hit` without counting one: None if a hit would fit now."""
        entry = self._hits.get((key, rate))
        if entry is None:
            return None
        window, hits = entry
        now = self._clock()
        while hits and hits[0] < now - window:
            hits.popleft()
        return hits[0] + window - now if len(hits) >= item.amount else None

    def _sweep(self, now: float) -> None:
        self._until_sweep = self._SWEEP_EVERY
        idle = [
            k for k, (window, hits) in self._hits.items() if not hits or hits[-1] < now - window
        ]
        for k in idle:
            del self._hits[k]


class RateLimiter:
    """Per-key request rate limiting (a moving window); in memory, or Redis when a URL is given."""

    def __init__(self, default_rate: str, *, redis_url: str | None = None) -> None:
        self.default_rate = validate_rate(default_rate)
        # The pool is ours, so that closing the app closes its connections.
        self._pool = (
            None
            if not redis_url
            else coredis.ConnectionPool.from_url(redis_url.removeprefix("async+"))
        )
        self._memory = MemoryMovingWindow() if self._pool is None else None
        self._limiter = (
            None
            if self._pool is None
            else MovingWindowRateLimiter(_redis_storage(str(redis_url), self._pool))
        )
        self._items: dict[str, RateLimitItem] = {}

    def close(self) -> None:
        """Close the Redis connections (memory storage has none)."""
        if self._pool is not None:
            self._pool.disconnect()

    def _item(self, rate: str) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse(rate)
        return item

    async def refuse_if_spent(self, key: str, rate: str) -> None:
        """Raise :class:`RateLimited` if ``key`` has used up ``rate``, without counting a hit."""
        item = self._item(rate)
        if self._memory is not None:
            wait = self._memory.wait(key, rate, item)
            if wait is not None:
                raise RateLimited(max(1, math.ceil(wait)))
            return
        assert self._limiter is not None
        if not await self._limiter.test(item, "key", key):
            stats = await self._limiter.get_window_stats(item, "key", key)
            raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    async def count(self, key: str, rate: str) -> None:
        """Count a hit for ``key`` whether or not it fits (a failed sign-in, say)."""
        with contextlib.suppress(RateLimited):
            await self.hit(key, rate)

    async def hit(self, key_id: str, rate: str | None) -> None:
        rate = rate or self.default_rate
        item = self._item(rate)
        if self._memory is not None:
            wait = self._memory.hit(key_id, rate, item)
            if wait is None:
                return
            raise RateLimited(max(1, math.ceil(wait)))
        assert self._limiter is not None
        if await self._limiter.hit(item, "key", key_id):
            return
        stats = await self._limiter.get_window_stats(item, "key", key_id)
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))
