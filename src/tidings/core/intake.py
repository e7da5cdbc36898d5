"""Group commit for accepted messages.

Every accepted request used to be its own write transaction; on SQLite (one writer) and on a
busy PostgreSQL that caps single-message requests at a few hundred per second. The intake
queues prepared sends and one writer task stores whatever has gathered in one transaction, so
concurrent requests share the cost of a commit. A request still returns only after its rows
are committed.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Callable
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from tidings.core.accounts import utcnow
from tidings.core.messaging import (
    PreparedSend,
    SendRequest,
    SendResult,
    find_replay,
    idempotency_key,
    prepare_send,
    store_send,
    store_sends,
)
from tidings.errors import TidingsError
from tidings.store.engine import Database
from tidings.store.records import AccountRecord

_log = structlog.get_logger("tidings.intake")
# Below this many recipients planning is quicker than handing it to a thread.
_PLAN_IN_THREAD_ABOVE = 200


class IntakeClosed(TidingsError):
    """The service is shutting down; the request was not stored."""


class Intake:
    """A per-app writer that stores prepared sends in batches."""

    def __init__(
        self,
        database: Database,
        *,
        max_batch_rows: int = 20_000,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self._database = database
        # Called after each committed batch: a dispatcher in this process claims at once.
        self._on_stored = on_stored
        self._max_batch_rows = max_batch_rows
        self._pending: deque[tuple[PreparedSend, asyncio.Future[SendResult]]] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="tidings-intake")

    async def close(self) -> None:
        """Store what is queued, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def submit(self, prepared: PreparedSend) -> SendResult:
        if self._closing or self._task is None:
            raise IntakeClosed()
        future: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()
        self._pending.append((prepared, future))
        self._wakeup.set()
        return await future

    async def accept(
        self,
        account: AccountRecord,
        request: SendRequest,
        *,
        max_recipients: int,
        default_max_parts: int,
        idempotency_window: timedelta,
    ) -> SendResult:
        """:func:`~tidings.core.messaging.accept_messages` through this intake: a replay of the
        request's key answers at once; otherwise the send is planned (in a thread when it is
        big) and stored with whatever other sends are waiting."""
        now = utcnow()
        replay = await find_replay(
            self._database, account, idempotency_key(request), not_before=now - idempotency_window
        )
        if replay is not None:
            return replay
        prepare = functools.partial(
            prepare_send,
            account,
            request,
            max_recipients=max_recipients,
            default_max_parts=default_max_parts,
            idempotency_window=idempotency_window,
            now=now,
        )
        prepared = (
            await asyncio.to_thread(prepare)
            if len(request.to) > _PLAN_IN_THREAD_ABOVE
            else prepare()
        )
        return await self.submit(prepared)

    def _take_batch(self) -> list[tuple[PreparedSend, asyncio.Future[SendResult]]]:
        batch: list[tuple[PreparedSend, asyncio.Future[SendResult]]] = []
        rows = 0
        while self._pending:
            prepared, future = self._pending[0]
            size = len(prepared.message_rows)
            if batch and rows + size > self._max_batch_rows:
                break
            self._pending.popleft()
            if future.cancelled():
                continue
            batch.append((prepared, future))
            rows += size
        return batch

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch = self._take_batch()
                if batch:
                    await self._store(batch)
                    if self._on_stored is not None:
                        self._on_stored()
            if self._closing and not self._pending:
                return

    async def _store(self, batch: list[tuple[PreparedSend, asyncio.Future[SendResult]]]) -> None:
        try:
            outcomes = await store_sends(self._database, [prepared for prepared, _ in batch])
        except IntegrityError:
            # A key was committed by another process meanwhile: store each on its own, so
            # only that request replays and the rest are unaffected.
            for prepared, future in batch:
                try:
                    result = await store_send(self._database, prepared)
                except Exception as error:  # handed to the waiting request, which raises it
                    _resolve_error(future, error)
                else:
                    _resolve(future, result)
            return
        except Exception as error:  # the whole transaction failed: every waiter gets the error
            _log.error("storing accepted messages failed", exc_info=error, requests=len(batch))
            for _, future in batch:
                _resolve_error(future, error)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, TidingsError):
                _resolve_error(future, outcome)
            else:
                _resolve(future, outcome)


def _resolve(future: asyncio.Future[SendResult], result: SendResult) -> None:
    if not future.done():
        future.set_result(result)


def _resolve_error(future: asyncio.Future[SendResult], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
