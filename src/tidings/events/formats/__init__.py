"""Wire formats for webhook bodies: how one event is written for one kind of subscriber.

The native format is Standard Webhooks' payload shape ``{"type", "timestamp", "data"}``. A
provider dialect (ClickSend, TrueDialog, SmartDialog) registers the shape its customers' code and
Power Automate flows expect, so the same events reach them through the same outbox, retries and
signing. A renderer returns ``None`` for an event its format has no message for; that
subscription then simply gets nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tidings.events.formats import native, smartdialog
from tidings.events.types import Event


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
        smartdialog.SMARTDIALOG: lambda event: _body(smartdialog.render(event)),
    }
)


def _body(text: str | None) -> RenderedBody | None:
    return None if text is None else RenderedBody(text)


def render(payload_format: str, event: Event) -> RenderedBody | None:
    renderer = RENDERERS.get(payload_format)
    return None if renderer is None else renderer(event)
