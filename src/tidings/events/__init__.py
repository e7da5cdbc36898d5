"""Events leave the process through an outbox: dlr_url callbacks and signed webhooks.

A status change writes its callbacks into the ``outbox`` table in the same transaction
(:mod:`tidings.events.outbox`); :class:`tidings.events.delivery.OutboxWorker` delivers them
with retries, and :mod:`tidings.events.ssrf` decides which targets they may reach.
"""
