"""What every status change and every inbound message causes, written in the transaction that
records it: callbacks and webhooks (the outbox), delivery health, threads, opt-outs, keywords
and rules. Every status writer of a service (the dispatcher's, an API process's) runs these."""

from __future__ import annotations

from tidings.core.delivery_health import record_delivery_health
from tidings.core.inbound import process_received
from tidings.core.whatsapp import queue_sms_fallbacks
from tidings.events.outbox import enqueue_status_changes

STATUS_HOOKS = (enqueue_status_changes, record_delivery_health, queue_sms_fallbacks)
INBOUND_HOOKS = (process_received,)
