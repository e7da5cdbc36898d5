"""Wire formats for webhook bodies: how one event is written for one kind of subscriber.

The native format is Standard Webhooks' payload shape ``{"type", "timestamp", "data"}``. A
provider dialect (ClickSend, TrueDialog, SmartDialog) registers the shape its customers' code and
Power Automate flows expect, so the same events reach them through the same outbox, retries and
signing. A renderer returns ``None`` for an event its format has no message for; that
subscription then simply gets nothing for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.events.formats import clicksend, native, smartdialog, truedialog
from tidings.events.formats.body import RenderedBody
from tidings.events.types import Event
from tidings.store.outbox import SubscriptionRecord

PayloadRenderer = Callable[[Event], RenderedBody | None]

NATIVE = "native"

# Immutable: a format is part of the code, added here by the module that defines it.
RENDERERS: Mapping[str, PayloadRenderer] = MappingProxyType(
    {
        NATIVE: lambda event: RenderedBody(native.render(event)),
        truedialog.FORMAT: lambda event: _json(truedialog.render(event)),
        smartdialog.SMARTDIALOG: lambda event: _json(smartdialog.render(event)),
        clicksend.FORMAT: lambda event: clicksend.render(event, clicksend.FORMAT),
        clicksend.FORM_FORMAT: lambda event: clicksend.render(event, clicksend.FORM_FORMAT),
    }
)

# A format whose bodies need more than the event (ids, names, the subscription's URL) loads it
# once per outbox batch, in the enqueuing transaction, and renders with it.
# A bound renderer returns a JSON string, or a RenderedBody for another content type.
BoundRenderer = Callable[[Event, SubscriptionRecord], str | RenderedBody | None]
Binder = Callable[
    [AsyncConnection, Sequence[tuple[Event, SubscriptionRecord]]], Awaitable[BoundRenderer]
]
BINDERS: Mapping[str, Binder] = MappingProxyType(
    {
        truedialog.FORMAT: truedialog.bind,
        clicksend.FORMAT: clicksend.bind,
        clicksend.FORM_FORMAT: clicksend.bind,
    }
)


def _json(body: str | RenderedBody | None) -> RenderedBody | None:
    if body is None or isinstance(body, RenderedBody):
        return body
    return RenderedBody(body)


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
