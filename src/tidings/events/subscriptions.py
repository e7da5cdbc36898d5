"""Webhook subscriptions: which URL hears which event types of an account (issue 4 §6)."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tidings.errors import InvalidRequest, NotFound
from tidings.events.errors import InvalidWebhookSecret
from tidings.events.formats import NATIVE, RENDERERS
from tidings.events.outbox import replay
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.store import outbox as store
from tidings.store.engine import Database
from tidings.store.ids import id_floor, new_id
from tidings.store.subscription_recipients import limit_to_recipients

EVENT_TYPES = frozenset(
    {
        "message.status",
        "message.received",
        "keyword.received",
        "optout.received",
        "optin.received",
        "message.invalid_targets",
        "campaign.completed",
        "voice.keypress",
    }
)
ALL_EVENTS = "*"
_SECRET_PREFIX = "whsec_"
_SECRET_BYTES = 32
_MIN_SECRET_BYTES, _MAX_SECRET_BYTES = 24, 64


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row of a subscription, with every attempt made so far."""

    item: store.OutboxRecord
    attempts: list[store.AttemptRecord]


def new_secret() -> str:
    return _SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def validate_secret(secret: str) -> str:
    if not secret.startswith(_SECRET_PREFIX):
        raise InvalidWebhookSecret(field="secret")
    try:
        raw = base64.b64decode(secret[len(_SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidWebhookSecret(field="secret") from None
    if not _MIN_SECRET_BYTES <= len(raw) <= _MAX_SECRET_BYTES:
        raise InvalidWebhookSecret(field="secret")
    return secret


def validate_event_types(event_types: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    if not chosen:
        raise InvalidRequest("Subscribe to at least one event type.", field="events")
    unknown = [name for name in chosen if name != ALL_EVENTS and name not in EVENT_TYPES]
    if unknown:
        raise InvalidRequest(
            f"Unknown event types: {', '.join(unknown)} (known: {', '.join(sorted(EVENT_TYPES))}).",
            field="events",
        )
    return chosen


def event_types_of(subscription: store.SubscriptionRecord) -> list[str]:
    types = json.loads(subscription.event_types)
    return [str(name) for name in types] if isinstance(types, list) else []


async def create_subscription(
    database: Database,
    account_id: str,
    url: str,
    event_types: Sequence[str],
    *,
    secret: str | None = None,
    policy: TargetPolicy | None = None,
    payload_format: str = NATIVE,
    recipients: Sequence[str] = (),
) -> store.SubscriptionRecord:
    """Subscribe ``url`` to ``event_types``; a secret is generated when none is given.

    ``payload_format`` names the body shape (``events/formats``); provider dialects pass theirs.
    With ``recipients`` it hears only events about messages to those numbers.
    """
    if payload_format not in RENDERERS:
        raise InvalidRequest(f"Unknown payload format {payload_format!r}.", field="format")
    try:
        url = validate_callback_url(url, policy)
    except InvalidRequest as error:
        error.field = "url"
        raise
    subscription_id = new_id()
    row: store.SubscriptionRow = {
        "id": subscription_id,
        "account_id": account_id,
        "url": url,
        "event_types": json.dumps(validate_event_types(event_types)),
        "secret": new_secret() if secret is None else validate_secret(secret),
        "created_at": datetime.now(UTC),
        "payload_format": payload_format,
    }
    async with database.write() as connection:
        await store.insert_subscription(connection, row)
        await limit_to_recipients(connection, subscription_id, recipients)
    return store.SubscriptionRecord(**row)


async def list_subscriptions(database: Database, account_id: str) -> list[store.SubscriptionRecord]:
    async with database.read() as connection:
        return await store.list_subscriptions(connection, [account_id])


async def get_subscription(
    database: Database, account_id: str, subscription_id: str
) -> store.SubscriptionRecord:
    async with database.read() as connection:
        subscription = await store.get_subscription(connection, subscription_id)
    # Another account's subscription is as absent as a missing one.
    if subscription is None or subscription.account_id != account_id:
        raise NotFound("No such webhook subscription.")
    return subscription


async def delete_subscription(database: Database, account_id: str, subscription_id: str) -> None:
    """Remove a subscription; its undelivered events die instead of being sent."""
    async with database.write() as connection:
        subscription = await store.get_subscription(connection, subscription_id)
        if subscription is None or subscription.account_id != account_id:
            raise NotFound("No such webhook subscription.")
        await store.delete_subscription(connection, subscription_id)


async def list_deliveries(
    database: Database, account_id: str, subscription_id: str, *, limit: int = 50
) -> list[Delivery]:
    """A subscription's most recent deliveries, newest first, each with its attempts."""
    await get_subscription(database, account_id, subscription_id)
    async with database.read() as connection:
        items = await store.list_items(connection, subscription_id=subscription_id, limit=limit)
        attempts = await store.list_attempts(connection, [item.id for item in items])
    by_item: dict[str, list[store.AttemptRecord]] = {item.id: [] for item in items}
    for attempt in attempts:
        by_item[attempt.outbox_id].append(attempt)
    return [Delivery(item, by_item[item.id]) for item in items]


# A message's callbacks are written from its acceptance to its last receipt: the SMSC validity
# period (72 h commonly) bounds the stretch of the outbox searched for them.
_MESSAGE_CALLBACKS_WITHIN = timedelta(days=4)


async def deliveries_of_message(
    database: Database, account_id: str, message_id: str, created_at: datetime, *, limit: int = 20
) -> list[Delivery]:
    """The webhook and dlr_url deliveries about one message, newest first, with attempts."""
    start = int(created_at.timestamp() * 1000)
    end = int((created_at + _MESSAGE_CALLBACKS_WITHIN).timestamp() * 1000)
    async with database.read() as connection:
        items = await store.items_mentioning(
            connection,
            account_id,
            message_id,
            from_id=id_floor(start),
            until_id=id_floor(end),
            limit=limit,
        )
        attempts = await store.list_attempts(connection, [item.id for item in items])
    by_item: dict[str, list[store.AttemptRecord]] = {item.id: [] for item in items}
    for attempt in attempts:
        by_item[attempt.outbox_id].append(attempt)
    return [Delivery(item, by_item[item.id]) for item in items]


async def replay_delivery(
    database: Database, account_id: str, subscription_id: str, delivery_id: str
) -> None:
    """Deliver a subscription's delivery again from now, whatever its state."""
    await get_subscription(database, account_id, subscription_id)
    async with database.write() as connection:
        record = await store.get_item(connection, delivery_id)
        if record is None or record.subscription_id != subscription_id:
            raise NotFound("No such delivery.")
        await replay(connection, delivery_id, account_id=account_id)
