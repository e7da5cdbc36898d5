"""Writing callbacks and webhook events into the outbox, in the caller's transaction.

The dispatcher's status writer calls :func:`enqueue_status_changes` (or the two functions it is
made of) inside the transaction that records the status changes, so a change and its callbacks
commit together or not at all (issue 4 §6: "written to an outbox in the same transaction as the
change that caused them"). Each call is one bulk insert, however many rows it makes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypedDict
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.errors import NotFound
from tidings.events.formats import bind_renderers
from tidings.events.types import Event, iso_timestamp
from tidings.store import outbox as store
from tidings.store.ids import new_ids
from tidings.store.subscription_recipients import recipient_limits

__all__ = ["Event", "iso_timestamp"]

DLR_CALLBACK = "dlr_callback"
WEBHOOK = "webhook"
MESSAGE_STATUS = "message.status"
# A voice message's recipient pressed a key (its call's result carries ``keypress``).
VOICE_KEYPRESS = "voice.keypress"
# The parameters a dlr_url callback adds to the URL's own query string (issue 3 §4).
DLR_PARAMETERS = ("message_id", "status", "error_code", "to", "timestamp")
_JSON_HEADERS = json.dumps({"content-type": "application/json"})


@dataclass(frozen=True, slots=True)
class DlrCallback:
    """One status change of a message that asked for a ``dlr_url`` GET callback."""

    account_id: str
    dlr_url: str
    message_id: str
    status: str
    error_code: str | None
    to: str
    timestamp: datetime


class ResultLike(Protocol):
    """What the far end told besides the status (a pydantic model: ``core.content``)."""

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


class StatusChangeLike(Protocol):
    """What a message status change carries (the dispatcher's ``StatusChange``)."""

    @property
    def account_id(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def dlr_url(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def result(self) -> ResultLike | None: ...


class MessageDetails(TypedDict, total=False):
    """What a message.status event says of a message besides its status."""

    channel: str
    # The files it carries (an MMS's), each with a signed URL; absent for a message without.
    media: list[dict[str, Any]]


# Reads the details of messages (by id) in the transaction that records their changes.
MessageDescriber = Callable[
    [AsyncConnection, Collection[str]], Awaitable[Mapping[str, MessageDetails]]
]


def dlr_url_prefix(base_url: str) -> str:
    """``base_url`` up to where the added parameters go: its kept query and a ``?`` or ``&``.

    The URL's own query parameters are kept byte for byte (they may carry a signature over their
    exact encoding), except any named like an added one: two values for ``status`` would leave
    it to the receiver's framework which one wins. The fragment is dropped; it is never sent
    over HTTP anyway.
    """
    parts = urlsplit(base_url)
    kept = "&".join(
        segment
        for segment in parts.query.split("&")
        if segment and unquote_plus(segment.split("=", 1)[0]) not in DLR_PARAMETERS
    )
    head = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return f"{head}?{kept}&" if kept else f"{head}?"


def _encode(values: Mapping[str, str]) -> str:
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in values.items())


def dlr_callback_url(base_url: str, values: Mapping[str, str]) -> str:
    """``base_url`` with ``values`` (the five DLR parameters) added to its query string."""
    return dlr_url_prefix(base_url) + _encode(values)


def _target_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "")[:255]
    except ValueError:
        # Delivery refuses it with the reason; the row must still be written.
        return ""


async def enqueue_dlr_callbacks(connection: AsyncConnection, items: Sequence[DlrCallback]) -> None:
    """Queue one ``dlr_url`` GET per item, in the caller's transaction."""
    if not items:
        return
    now = datetime.now(UTC)
    ids = new_ids(len(items))
    # A batch shares a few dlr_urls and timestamps: parse and format each once.
    prefixes: dict[str, tuple[str, str]] = {}
    timestamps: dict[datetime, str] = {}
    rows = []
    for outbox_id, item in zip(ids, items, strict=True):
        known = prefixes.get(item.dlr_url)
        if known is None:
            known = prefixes[item.dlr_url] = (
                dlr_url_prefix(item.dlr_url),
                _target_host(item.dlr_url),
            )
        prefix, host = known
        timestamp = timestamps.get(item.timestamp)
        if timestamp is None:
            timestamp = timestamps[item.timestamp] = quote(iso_timestamp(item.timestamp), safe="")
        url = (
            f"{prefix}message_id={quote(item.message_id, safe='')}"
            f"&status={quote(str(item.status), safe='')}"
            f"&error_code={quote(item.error_code or '', safe='')}"
            f"&to={quote(item.to, safe='')}&timestamp={timestamp}"
        )
        row = _row(outbox_id, item.account_id, DLR_CALLBACK, "GET", url, host, now)
        row["event_type"] = MESSAGE_STATUS
        row["event_id"] = outbox_id
        rows.append(row)
    await store.insert_items(connection, rows)


def _row(
    outbox_id: str, account_id: str, kind: str, method: str, url: str, host: str, now: datetime
) -> store.OutboxRow:
    return {
        "id": outbox_id,
        "account_id": account_id,
        "kind": kind,
        "state": store.PENDING,
        "method": method,
        "url": url,
        "target_host": host,
        "body": None,
        "headers": None,
        "event_type": "",
        "event_id": "",
        "subscription_id": None,
        "attempts": 0,
        "next_attempt_at": now,
        "pending_since": now,
        "created_at": now,
        "delivered_at": None,
        "last_status": None,
        "last_error": None,
    }


def _subscribed(event_types: str, event_type: str) -> bool:
    try:
        types = json.loads(event_types)
    except ValueError:
        return False
    return isinstance(types, list) and ("*" in types or event_type in types)


async def enqueue_events(
    connection: AsyncConnection,
    events: Sequence[Event],
    *,
    subscriptions: Sequence[store.SubscriptionRecord] | None = None,
) -> int:
    """Queue one signed POST per (event, matching subscription); return how many were queued.

    The body is written in the subscription's payload format (``events/formats``: the native
    Standard Webhooks shape, or a provider dialect's); it is signed at delivery time, since the
    signature covers the send timestamp. A caller that has already read the events' accounts'
    subscriptions passes them, so they are not read twice.
    """
    if not events:
        return 0
    if subscriptions is None:
        subscriptions = await store.list_subscriptions(
            connection, {event.account_id for event in events}
        )
    if not subscriptions:
        return 0
    limits = await recipient_limits(connection, [s.id for s in subscriptions])
    by_account: dict[str, list[store.SubscriptionRecord]] = {}
    for subscription in subscriptions:
        by_account.setdefault(subscription.account_id, []).append(subscription)
    now = datetime.now(UTC)
    event_ids = iter(new_ids(len(events)))
    pairs = []
    for event in events:
        event_id = event.id or f"evt_{next(event_ids)}"
        for subscription in by_account.get(event.account_id, ()):
            limit = limits.get(subscription.id)
            if _subscribed(subscription.event_types, event.type) and (
                limit is None or event.data.get("to") in limit
            ):
                pairs.append((event, event_id, subscription))
    render = await bind_renderers(connection, [(event, sub) for event, _, sub in pairs])
    rows = []
    for outbox_id, (event, event_id, subscription) in zip(new_ids(len(pairs)), pairs, strict=True):
        rendered = render(event, subscription)
        if rendered is None:
            continue  # this subscriber's format has nothing to say about this event
        row = _row(
            outbox_id,
            event.account_id,
            WEBHOOK,
            "POST",
            subscription.url,
            _target_host(subscription.url),
            now,
        )
        row["body"] = rendered.body
        row["headers"] = json.dumps({"content-type": rendered.content_type})
        row["event_type"] = event.type
        row["event_id"] = event_id
        row["subscription_id"] = subscription.id
        rows.append(row)
    await store.insert_items(connection, rows)
    return len(rows)


async def enqueue_status_changes(
    connection: AsyncConnection,
    changes: Sequence[StatusChangeLike],
    *,
    describe: MessageDescriber | None = None,
) -> None:
    """A status hook for the dispatcher: dlr_url callbacks plus ``message.status`` webhooks, and
    ``voice.keypress`` for a call whose result carries the key the recipient pressed.

    ``describe`` adds what it knows of each message to its ``message.status`` event (core's
    adds the channel and the media, so a receiver tells an MMS from an SMS); it is asked only
    about the messages of accounts that subscribe."""
    await enqueue_dlr_callbacks(
        connection,
        [
            DlrCallback(
                account_id=change.account_id,
                dlr_url=change.dlr_url,
                message_id=change.message_id,
                status=str(change.status),
                error_code=change.error_code,
                to=change.recipient,
                timestamp=change.at,
            )
            for change in changes
            if change.dlr_url
        ],
    )
    # Most status changes belong to accounts that subscribe to none: build events only for
    # those that do (one query), since this runs for every submit and receipt.
    subscriptions = await store.subscriptions_of_accounts(
        connection, {change.account_id for change in changes}
    )
    subscribed = {
        event_type: {
            subscription.account_id
            for subscription in subscriptions
            if _subscribed(subscription.event_types, event_type)
        }
        for event_type in (MESSAGE_STATUS, VOICE_KEYPRESS)
    }
    if not any(subscribed.values()):
        return
    described: Mapping[str, MessageDetails] = {}
    if describe is not None and subscribed[MESSAGE_STATUS]:
        described = await describe(
            connection,
            {c.message_id for c in changes if c.account_id in subscribed[MESSAGE_STATUS]},
        )
    events: list[Event] = []
    for change in changes:
        result = None if change.result is None else change.result.model_dump(mode="json")
        data: dict[str, Any]
        if change.account_id in subscribed[MESSAGE_STATUS]:
            data = {
                "message_id": change.message_id,
                "status": str(change.status),
                "error_code": change.error_code,
                "to": change.recipient,
                "timestamp": iso_timestamp(change.at),
            }
            if result is not None:
                # A call's key press, answerer and duration, with its final status.
                data["result"] = result
            data.update(described.get(change.message_id, {}))
            events.append(Event(change.account_id, MESSAGE_STATUS, data, change.at))
        if (
            result is not None
            and result.get("keypress") is not None
            and change.account_id in subscribed[VOICE_KEYPRESS]
        ):
            data = {
                "message_id": change.message_id,
                "to": change.recipient,
                "keypress": result["keypress"],
                "call_id": result.get("call_id"),
                "timestamp": iso_timestamp(change.at),
            }
            events.append(Event(change.account_id, VOICE_KEYPRESS, data, change.at))
    await enqueue_events(connection, events, subscriptions=subscriptions)


async def replay(
    connection: AsyncConnection, outbox_id: str, *, account_id: str | None = None
) -> None:
    """Deliver a row again from now on, whether it was delivered, dead or still pending.

    Its retry clock restarts, so a replayed row gets the full retry period again. With
    ``account_id``, only that account's rows can be replayed (anything else is NotFound).
    """
    if not await store.make_due_again(
        connection, outbox_id, now=datetime.now(UTC), account_id=account_id
    ):
        raise NotFound("No such outbox entry.")


RULE_POST = "rule_post"


@dataclass(frozen=True, slots=True)
class RulePost:
    """An inbound rule's URL action: an unsigned POST of the message, JSON or form encoded."""

    account_id: str
    url: str
    body: str
    content_type: str
    event_type: str
    event_id: str


async def enqueue_rule_posts(connection: AsyncConnection, posts: Sequence[RulePost]) -> None:
    """Queue the POSTs in the caller's transaction; delivered with the same retries and guard."""
    if not posts:
        return
    now = datetime.now(UTC)
    rows = []
    for outbox_id, post in zip(new_ids(len(posts)), posts, strict=True):
        row = _row(
            outbox_id, post.account_id, RULE_POST, "POST", post.url, _target_host(post.url), now
        )
        row["body"] = post.body
        row["headers"] = json.dumps({"content-type": post.content_type})
        row["event_type"] = post.event_type
        row["event_id"] = post.event_id
        rows.append(row)
    await store.insert_items(connection, rows)
