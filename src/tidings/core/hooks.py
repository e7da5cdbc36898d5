"""What every status change and every inbound message causes, written in the transaction that
records it: callbacks and webhooks (the outbox), delivery health, threads, opt-outs, keywords
and rules. Every status writer of a service (the dispatcher's, an API process's) runs these."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.delivery_health import record_delivery_health
from tidings.core.inbound import process_received
from tidings.core.media import MediaLibrary
from tidings.core.mms import StatusHook, sms_fallback, status_details
from tidings.core.whatsapp import queue_sms_fallbacks
from tidings.events.outbox import StatusChangeLike, enqueue_status_changes

INBOUND_HOOKS = (process_received,)


def status_hooks(media: MediaLibrary, base_url: Callable[[], str]) -> tuple[StatusHook, ...]:
    """The hooks of every status change: callbacks and ``message.status`` webhooks (with each
    message's channel and its files' signed URLs), delivery health, and the SMS that goes
    instead of a WhatsApp message or an MMS the handset cannot take."""
    describe = status_details(media, base_url)

    async def callbacks_and_webhooks(
        connection: AsyncConnection, changes: Sequence[StatusChangeLike]
    ) -> None:
        await enqueue_status_changes(connection, changes, describe=describe)

    return (
        callbacks_and_webhooks,
        record_delivery_health,
        queue_sms_fallbacks,
        sms_fallback(media, base_url),
    )
