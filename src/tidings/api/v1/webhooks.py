"""``/v1/webhooks``: subscriptions, their deliveries, and manual replay (issue 4 §6).

Creating answers 201 with a ``Location`` header, and ``DELETE`` on that Location removes the
subscription: the Power Automate webhook-trigger convention.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from tidings.api.auth import AccountDep, ServicesDep
from tidings.events import subscriptions
from tidings.events.ssrf import MAX_URL_LENGTH, TargetPolicy
from tidings.store import outbox as store

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

SubscriptionId = Annotated[str, Path(max_length=26)]


class CreateWebhook(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/tidings",
                    "events": ["message.status", "message.received"],
                }
            ]
        }
    )

    url: str = Field(max_length=MAX_URL_LENGTH, description="http(s) URL that receives POSTs")
    events: list[str] = Field(
        min_length=1,
        max_length=len(subscriptions.EVENT_TYPES) + 1,
        description="Event types, or ['*'] for all: "
        + ", ".join(sorted(subscriptions.EVENT_TYPES)),
    )
    secret: str | None = Field(
        default=None,
        max_length=128,
        description="Standard Webhooks secret (whsec_…); generated when absent",
    )


class WebhookView(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime


class CreatedWebhook(WebhookView):
    secret: str = Field(description="Shown once: verify the webhook-signature header with it")


class WebhookList(BaseModel):
    webhooks: list[WebhookView]


class AttemptView(BaseModel):
    at: datetime
    status_code: int | None
    latency_ms: int | None
    error: str | None


class DeliveryView(BaseModel):
    id: str = Field(description="Also the webhook-id header of every attempt")
    event_type: str
    event_id: str
    state: str = Field(description="pending, delivered or dead")
    attempts: list[AttemptView]
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryView]


def _view(subscription: store.SubscriptionRecord) -> WebhookView:
    return WebhookView(
        id=subscription.id,
        url=subscription.url,
        events=subscriptions.event_types_of(subscription),
        created_at=subscription.created_at,
    )


@router.post("", status_code=201, response_model=CreatedWebhook, summary="Subscribe a URL")
async def create_webhook(
    body: CreateWebhook, account: AccountDep, found: ServicesDep, response: Response
) -> CreatedWebhook:
    """Subscribe a URL to events (`message.status`, `message.received`, …, or `*`). tidings POSTs
    each event signed as Standard Webhooks with the returned secret (shown only here), and
    retries for 25 hours until the URL answers 2xx. Loopback and private addresses are refused
    unless the service allows them."""
    subscription = await subscriptions.create_subscription(
        found.database,
        account.id,
        body.url,
        body.events,
        secret=body.secret,
        policy=TargetPolicy.from_settings(found.settings),
    )
    response.headers["Location"] = f"/v1/webhooks/{subscription.id}"
    return CreatedWebhook(**_view(subscription).model_dump(), secret=subscription.secret)


@router.get("", response_model=WebhookList, summary="List subscriptions")
async def list_webhooks(account: AccountDep, found: ServicesDep) -> WebhookList:
    """The acting account's webhook subscriptions (never their secrets)."""
    found_subscriptions = await subscriptions.list_subscriptions(found.database, account.id)
    return WebhookList(webhooks=[_view(s) for s in found_subscriptions])


@router.get("/{subscription_id}", response_model=WebhookView, summary="One subscription")
async def get_webhook(
    subscription_id: SubscriptionId, account: AccountDep, found: ServicesDep
) -> WebhookView:
    """One webhook subscription: its URL, events and creation time."""
    return _view(await subscriptions.get_subscription(found.database, account.id, subscription_id))


@router.delete("/{subscription_id}", status_code=204, summary="Remove a subscription")
async def delete_webhook(
    subscription_id: SubscriptionId, account: AccountDep, found: ServicesDep
) -> Response:
    """Remove a subscription; nothing more is delivered to it. Also the `Location` a subscription
    was created at, as Power Automate's webhook triggers expect."""
    await subscriptions.delete_subscription(found.database, account.id, subscription_id)
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryList,
    summary="Recent deliveries, newest first, with every attempt",
)
async def list_deliveries(
    subscription_id: SubscriptionId,
    account: AccountDep,
    found: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryList:
    """A subscription's recent deliveries, newest first, each with its state (pending, delivered,
    dead) and every attempt (time, HTTP status, latency, error)."""
    deliveries = await subscriptions.list_deliveries(
        found.database, account.id, subscription_id, limit=limit
    )
    return DeliveryList(
        deliveries=[
            DeliveryView(
                id=d.item.id,
                event_type=d.item.event_type,
                event_id=d.item.event_id,
                state=d.item.state,
                attempts=[
                    AttemptView(
                        at=a.at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error
                    )
                    for a in d.attempts
                ],
                created_at=d.item.created_at,
                delivered_at=d.item.delivered_at,
                next_attempt_at=d.item.next_attempt_at,
                last_error=d.item.last_error,
            )
            for d in deliveries
        ]
    )


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    summary="Deliver again, whatever the delivery's state",
)
async def replay_delivery(
    subscription_id: SubscriptionId,
    delivery_id: Annotated[str, Path(max_length=26)],
    account: AccountDep,
    found: ServicesDep,
) -> Response:
    """Deliver one delivery again now, whatever its state, a dead one included; its `webhook-id`
    stays the same so a receiver can tell a replay."""
    await subscriptions.replay_delivery(found.database, account.id, subscription_id, delivery_id)
    return Response(status_code=202)
