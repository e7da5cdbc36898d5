"""The status writer: every outcome from a carrier is recorded here, in batches.

Submit responses, reports (delivery receipts) and inbound messages arrive one by one at
thousands per second; one transaction per batch (a few milliseconds' worth) keeps the database
from being the limit. The writer applies a batch in arrival order, submit outcomes before
reports, so a report that overtakes its own submit response in the network still finds its
part. Reports and inbound messages are acknowledged to the carrier only after the batch holding
them is committed: what the carrier hands over is never lost, and a database outage slows the
carrier down instead. Whatever the transport, reports and inbound messages take this one way
in (``dispatch.reception.Reception``), in the dispatcher or in an API process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core import inbound_references
from tidings.core.content import dump_content
from tidings.core.received import ReceivedMessage
from tidings.dispatch.outcomes import (
    InboundOutcome,
    Report,
    StatusChange,
    SubmitOutcome,
)
from tidings.lifecycle import (
    DELIVERED_STATUSES,
    FINAL_STATUSES,
    SETTLED_STATUSES,
    TRANSITIONS,
    InboundStatus,
    MessageStatus,
    derive_message_status,
)
from tidings.store import dispatch as store
from tidings.store.engine import Database
from tidings.store.ids import new_id, new_ids

_FINAL_VALUES = frozenset(status.value for status in FINAL_STATUSES)
_SENT = MessageStatus.SENT.value
# The lifecycle table as (stored status, new status) pairs: a report that would take a part
# elsewhere (a call's "ringing" overtaken by its "answered") is not news, and is not recorded.
_STEPS = frozenset((old.value, new) for old, news in TRANSITIONS.items() for new in news)
log = structlog.get_logger("tidings.dispatch")

StatusHook = Callable[[AsyncConnection, Sequence[StatusChange]], Awaitable[None]]
# Runs in the transaction that stores inbound messages (threads, opt-out, keywords, events), so
# what an inbound message causes is committed with it or not at all.
InboundHook = Callable[[AsyncConnection, Sequence[ReceivedMessage]], Awaitable[None]]

# How long a receipt whose SMSC id matches no part is kept and retried before it is dropped.
UNMATCHED_RECEIPT_TTL = 120.0
# How long a receipt's exact SMSC id must have been missing before its other spellings are tried.
VARIANTS_AFTER = 10.0
# Receipts are taken to be still coming this long (seconds) after the last batch that had any.
RECEIPTS_FLOWING = 1.0
# How many recently submitted parts are remembered, so receipts skip the index lookup.
RECENT_PARTS = 200_000


@dataclass(slots=True)
class _Batch:
    submits: list[SubmitOutcome] = field(default_factory=list)
    receipts: list[Report] = field(default_factory=list)
    inbound: list[InboundOutcome] = field(default_factory=list)
    # One future per receipt (same order as ``receipts``) and per inbound message: each
    # completes once its item is committed, and only then is the SMSC acknowledged.
    receipt_waiters: list[asyncio.Future[None]] = field(default_factory=list)
    inbound_waiters: list[asyncio.Future[None]] = field(default_factory=list)

    @property
    def waiters(self) -> list[asyncio.Future[None]]:
        return self.receipt_waiters + self.inbound_waiters

    def __len__(self) -> int:
        return len(self.submits) + len(self.receipts) + len(self.inbound)


class StatusWriter:
    def __init__(
        self,
        database: Database,
        *,
        max_batch: int = 1000,
        receipt_batch: int = 300,
        linger: float = 0.005,
        status_hooks: Sequence[StatusHook] = (),
        inbound_hooks: Sequence[InboundHook] = (),
        on_unmatched: Callable[[Report], None] | None = None,
        after_inbound: Callable[[], None] | None = None,
        reference_variants: Callable[[str], Sequence[str]] | None = None,
        references_kept_for: timedelta | None = None,
    ) -> None:
        self._database = database
        # How long carriers' references of inbound messages are kept (None: for ever); a
        # message with a reference older than that is not stored (core.inbound_references).
        self._references_kept_for = references_kept_for
        self._max_batch = max_batch
        self._linger = linger
        self._status_hooks = list(status_hooks)
        self._inbound_hooks = list(inbound_hooks)
        self._on_unmatched = on_unmatched
        # Other spellings of a carrier reference that reports may use (see _resolve).
        self._reference_variants = reference_variants
        # Inbound hooks may queue auto-replies: the dispatcher claims them once committed.
        self._after_inbound = after_inbound
        self._receipt_batch = receipt_batch
        # Receipts and inbound messages not yet taken into a batch (``submits`` stays empty:
        # pending submit outcomes are in ``_submits``, in arrival order, by arrival number).
        self._pending = _Batch()
        self._submits: dict[int, SubmitOutcome] = {}
        # Submit outcomes in the transaction being committed: with ``_submits``, what the SMSC
        # has accepted and a crash would lose the record of (the message is then sent again).
        self._committing = 0
        # Submits admitted (admit_submit) whose outcome has not come yet.
        self._admitted = 0
        # Set while fewer than ``max_batch`` submits are under way or unrecorded: route runners
        # wait for it before each submit, so the backlog a crash leaves stays within one batch.
        self._room = asyncio.Event()
        self._room.set()
        self._arrivals = 0
        self._receipt_seen = float("-inf")  # loop time a batch last took receipts
        # Receipts and inbound messages the last batch acknowledged: the SMSC sends as many
        # new ones as soon as the acknowledgements reach it (see ``_await_refill``).
        self._acknowledged = 0
        self._deferred: list[Report] = []
        # The SMSC ids of the pending submit outcomes, each to its outcome's arrival number.
        self._unwritten: dict[str, int] = {}
        # Parts submitted lately, by SMSC message id, so that their receipts skip the index
        # lookup. A part is forgotten once its final status is committed (a repeated receipt
        # finds that status in the database): otherwise every part sent stayed here until
        # RECENT_PARTS newer ones pushed it out, memory that grew for hours of traffic.
        self._recent: dict[str, store.PartOwner] = {}
        # The parts the batch being written finishes, forgotten once it commits.
        self._finished: list[str] = []
        # What an attempt at a batch learns is kept apart until it commits: a failed attempt
        # is tried again from the state before it, so it must leave nothing behind (a part
        # remembered as delivered would make the retry drop its receipt as a repeat).
        self._staged_parts: dict[str, store.PartOwner] = {}
        self._staged_deferred: list[Report] = []
        self._staged_parked: list[Report] = []
        self._wakeup = asyncio.Event()
        self._receipt_arrived = asyncio.Event()  # set by receipts and inbound messages only
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Set by start(); a future per receipt is made on it without asking asyncio for the
        # running loop, which costs a getpid() system call each time.
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- producers ----------------------------------------------------------------------------

    def submit_outcome(self, outcome: SubmitOutcome) -> None:
        arrival = self._arrivals = self._arrivals + 1
        self._submits[arrival] = outcome
        for _, smsc_id in outcome.sent:
            self._unwritten[smsc_id] = arrival
        if self._admitted:
            self._admitted -= 1
        self._update_room()
        self._wakeup.set()

    @property
    def remembered_parts(self) -> int:
        """Parts remembered for their receipts: those sent lately and not finished yet."""
        return len(self._recent)

    @property
    def unrecorded_submits(self) -> int:
        """Submits under way or done whose outcome is not committed yet."""
        return self._admitted + len(self._submits) + self._committing

    async def admit_submit(self) -> None:
        """Wait until fewer than ``max_batch`` submits are under way or unrecorded, then count
        one more (its outcome, through :meth:`submit_outcome`, counts it off). Back-pressure
        from the database to the carrier: a crash leaves at most one writer batch of submits
        the carrier may have accepted unrecorded, in flight ones included."""
        while not self._room.is_set():
            await self._room.wait()
        self._admitted += 1
        self._update_room()

    def _update_room(self) -> None:
        if self.unrecorded_submits < self._max_batch:
            self._room.set()
        else:
            self._room.clear()

    def report(self, outcome: Report) -> asyncio.Future[None]:
        """Record a report; the future completes once it is committed (or parked to retry)."""
        self._pending.receipts.append(outcome)
        return self._waiter(self._pending.receipt_waiters)

    def inbound(self, outcome: InboundOutcome) -> asyncio.Future[None]:
        self._pending.inbound.append(outcome)
        return self._waiter(self._pending.inbound_waiters)

    def _waiter(self, waiters: list[asyncio.Future[None]]) -> asyncio.Future[None]:
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiters.append(future)
        self._wakeup.set()
        self._receipt_arrived.set()
        return future

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())

    async def stop(self, timeout: float = 15.0) -> None:
        """Write what is pending, then stop.

        If the database cannot take it within ``timeout``, stop anyway: nothing is lost, because
        unwritten receipts and inbound messages were never acknowledged (the SMSC sends them
        again) and unwritten submit outcomes leave their messages in ``submitting``, which the
        crash rule resolves at the next start.
        """
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self._task)
            except TimeoutError:
                log.error("stopping with outcomes unwritten", backlog=self.backlog)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    @property
    def backlog(self) -> int:
        return len(self._submits) + len(self._pending)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._load_parked()
                break
            except Exception:
                log.exception("reading parked receipts failed; retrying")
                await asyncio.sleep(1.0)
        while True:
            if not self.backlog and not self._deferred:
                if self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
            elif not self.backlog:
                # Only parked receipts: look again shortly, or as soon as anything new comes.
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self._wakeup.wait()
                if self._stopping and not self.backlog:
                    self._drop_deferred()
                    return
            if not self._pending.receipts and not self._pending.inbound and not self._stopping:
                # Only submit outcomes so far. Receipts and inbound messages are never kept
                # waiting, since the SMSC holds its delivery window open until they are
                # acknowledged, and they are acknowledged only once committed.
                if loop.time() - self._receipt_seen < RECEIPTS_FLOWING:
                    # The SMSC sends the next receipts as soon as the last ones are
                    # acknowledged: wait a moment for them rather than start a transaction
                    # they would arrive behind.
                    self._receipt_arrived.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._linger):
                            await self._receipt_arrived.wait()
                elif len(self._submits) < self._max_batch:
                    await asyncio.sleep(self._linger)  # let a few more gather
            elif not self._stopping:
                await self._await_refill(loop)
            batch = self._take(loop.time())
            self._committing = len(batch.submits)
            while True:
                try:
                    # Ahead of queued intake and claim transactions: until this commits,
                    # the SMSC holds back the receipts and submit responses behind it.
                    async with self._database.write(urgent=True) as connection:
                        await self._apply(connection, batch, loop.time())
                    break
                except Exception:
                    # Nothing is acknowledged until it is written: keep the batch and retry.
                    log.exception("writing dispatch outcomes failed; retrying")
                    for receipt in self._staged_parked:
                        receipt.parked_id = None  # its parking row was rolled back
                    await asyncio.sleep(1.0)
            self._committing = 0
            self._update_room()
            remember = self._remember
            for owner in self._staged_parts.values():
                remember(owner)
            recent = self._recent
            for smsc_id in self._finished:
                recent.pop(smsc_id, None)
            self._deferred.extend(self._staged_deferred)
            self._staged_parts, self._staged_deferred, self._staged_parked = {}, [], []
            self._finished = []
            if batch.inbound and self._after_inbound is not None:
                self._after_inbound()
            waiters = batch.waiters
            self._acknowledged = len(waiters)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def _await_refill(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let the receipts that replace the last acknowledged ones join this batch.

        An SMSC keeps its delivery window full: the receipts the last batch acknowledged are
        replaced at once, while the rest of the window is already here. Taken apart, the two
        halves alternate for good, each in a transaction of its own (a fixed cost of several
        statements); waiting a moment for the replacements lets one transaction take the whole
        window, so receipts are committed, and acknowledged, at a higher rate. The wait ends
        as soon as as many are here as were acknowledged, and after ``linger`` at most.
        """
        pending = self._pending
        expected = self._acknowledged
        if len(pending.receipts) + len(pending.inbound) >= expected:
            return
        deadline = loop.time() + self._linger
        while len(pending.receipts) + len(pending.inbound) < expected and not self._stopping:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._receipt_arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._receipt_arrived.wait()

    def _take(self, loop_time: float) -> _Batch:
        """The next batch.

        The SMSC acknowledges nothing more than its window of receipts and inbound messages
        until those are committed, so they are never kept behind a backlog of submit outcomes:
        while any wait, the batch is every one of them, the pending submit outcomes they need
        (a receipt may overtake its submit response), and the oldest other submit outcomes up
        to ``receipt_batch``, so the transaction stays short. With only submit outcomes
        waiting, it is the oldest ``receipt_batch`` of them while receipts are still coming
        (short again, for the next ones are due any moment), else the oldest ``max_batch``,
        in one longer transaction.
        """
        batch = self._pending
        self._pending = _Batch()
        if batch.receipts or batch.inbound:
            self._receipt_seen = loop_time  # new ones, not only parked ones retried
        batch.receipts = self._deferred + batch.receipts
        self._deferred = []
        submits = self._submits
        if batch.receipts or batch.inbound:
            unwritten = self._unwritten
            needed = {
                unwritten[receipt.reference]
                for receipt in batch.receipts
                if receipt.reference in unwritten
            }
            budget = self._receipt_batch - len(needed)
            if budget > 0:
                for arrival in submits:
                    if arrival not in needed:
                        needed.add(arrival)
                        budget -= 1
                        if not budget:
                            break
            taken = sorted(needed)
        else:
            # While receipts keep coming (the SMSC answers what was sent), the next ones are
            # due any moment: a long transaction now would keep them waiting.
            flowing = loop_time - self._receipt_seen < RECEIPTS_FLOWING
            size = self._receipt_batch if flowing else self._max_batch
            taken = list(itertools.islice(submits, size))
        for arrival in taken:
            outcome = submits.pop(arrival)
            batch.submits.append(outcome)
            for _, smsc_id in outcome.sent:
                if self._unwritten.get(smsc_id) == arrival:
                    del self._unwritten[smsc_id]
        return batch

    # --- applying one batch -------------------------------------------------------------------

    async def _apply(self, connection: AsyncConnection, batch: _Batch, now_loop: float) -> None:
        # This attempt's (a failed one is tried again).
        self._finished = []
        self._staged_parts, self._staged_deferred, self._staged_parked = {}, [], []
        changes: list[StatusChange] = []
        # The history rows of submits and receipts go in as one statement (each statement is
        # a round trip to the database's thread or server), submits' first.
        event_rows: list[store.EventRow] = []
        receipts = batch.receipts
        if batch.submits:
            receipts = await self._apply_submits(
                connection, batch.submits, receipts, changes, event_rows
            )
        if receipts:
            await self._apply_receipts(connection, receipts, changes, event_rows, now_loop)
        await store.insert_events(connection, event_rows)
        if batch.inbound:
            received = await self._apply_inbound(connection, batch.inbound)
            for inbound_hook in self._inbound_hooks if received else ():
                await inbound_hook(connection, received)
        if changes:
            for hook in self._status_hooks:
                await hook(connection, changes)

    async def _apply_submits(
        self,
        connection: AsyncConnection,
        outcomes: list[SubmitOutcome],
        receipts: list[Report],
        changes: list[StatusChange],
        event_rows: list[store.EventRow],
    ) -> list[Report]:
        """Record the submit outcomes; returns the receipts still to apply (see
        :meth:`_merge_receipts`)."""
        part_rows: list[store.PartRow] = []
        message_rows: list[store.SubmitUpdate] = []
        fresh: dict[str, _FreshPart] = {}
        staged = self._staged_parts
        for outcome in outcomes:
            message = outcome.message
            message_id = message.id
            status = outcome.status
            at = outcome.at
            sent = outcome.sent
            # A part the far end took is ``sent``; a call's one part is ``calling`` until it
            # rings, is answered or ends.
            part_status = status.value if status is MessageStatus.CALLING else _SENT
            part_row: store.PartRow | None = None
            owner: store.PartOwner | None = None
            for seq, smsc_id in sent:
                part_row = {
                    "message_id": message_id,
                    "seq": seq,
                    "status": part_status,
                    "smsc_message_id": smsc_id,
                    "error_code": None,
                    "submitted_at": at,
                    "done_at": None,
                }
                part_rows.append(part_row)
                owner = store.PartOwner(
                    smsc_id,
                    message_id,
                    seq,
                    message.parts_count,
                    message.account_id,
                    message.recipient,
                    message.dlr_url,
                    part_status,
                )
                staged[owner.smsc_message_id] = owner
            message_row: store.SubmitUpdate = {
                "b_id": message_id,
                "b_status": status.value,
                "b_at": at,
                "b_claimed_by": None,
                "b_claim_expires_at": None,
                "b_next_attempt_at": outcome.retry_at,
                "b_error_code": outcome.error_code,
                "b_error_detail": outcome.detail,
            }
            message_rows.append(message_row)
            if status is MessageStatus.SENT:
                if len(sent) == 1:
                    smsc_id = sent[0][1]
                    detail: str | None = "SMSC message id " + smsc_id
                    if message.parts_count == 1 and owner is not None and part_row is not None:
                        fresh[smsc_id] = _FreshPart(owner, part_row, message_row)
                else:
                    detail = "SMSC message id " + ", ".join([i for _, i in sent])
            else:
                detail = outcome.detail
            event_rows.append(
                {"message_id": message_id, "status": status.value, "at": at, "detail": detail}
            )
            if status is not MessageStatus.QUEUED:
                changes.append(
                    StatusChange(
                        message.account_id,
                        message_id,
                        message.recipient,
                        message.dlr_url,
                        status,
                        outcome.error_code,
                        at,
                    )
                )
        if fresh and receipts:
            receipts = self._merge_receipts(receipts, fresh, changes, event_rows)
        await store.insert_parts(connection, part_rows)
        await store.update_messages_after_submit(connection, message_rows)
        return receipts

    def _merge_receipts(
        self,
        receipts: list[Report],
        fresh: dict[str, _FreshPart],
        changes: list[StatusChange],
        event_rows: list[store.EventRow],
    ) -> list[Report]:
        """Final receipts for one-part messages whose submit outcome is in the same batch.

        The part is inserted with its final status and the message updated once, instead of
        being written as sent and then updated again: what is stored (history included) is
        the same, for a third of the row writes. Returns the other receipts.
        """
        remaining: list[Report] = []
        for receipt in receipts:
            part = fresh.get(receipt.reference)
            status = receipt.status
            if (
                part is None
                or status is None
                or receipt.parked_id is not None
                or (_SENT, status) not in _STEPS
            ):
                remaining.append(receipt)
                continue
            # A second receipt for the part takes the usual way, and finds it final.
            del fresh[receipt.reference]
            owner = part.owner
            error_code = receipt.error_code
            detail = _receipt_detail(receipt)
            part_row, message_row = part.part_row, part.message_row
            part_row["status"] = status.value
            part_row["error_code"] = error_code
            part_row["done_at"] = receipt.at
            message_row["b_status"] = status.value
            message_row["b_at"] = receipt.at
            message_row["b_error_code"] = error_code
            message_row["b_error_detail"] = None if status in DELIVERED_STATUSES else detail
            self._staged_parts[receipt.reference] = owner.with_status(status.value)
            if status in FINAL_STATUSES:
                self._finished.append(receipt.reference)
            event_rows.append(
                {
                    "message_id": owner.message_id,
                    "status": status.value,
                    "at": receipt.at,
                    "detail": detail,
                }
            )
            changes.append(
                StatusChange(
                    owner.account_id,
                    owner.message_id,
                    owner.recipient,
                    owner.dlr_url,
                    status,
                    error_code,
                    receipt.at,
                )
            )
        return remaining

    async def _resolve(
        self, connection: AsyncConnection, receipts: list[Report], now_loop: float
    ) -> dict[str, store.PartOwner]:
        smsc_ids = {r.reference for r in receipts}
        staged, recent = self._staged_parts, self._recent
        owners: dict[str, store.PartOwner] = {}
        for smsc_id in smsc_ids:
            owner = staged.get(smsc_id) or recent.get(smsc_id)
            if owner is not None:
                owners[smsc_id] = owner
        missing = smsc_ids - owners.keys()
        if missing:
            owners.update(await store.find_part_owners(connection, missing))
            missing = smsc_ids - owners.keys()
        # SMSCs often report ids in another base or case than their submit response did (the
        # transports say which spellings are the same reference: ``reference_variants``). Such
        # a spelling can also be another message's exact id, so it is only tried once the exact
        # id has had time to be recorded (the receipt may simply have overtaken its submit
        # response, or come in on another dispatcher's bind), and only onto a part that is
        # still waiting for its receipt.
        overdue = {
            r.reference
            for r in receipts
            if r.reference in missing and r.first_seen and now_loop - r.first_seen >= VARIANTS_AFTER
        }
        spellings = self._reference_variants
        if overdue and spellings is not None:
            variants: dict[str, str] = {}
            for smsc_id in overdue:
                for variant in spellings(smsc_id):
                    if variant != smsc_id:
                        variants.setdefault(variant, smsc_id)
            found = await store.find_part_owners(connection, variants, awaiting_receipt=True)
            for variant, owner in found.items():
                owners.setdefault(variants[variant], owner)
        return owners

    async def _apply_receipts(
        self,
        connection: AsyncConnection,
        receipts: list[Report],
        changes: list[StatusChange],
        event_rows: list[store.EventRow],
        now_loop: float,
    ) -> None:
        owners = await self._resolve(connection, receipts, now_loop)
        # A parked receipt is applied, or given up, only by the transaction that takes it off
        # the parking list: another dispatcher retrying the same one then leaves it alone.
        leaving = {
            r.parked_id
            for r in receipts
            if r.parked_id is not None
            and (r.reference in owners or now_loop - r.first_seen >= UNMATCHED_RECEIPT_TTL)
        }
        taken = await store.unpark_receipts(connection, leaving)
        to_park: list[store.ParkedReceiptRow] = []
        part_rows: list[store.PartStatusUpdate] = []
        # Each message's changes in this batch, in order: one report may follow another for
        # the same part (WhatsApp's delivered, then read, in one webhook), and each is a step
        # of the lifecycle with its own history entry and callback.
        touched: dict[str, list[tuple[store.PartOwner, Report, MessageStatus]]] = {}
        # Parts given their final status by this batch, with it.
        finished: dict[tuple[str, int], str] = {}
        results: list[store.ResultUpdate] = []
        for receipt in receipts:
            owner = owners.get(receipt.reference)
            if receipt.parked_id is not None and receipt.parked_id in leaving:
                if receipt.parked_id not in taken:
                    continue  # another dispatcher took it
            elif owner is None:
                if receipt.first_seen == 0.0:
                    receipt.first_seen = now_loop
                if receipt.parked_id is None:
                    # It is acknowledged with this batch: keep it where a restart finds it.
                    receipt.parked_id = parked_id = new_id()
                    self._staged_parked.append(receipt)
                    to_park.append(_parked_row(receipt, parked_id))
                self._staged_deferred.append(receipt)
                continue
            if owner is None:
                if self._on_unmatched is not None:
                    self._on_unmatched(receipt)
                log.warning("receipt matches no message", smsc_id=receipt.reference)
                continue
            status = receipt.status
            error_code = receipt.error_code
            if status is None:
                event_rows.append(
                    {
                        "message_id": owner.message_id,
                        "status": MessageStatus.SENT.value,
                        "at": receipt.at,
                        "detail": f"part {owner.seq}: carrier reports {receipt.state}",
                    }
                )
                continue
            part = (owner.message_id, owner.seq)
            # What this batch made of the part so far (delivered, then read), else the store's.
            current = finished.get(part, owner.status)
            if current == status.value or (
                current in _FINAL_VALUES and (current, status) not in _STEPS
            ):
                # The SMSC repeated a receipt: the part's status is already final (never
                # changed), so there is no new history row and no second callback. Only a
                # delivered part may still become read.
                log.info("duplicate receipt ignored", smsc_id=receipt.reference)
                continue
            if (current, status) not in _STEPS:
                # Overtaken by a later report (the store would not take the change either).
                log.info(
                    "out-of-order report ignored",
                    smsc_id=receipt.reference,
                    status=owner.status,
                    reported=status.value,
                )
                continue
            if status in FINAL_STATUSES:
                # Progress (a call ringing, then answered) may come twice in one batch.
                finished[part] = status.value
                self._finished.append(receipt.reference)
            self._staged_parts[receipt.reference] = owner.with_status(status.value)
            part_rows.append(
                {
                    "b_message_id": owner.message_id,
                    "b_seq": owner.seq,
                    "b_status": status.value,
                    "b_error_code": error_code,
                    "b_at": receipt.at,
                }
            )
            touched.setdefault(owner.message_id, []).append((owner, receipt, status))
            if receipt.result is not None:
                results.append({"b_id": owner.message_id, "b_result": dump_content(receipt.result)})
        await store.update_part_statuses(connection, part_rows)
        await store.record_message_results(connection, results)
        multi = [m for m, steps in touched.items() if steps[0][0].parts_count > 1]
        part_statuses = await store.part_statuses_of(connection, multi)
        message_rows: list[store.StatusUpdate] = []
        for message_id, steps in touched.items():
            if steps[0][0].parts_count > 1:
                # A message of several parts takes its status from all of them, as this
                # batch left them, once they have settled.
                owner, receipt, _ = steps[-1]
                known = part_statuses.get(message_id, {})
                # Parts not yet recorded are still on their way to the SMSC.
                statuses = [
                    MessageStatus(known.get(seq, MessageStatus.SUBMITTING.value))
                    for seq in range(1, owner.parts_count + 1)
                ]
                status = derive_message_status(statuses)
                if status not in SETTLED_STATUSES:
                    continue
                steps = [(owner, receipt, status)]
            for owner, receipt, status in steps:
                error_code = receipt.error_code
                detail = _receipt_detail(receipt)
                message_rows.append(
                    {
                        "b_id": message_id,
                        "b_status": status.value,
                        "b_at": receipt.at,
                        "b_error_code": error_code,
                        "b_error_detail": None if status in DELIVERED_STATUSES else detail,
                    }
                )
                event_rows.append(
                    {
                        "message_id": message_id,
                        "status": status.value,
                        "at": receipt.at,
                        "detail": detail,
                    }
                )
                changes.append(
                    StatusChange(
                        owner.account_id,
                        message_id,
                        owner.recipient,
                        owner.dlr_url,
                        status,
                        error_code,
                        receipt.at,
                        receipt.result,
                    )
                )
        # Rows for one message are applied in their order (store._StatusChanges' rounds).
        await store.update_message_statuses(connection, message_rows)
        await store.park_receipts(connection, to_park)

    async def _apply_inbound(
        self, connection: AsyncConnection, inbound: list[InboundOutcome]
    ) -> list[ReceivedMessage]:
        if any(item.reference is not None for item in inbound):
            inbound = await self._not_yet_stored(connection, inbound)
            if not inbound:
                return []
        now = datetime.now(UTC)
        ids = new_ids(len(inbound), now_ms=int(now.timestamp() * 1000))
        rows: list[store.InboundMessageRow] = [
            {
                "id": message_id,
                "account_id": item.account_id,
                "direction": "in",
                "sender": item.sender,
                "recipient": item.recipient,
                "body": item.body,
                "encoding": item.encoding,
                "parts_count": item.parts_count,
                "status": InboundStatus.RECEIVED.value,
                "status_at": item.at,
                "send_at": None,
                "next_attempt_at": None,
                "attempts": 0,
                "claimed_by": None,
                "claim_expires_at": None,
                "route_id": item.route_id,
                "customer_data": None,
                "dlr_url": None,
                "request_id": None,
                "error_code": None,
                "error_detail": item.detail,
                "max_parts": item.parts_count,
                "ad": False,
                "created_at": item.at,
                "updated_at": item.at,
                "channel": item.channel.value,
                "subject": item.subject,
                "content": dump_content(item.content),
            }
            for message_id, item in zip(ids, inbound, strict=True)
        ]
        await store.insert_inbound_messages(connection, rows)
        await store.insert_inbound_references(
            connection,
            [
                {
                    "reference": item.reference,
                    "account_id": item.account_id,
                    "message_id": message_id,
                    "received_at": item.at,
                }
                for message_id, item in zip(ids, inbound, strict=True)
                if item.reference is not None
            ],
        )
        return [
            ReceivedMessage(
                id=message_id,
                account_id=item.account_id,
                sender=item.sender,
                recipient=item.recipient,
                body=item.body,
                encoding=item.encoding,
                parts=item.parts_count,
                at=item.at,
                route_id=item.route_id,
                channel=item.channel,
                subject=item.subject,
                content=item.content,
            )
            for message_id, item in zip(ids, inbound, strict=True)
        ]

    async def _not_yet_stored(
        self, connection: AsyncConnection, inbound: list[InboundOutcome]
    ) -> list[InboundOutcome]:
        """The messages whose carrier's reference no message of their account has (a carrier
        sending one again, before or after a restart, or twice in this batch), and that are
        not older than the references kept (whose own may have been pruned)."""
        known = await store.known_inbound_references(
            connection,
            [(i.account_id, i.reference) for i in inbound if i.reference is not None],
        )
        kept_for = self._references_kept_for
        now = datetime.now(UTC)
        fresh: list[InboundOutcome] = []
        for item in inbound:
            if item.reference is not None:
                if kept_for is not None and inbound_references.too_old(item.at, kept_for, now):
                    log.warning(
                        "inbound message older than the references kept, not stored",
                        reference=item.reference,
                        at=item.at.isoformat(),
                    )
                    continue
                key = (item.account_id, item.reference)
                if key in known:
                    log.info("inbound message stored already", reference=item.reference)
                    continue
                known.add(key)
            fresh.append(item)
        return fresh

    def _remember(self, owner: store.PartOwner) -> None:
        recent = self._recent
        recent[owner.smsc_message_id] = owner
        if len(recent) > RECENT_PARTS:
            del recent[next(iter(recent))]

    def _drop_deferred(self) -> None:
        """Stopping: receipts still unmatched stay parked in the database for the next start."""
        self._deferred = []

    async def _load_parked(self) -> None:
        """Starting: receipts parked before a stop or a crash are retried from now on."""
        async with self._database.read() as connection:
            parked = await store.list_parked_receipts(connection)
        now_loop = asyncio.get_running_loop().time()
        for row in parked:
            self._deferred.append(
                Report(
                    row.smsc_message_id,
                    None if row.status is None else MessageStatus(row.status),
                    row.state,
                    row.error_code,
                    row.at,
                    first_seen=now_loop,
                    parked_id=row.id,
                )
            )
        if parked:
            log.info("retrying parked receipts", count=len(parked))


@dataclass(slots=True)
class _FreshPart:
    """The only part of a message that this batch records as sent, and its rows to write."""

    owner: store.PartOwner
    part_row: store.PartRow
    message_row: store.SubmitUpdate


def _receipt_detail(receipt: Report) -> str:
    if receipt.detail is not None:
        return receipt.detail
    return f"receipt {receipt.state}" + (f" err {receipt.error_code}" if receipt.error_code else "")


def _parked_row(receipt: Report, parked_id: str) -> store.ParkedReceiptRow:
    return {
        "id": parked_id,
        "smsc_message_id": receipt.reference,
        "state": receipt.state,
        "status": None if receipt.status is None else receipt.status.value,
        "error_code": receipt.error_code,
        "at": receipt.at,
        "parked_at": datetime.now(UTC),
    }
