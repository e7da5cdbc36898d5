"""Wire formats for webhook bodies: how one event is written for one kind of subscriber.

The native format is Standard Webhooks' payload shape ``{"type", "timestamp", "data"}``. A
provider dialect (ClickSend, TrueDialog, SmartDialog) registers the shape its customers' code and
Power Automate flows expect, so the same events reach them through the same outbox, retries and
signing. A renderer returns ``None`` for an event its format has no message for; that
subscription then simply gets nothing for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.events.formats import native, smartdialog, truedialog
from tidings.events.types import Event
from tidings.store.outbox import SubscriptionRecord


@dataclass(frozen=True, slots=True)
class RenderedBody:
    body: str
    content_type: str = "application/json"


PayloadRenderer = Callable[[Event], RenderedBody | None]

NATIVE = "native"

# Immutable: a format is part of the code, added here by the module that defines it.
RENDERERS: Mapping[str, PayloadRenderer] = MappingProxyType(
    {
        NATIVE: lambda event: RenderedBody(native.render(event)),
        truedialog.FORMAT: lambda event: _json(truedialog.render(event)),
        smartdialog.SMARTDIALOG: lambda event: _json(smartdialog.render(event)),
    }
)

# A format whose bodies need more than the event (ids, names, the subscription's URL) loads it
# once per outbox batch, in the enqueuing transaction, and renders with it.
BoundRenderer = Callable[[Event, SubscriptionRecord], str | None]
Binder = Callable[
    [AsyncConnection, Sequence[tuple[Event, SubscriptionRecord]]], Awaitable[BoundRenderer]
]
BINDERS: Mapping[str, Binder] = MappingProxyType({truedialog.FORMAT: truedialog.bind})


def _json(body: str | None) -> RenderedBody | None:
    return None if body is None else RenderedBody(body)


def render(payload_format: str, event: Event) -> RenderedBody | None:
    renderer = RENDERERS.get(payload_format)
    return None if renderer is None else renderer(event)


async def bind_renderers(
    connection: AsyncConnection, pairs: Sequence[tuple[Event, SubscriptionRecord]]
) -> Callable[[Event, SubscriptionRecord], RenderedBody | None]:
    """One renderer for a batch of (event, subscription) pairs, in whatever formats they use."""
    bound: dict[str, BoundRenderer] = {}
    for payload_format in {subscription.payload_format for _, subscription in pairs}:
        binder = BINDERS.get(payload_format)
        if binder is not None:
            chosen = [pair for pair in pairs if pair[1].payload_format == payload_format]
            bound[payload_format] = await binder(connection, chosen)

    def render_pair(event: Event, subscription: SubscriptionRecord) -> RenderedBody | None:
        renderer = bound.get(subscription.payload_format)
        if renderer is None:
            return render(subscription.payload_format, event)
        return _json(renderer(event, subscription))

    return render_pair
