"""Live updates for the console over Server-Sent Events.

One :class:`LiveFeed` per app polls for what changed, whichever process changed it (on
PostgreSQL the dispatcher may run elsewhere), and hands each change to the browsers of its
account: status changes and new messages from the store, and version counters of things that
live in this process (the simulator's handsets). It polls only while some browser listens, so
an idle console costs nothing, and once per tick however many browsers listen.

Events (``event:`` name, JSON ``data:``):
- ``status``: ``{"id", "status", "at"}`` a message of the account changed status;
- ``message``: ``{"id", "direction", "status"}`` a message of the account was stored;
- ``<topic>``: ``{"version"}`` a watched counter moved (``handsets``);
- ``resync``: more changed than was sent; pages re-read what they show.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

import structlog

from tidings.core import activity
from tidings.store.activity import NewMessage, StatusChange
from tidings.store.engine import Database

_log = structlog.get_logger("tidings.console.live")

# Changes read per tick; more than this and browsers are told to re-read instead.
_TICK_LIMIT = 2000
_QUEUE_LIMIT = 500
_KEEPALIVE_SECONDS = 15.0


@dataclass(eq=False)
class _Listener:
    account_id: str
    topics: frozenset[str]
    queue: asyncio.Queue[tuple[str, dict[str, object]] | None] = field(
        default_factory=lambda: asyncio.Queue(_QUEUE_LIMIT)
    )
    overflowed: bool = False

    def put(self, event: str, data: dict[str, object]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((event, data))
        except asyncio.QueueFull:
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.get_nowait()
                self.queue.put_nowait(("resync", {}))


class LiveFeed:
    """Polls for changes while anyone listens and fans them out by account.

    On PostgreSQL two transactions may commit in the other order than their ids were taken,
    so each tick reads again from where the tick ``lookback_ticks`` ago began and skips what
    it sent already; SQLite commits one writer at a time, in id order (``lookback_ticks=0``).
    """

    def __init__(
        self,
        database: Database,
        *,
        watched: Mapping[str, Callable[[], int]] | None = None,
        interval: float = 0.5,
    ) -> None:
        self._database = database
        self._watched = dict(watched or {})
        self._interval = interval
        self._lookback_ticks = 4 if database.dialect == "postgresql" else 0
        self._listeners: set[_Listener] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def topics(self) -> frozenset[str]:
        return frozenset({"status", "message", *self._watched})

    def watch(self, topic: str, version: Callable[[], int]) -> None:
        self._watched[topic] = version

    async def close(self) -> None:
        """End every stream (the service is stopping) and the poller."""
        self._closed = True
        for listener in list(self._listeners):
            with contextlib.suppress(asyncio.QueueFull):
                listener.queue.put_nowait(None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def stream(
        self, account_id: str, topics: frozenset[str], *, since: Cursor | None = None
    ) -> AsyncIterator[str]:
        """The text/event-stream of one browser, until it goes away or the feed closes.

        ``since`` is where the browser's page stood (the cursor it was rendered at, or the id
        of the last event it got before a reconnect): the account's changes after it are sent
        first, so nothing that happened between the page and the stream is missed.
        """
        listener = _Listener(account_id, topics & self.topics)
        self._listeners.add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield "retry: 2000\n\n"
            if since is not None:
                # After joining, so what the poller reads from now on is not missed either;
                # a change sent twice is harmless (pages show the latest state).
                await self._catch_up(listener, since)
            while not self._closed:
                try:
                    async with asyncio.timeout(_KEEPALIVE_SECONDS):
                        item = await listener.queue.get()
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if item is None:
                    return
                event, data = item
                if event == "resync":
                    listener.overflowed = False
                event_id = data.pop("_event_id", None)
                message_id = data.pop("_message_id", None)
                ident = ""
                if since is not None:
                    since = Cursor(
                        max(since.event_id, event_id if isinstance(event_id, int) else 0),
                        max(since.message_id, message_id if isinstance(message_id, str) else ""),
                    )
                    ident = f"id: {since}\n"
                payload = json.dumps(data, separators=(",", ":"))
                yield f"{ident}event: {event}\ndata: {payload}\n\n"
        finally:
            self._listeners.discard(listener)

    async def _catch_up(self, listener: _Listener, since: Cursor) -> None:
        changes = await activity.changes_after(
            self._database, since.event_id, since.message_id, limit=_TICK_LIMIT
        )
        if len(changes.status_changes) >= _TICK_LIMIT or len(changes.new_messages) >= _TICK_LIMIT:
            listener.put("resync", {})
            return
        for message in changes.new_messages:
            if message.account_id == listener.account_id and "message" in listener.topics:
                listener.put("message", _message_data(message))
        for change in changes.status_changes:
            if change.account_id == listener.account_id and "status" in listener.topics:
                listener.put("status", _status_data(change))

    async def _run(self) -> None:
        event_id, message_id = await activity.latest_change(self._database)
        versions = {topic: read() for topic, read in self._watched.items()}
        starts: deque[tuple[int, str]] = deque(maxlen=self._lookback_ticks + 1)
        sent_events: set[int] = set()
        sent_messages: set[str] = set()
        while self._listeners and not self._closed:
            try:
                starts.append((event_id, message_id))
                from_event, from_message = starts[0]
                changes = await activity.changes_after(
                    self._database, from_event, from_message, limit=_TICK_LIMIT
                )
                truncated = (
                    len(changes.status_changes) >= _TICK_LIMIT
                    or len(changes.new_messages) >= _TICK_LIMIT
                )
                for change in changes.status_changes:
                    event_id = max(event_id, change.event_id)
                    if change.event_id in sent_events:
                        continue
                    sent_events.add(change.event_id)
                    self._send(change.account_id, "status", _status_data(change))
                for message in changes.new_messages:
                    message_id = max(message_id, message.id)
                    if message.id in sent_messages:
                        continue
                    sent_messages.add(message.id)
                    self._send(message.account_id, "message", _message_data(message))
                if truncated:
                    # Skip ahead: browsers re-read their pages rather than get every change.
                    starts.clear()
                    for listener in self._listeners:
                        listener.put("resync", {})
                floor_event, floor_message = starts[0] if starts else (event_id, message_id)
                sent_events = {i for i in sent_events if i > floor_event}
                sent_messages = {i for i in sent_messages if i > floor_message}
                for topic, read in self._watched.items():
                    version = read()
                    if version != versions.get(topic):
                        versions[topic] = version
                        for listener in self._listeners:
                            if topic in listener.topics:
                                listener.put(topic, {"version": version})
            except Exception as error:  # a failed tick is logged and tried again next tick
                _log.warning("live feed tick failed", error=repr(error))
            await asyncio.sleep(self._interval)

    def _send(self, account_id: str, event: str, data: dict[str, object]) -> None:
        for listener in self._listeners:
            if listener.account_id == account_id and event in listener.topics:
                listener.put(event, dict(data))


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page's view of the changes stands: the last history entry it had and the id
    after which messages are new to it. Written ``<event id>.<message id>``: the SSE event
    id, which a browser sends back as Last-Event-ID when it reconnects."""

    event_id: int
    message_id: str

    def __str__(self) -> str:
        return f"{self.event_id}.{self.message_id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        event_id, _, message_id = text.partition(".")
        if not event_id.isdigit() or not message_id.isalnum() or len(message_id) != 26:
            return None
        return cls(int(event_id), message_id)


def _status_data(change: StatusChange) -> dict[str, object]:
    return {
        "id": change.message_id,
        "status": change.status,
        "at": str(change.at),
        "_event_id": change.event_id,
    }


def _message_data(message: NewMessage) -> dict[str, object]:
    return {
        "id": message.id,
        "direction": message.direction,
        "status": message.status,
        "_message_id": message.id,
    }
