"""The outbox worker: claims due rows, delivers them over HTTP, records every attempt.

Delivery is at-least-once. A row is leased when claimed and marked only after its request has
been answered, so a crash in between delivers it again later; webhook receivers dedupe on
``webhook-id``, which is the row id and the same on every retry (Standard Webhooks §"Message
id"). Outcomes are written in batches, one transaction for everything that finished meanwhile.

Failures are retried with exponential backoff and full jitter (the "Full Jitter" scheme of
"Exponential Backoff And Jitter", AWS Architecture Blog, 2015): retry n waits a uniformly random
time in [0, min(cap, base·2ⁿ⁻¹)], so the first retries come within seconds and a thousand
callbacks that failed together do not all come back at the same instant. A row still failing
``webhook_give_up_after_seconds`` after it was queued is marked dead. A target refused by the
SSRF guard is permanent: the row dies at once, with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from standardwebhooks import Webhook

from tidings.config import Settings
from tidings.events.errors import RefusedTarget
from tidings.events.outbox import WEBHOOK
from tidings.events.outbox import replay as replay_item
from tidings.events.ssrf import Resolver, TargetPolicy, getaddrinfo_resolver, resolve_target
from tidings.store import outbox as store
from tidings.store.engine import Database

log = structlog.get_logger("tidings.events")

USER_AGENT = "tidings-webhooks/1"
# 2**60 seconds is far past any cap; larger exponents would only overflow the float.
_MAX_EXPONENT = 60
_MAX_ERROR_LENGTH = 1000


def backoff_delay(retry: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first retry), full jitter."""
    ceiling = min(cap, base * 2.0 ** min(max(retry - 1, 0), _MAX_EXPONENT))
    return rng.uniform(0.0, ceiling)


class OutboxWorker:
    """Delivers outbox rows until stopped. Several workers may share one PostgreSQL database."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        http_client: httpx.AsyncClient | None = None,
        resolver: Resolver = getaddrinfo_resolver,
        rng: random.Random | None = None,
    ) -> None:
        self._database = database
        self._settings = settings
        self._policy = TargetPolicy.from_settings(settings)
        self._resolver = resolver
        self._rng = rng or random.Random()
        self._client = http_client
        self._owns_client = http_client is None
        self._batch_size = settings.outbox_batch_size
        self._per_host = settings.webhook_concurrency_per_host
        timeout = settings.webhook_timeout_seconds
        # The lease must outlast the slowest claimed row: all of one batch queued behind a single
        # host, each taking the full timeout, plus time to write the outcome.
        self._lease = timedelta(
            seconds=timeout * (math.ceil(self._batch_size / self._per_host) + 2) + 30.0
        )
        self._requests = asyncio.Semaphore(settings.webhook_concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._host_load: Counter[str] = Counter()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._outcomes: list[store.Outcome] = []
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.failed_attempts = 0
        self.dead = 0

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                # Proxies from the environment would connect to the target's name, not to the
                # address the SSRF guard checked.
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(self._settings.webhook_timeout_seconds),
                limits=httpx.Limits(max_connections=self._settings.webhook_concurrency),
                headers={"user-agent": USER_AGENT},
            )
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop claiming, abandon unfinished deliveries (their rows fall due again), flush."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll (call after committing new rows)."""
        self._wakeup.set()

    async def replay(self, outbox_id: str, *, account_id: str | None = None) -> None:
        """Deliver a row again now, whatever its state (raises NotFound for an unknown id)."""
        async with self._database.write() as connection:
            await replay_item(connection, outbox_id, account_id=account_id)
        self.wake()

    # --- the loop -----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._stopping:
                await self._flush()
                room = self._batch_size - len(self._in_flight)
                claimed = await self._claim(room) if room > 0 else 0
                if self._stopping:
                    break
                if claimed and claimed == room:
                    continue
                self._wakeup.clear()
                if self._outcomes:
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._settings.outbox_poll_seconds):
                        await self._wakeup.wait()
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        unfinished = list(self._in_flight)
        for task in self._in_flight.values():
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        self._in_flight.clear()
        await self._flush()
        finished = {outcome.outbox_id for outcome in self._outcomes}
        abandoned = [outbox_id for outbox_id in unfinished if outbox_id not in finished]
        with contextlib.suppress(Exception):
            async with self._database.write() as connection:
                await store.release(connection, abandoned, now=datetime.now(UTC))

    async def _claim(self, room: int) -> int:
        now = datetime.now(UTC)
        saturated = [host for host, load in self._host_load.items() if load >= self._per_host]
        try:
            async with self._database.write() as connection:
                items = await store.claim_due(
                    connection,
                    now=now,
                    lease_until=now + self._lease,
                    limit=room,
                    skip_hosts=saturated,
                )
                secrets = await store.subscription_secrets(
                    connection, {item.subscription_id for item in items if item.subscription_id}
                )
        except Exception:
            log.exception("claiming outbox rows failed")
            return 0
        loop = asyncio.get_running_loop()
        for item in items:
            self._host_load[item.target_host] += 1
            secret = secrets.get(item.subscription_id) if item.subscription_id else None
            self._in_flight[item.id] = loop.create_task(self._deliver(item, secret))
        return len(items)

    async def _flush(self) -> None:
        while self._outcomes:
            outcomes, self._outcomes = self._outcomes, []
            try:
                async with self._database.write() as connection:
                    await store.record_outcomes(connection, outcomes)
            except Exception:
                # The rows stay leased; keep the outcomes and try again (at worst the lease runs
                # out first and they are delivered again).
                log.exception("recording delivery outcomes failed; retrying")
                self._outcomes = outcomes + self._outcomes
                if self._stopping:
                    return
                await asyncio.sleep(1.0)

    # --- one delivery -------------------------------------------------------------------------

    async def _deliver(self, item: store.ClaimedItem, secret: str | None) -> None:
        slots = self._host_slots.get(item.target_host)
        if slots is None:
            slots = self._host_slots[item.target_host] = asyncio.Semaphore(self._per_host)
        try:
            async with slots, self._requests:
                try:
                    outcome = await self._attempt(item, secret)
                except Exception as error:
                    # A bug here must not leave the row leased for the whole lease; retry it.
                    log.exception("outbox delivery crashed", outbox_id=item.id)
                    outcome = self._failed(item, f"internal error: {error!r}", None, None)
        finally:
            self._in_flight.pop(item.id, None)
            self._host_load[item.target_host] -= 1
            if self._host_load[item.target_host] <= 0:
                del self._host_load[item.target_host]
                self._host_slots.pop(item.target_host, None)
        self._outcomes.append(outcome)
        self._wakeup.set()

    async def _attempt(self, item: store.ClaimedItem, secret: str | None) -> store.Outcome:
        loop = asyncio.get_running_loop()
        started = loop.time()
        if item.kind == WEBHOOK and secret is None:
            return self._dead(item, "the webhook subscription was deleted", None, None)
        try:
            target = await resolve_target(item.url, self._policy, self._resolver)
        except RefusedTarget as refusal:
            return self._dead(item, refusal.message, None, None)
        except OSError as error:
            return self._failed(item, f"cannot resolve the host: {error}", None, None)
        original = httpx.URL(item.url)
        headers = json.loads(item.headers) if item.headers else {}
        # Connect to the address the guard checked; Host and TLS SNI keep the name.
        headers["host"] = original.netloc.decode("ascii")
        extensions = {"sni_hostname": target.host} if original.scheme == "https" else {}
        if secret is not None:
            headers.update(_signature_headers(secret, item.id, item.body or ""))
        assert self._client is not None
        try:
            request = self._client.build_request(
                item.method,
                original.copy_with(host=target.address),
                headers=headers,
                content=item.body.encode() if item.body is not None else None,
                extensions=extensions,
            )
            response = await self._client.send(request, stream=True)
            # The answer's body is not needed; closing unread keeps a hostile one small.
            await response.aclose()
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            latency = _elapsed_ms(loop.time() - started)
            return self._failed(item, f"{type(error).__name__}: {error}", None, latency)
        latency = _elapsed_ms(loop.time() - started)
        status = response.status_code
        if 200 <= status < 300:
            self.delivered += 1
            return store.Outcome(
                outbox_id=item.id,
                state=store.DELIVERED,
                attempts=item.attempts + 1,
                next_attempt_at=None,
                at=datetime.now(UTC),
                status_code=status,
                latency_ms=latency,
                error=None,
            )
        return self._failed(item, f"HTTP {status}", status, latency)

    def _failed(
        self, item: store.ClaimedItem, error: str, status: int | None, latency: int | None
    ) -> store.Outcome:
        now = datetime.now(UTC)
        attempts = item.attempts + 1
        deadline = item.pending_since + timedelta(
            seconds=self._settings.webhook_give_up_after_seconds
        )
        if now >= deadline:
            return self._dead(item, f"gave up after {attempts} attempts: {error}", status, latency)
        self.failed_attempts += 1
        delay = backoff_delay(
            attempts,
            base=self._settings.webhook_backoff_base_seconds,
            cap=self._settings.webhook_backoff_cap_seconds,
            rng=self._rng,
        )
        log.info("outbox delivery failed", outbox_id=item.id, error=error, retry_in=delay)
        return store.Outcome(
            outbox_id=item.id,
            state=store.PENDING,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=delay),
            at=now,
            status_code=status,
            latency_ms=latency,
            error=error[:_MAX_ERROR_LENGTH],
        )

    def _dead(
        self, item: store.ClaimedItem, error: str, status: int | None, latency: int | None
    ) -> store.Outcome:
        self.dead += 1
        log.warning("outbox delivery abandoned", outbox_id=item.id, error=error)
        return store.Outcome(
            outbox_id=item.id,
            state=store.DEAD,
            attempts=item.attempts + 1,
            next_attempt_at=None,
            at=datetime.now(UTC),
            status_code=status,
            latency_ms=latency,
            error=error[:_MAX_ERROR_LENGTH],
        )


def _signature_headers(secret: str, message_id: str, body: str) -> dict[str, str]:
    """Standard Webhooks headers: the signature covers ``id.timestamp.body``."""
    now = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


def _elapsed_ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
