"""What the dispatcher asks of the store: claiming due messages, recording submit outcomes and
receipts in batches, finding parts by SMSC message id, and resolving interrupted claims.

The messages table is the queue. A claim moves a due message to ``submitting`` with the
dispatcher's id and a lease; PostgreSQL skips rows another dispatcher holds (FOR UPDATE SKIP
LOCKED), SQLite has a single writer and needs no more.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple, TypedDict

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    delete,
    false,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import Executable

from tidings.lifecycle import PREDECESSORS, SUBMIT_RESULTS, MessageStatus
from tidings.store.driver import BulkStatement, insert_many
from tidings.store.messages import EventRow as EventRow
from tidings.store.models import (
    inbound_references,
    message_events,
    message_parts,
    messages,
    parked_receipts,
)

# Parts a receipt may still change: sent, and unknown (no receipt in time; a late one corrects).
_AWAITING_RECEIPT = (MessageStatus.SENT.value, MessageStatus.UNKNOWN.value)
_UNSEEN = object()


def _literal(status: MessageStatus) -> Any:
    # Statuses are written into the statements as literals: an IN list of parameters expands
    # them, which executemany (one statement, many rows) cannot do.
    return literal_column(f"'{status.value}'")


def _one_of(column: Any, statuses: Collection[MessageStatus]) -> ColumnElement[bool]:
    """``column`` is one of ``statuses``, and never when there are none. Written as equalities
    joined by OR, not as IN: for an IN list SQLite fills a temporary index each time the
    statement runs (OpenEphemeral under Once), and in an executemany that is every row, about
    1.5 µs of the 3.5 µs a row's status UPDATE takes otherwise; a few comparisons cost next
    to nothing."""
    if not statuses:
        return false()
    return or_(*(column == _literal(status) for status in sorted(statuses)))


class _StatusChanges:
    """A batch UPDATE of statuses as one statement per target status, each of which sets that
    status and changes only a row whose current status the lifecycle table lets go there
    (``build(target)`` makes it; ``b_status`` of each row chooses it). A change the table does
    not have is refused by the statement itself; one to a status with no way in (``accepted``)
    by a statement whose WHERE is false.

    One statement per target keeps each row's test to a few comparisons (a CASE over every
    status, in the statement's single form, was evaluated for every row), and a batch seldom
    has more than two or three targets. Rows are applied in their order wherever it matters:
    a row that changes the same message (or part, ``key``) as an earlier one goes in a later
    round, as a call's part may go ringing, then answered, in one batch.
    """

    def __init__(
        self,
        build: Callable[[MessageStatus], Executable],
        key: Callable[[Mapping[str, Any]], Hashable],
    ) -> None:
        self._statements = {target.value: BulkStatement(build(target)) for target in MessageStatus}
        self._key = key

    async def run(self, connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        key = self._key
        pending = rows
        while pending:
            seen: set[Hashable] = set()
            later: list[Mapping[str, Any]] = []
            by_target: dict[str, list[Mapping[str, Any]]] = {}
            for row in pending:
                row_key = key(row)
                if row_key in seen:
                    later.append(row)
                    continue
                seen.add(row_key)
                by_target.setdefault(row["b_status"], []).append(row)
            for target, group in by_target.items():
                statement = self._statements.get(target)
                if statement is None:
                    raise ValueError(f"not a message status: {target!r}")
                await statement.run(connection, group)
            pending = later


# The values the dispatcher handles per message are named tuples: immutable like frozen
# dataclasses, built several times faster (a frozen dataclass sets each field through
# object.__setattr__), and a few of them are built for every message sent.
class ClaimedMessage(NamedTuple):
    id: str
    account_id: str
    sender: str
    recipient: str
    body: str
    parts_count: int
    max_parts: int
    route_id: int | None
    dlr_url: str | None
    attempts: int
    channel: str
    subject: str | None
    content: str | None  # the JSON of the channel's core.content model
    created_at: datetime  # last: the claim converts it apart (see claim_due)


class PartOwner(NamedTuple):
    """The part an SMSC message id belongs to, with what a status change needs to know."""

    smsc_message_id: str
    message_id: str
    seq: int
    parts_count: int
    account_id: str
    recipient: str
    dlr_url: str | None
    # The part's status when it was looked up: a receipt for a part that already has its final
    # status (an SMSC sending a receipt twice) changes nothing and must say nothing.
    status: str = MessageStatus.SENT.value

    def with_status(self, status: str) -> PartOwner:
        """The same part with another status (once per receipt; cheaper than ``_replace``)."""
        return PartOwner(
            self.smsc_message_id,
            self.message_id,
            self.seq,
            self.parts_count,
            self.account_id,
            self.recipient,
            self.dlr_url,
            status,
        )


async def any_due(connection: AsyncConnection, *, status: MessageStatus, now: datetime) -> bool:
    """Whether any message in ``status`` (queued or scheduled) has its time come: a read, so
    an idle dispatcher polls without taking the write lock (one probe of the index on
    ``(status, next_attempt_at)``)."""
    result = await connection.execute(
        select(messages.c.id)
        .where(messages.c.status == status.value, messages.c.next_attempt_at <= now)
        .limit(1)
    )
    return result.first() is not None


async def promote_scheduled(connection: AsyncConnection, *, now: datetime) -> list[str]:
    """scheduled → queued for every message whose send_at has come."""
    result = await connection.execute(
        update(messages)
        # next_attempt_at is send_at for a scheduled message, and is what the index covers.
        .where(
            messages.c.status == MessageStatus.SCHEDULED.value, messages.c.next_attempt_at <= now
        )
        .values(status=MessageStatus.QUEUED.value, status_at=now, updated_at=now)
        .returning(messages.c.id)
    )
    ids = [row[0] for row in result]
    if ids:
        await insert_many(
            connection,
            message_events,
            [
                {"message_id": i, "status": MessageStatus.QUEUED.value, "at": now, "detail": "due"}
                for i in ids
            ],
        )
    return ids


def _claim_statement(*, skip_locked: bool) -> BulkStatement:
    due = (
        select(messages.c.id)
        .where(
            messages.c.status == MessageStatus.QUEUED.value,
            messages.c.next_attempt_at <= bindparam("b_now"),
        )
        .order_by(messages.c.next_attempt_at)
        .limit(bindparam("b_limit", type_=Integer()))
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return BulkStatement(
        update(messages)
        .where(messages.c.id.in_(due.scalar_subquery()))
        .values(
            status=MessageStatus.SUBMITTING.value,
            status_at=bindparam("b_now"),
            claimed_by=bindparam("b_dispatcher_id"),
            claim_expires_at=bindparam("b_lease_until"),
            attempts=messages.c.attempts + 1,
            updated_at=bindparam("b_now"),
        )
        .returning(*(messages.c[name] for name in _CLAIMED_COLUMNS))
    )


_CLAIMED_COLUMNS = (
    "id",
    "account_id",
    "sender",
    "recipient",
    "body",
    "parts_count",
    "max_parts",
    "route_id",
    "dlr_url",
    "attempts",
    "channel",
    "subject",
    "content",
    "created_at",
)
_CLAIM = _claim_statement(skip_locked=False)
# PostgreSQL: rows another dispatcher is claiming are skipped, not waited for.
_CLAIM_SKIP_LOCKED = _claim_statement(skip_locked=True)


async def claim_due(
    connection: AsyncConnection,
    *,
    dispatcher_id: str,
    limit: int,
    now: datetime,
    lease_until: datetime,
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` queued messages whose time has come, oldest due first.

    The rows come back as the driver gives them and are turned into values after the claim,
    which on SQLite means after the caller's transaction let go of the single write lock.
    """
    dialect = connection.dialect
    statement = _CLAIM_SKIP_LOCKED if dialect.name == "postgresql" else _CLAIM
    rows = await statement.fetch(
        connection,
        {
            "b_now": now,
            "b_limit": limit,
            "b_dispatcher_id": dispatcher_id,
            "b_lease_until": lease_until,
        },
    )
    to_datetime = messages.c.created_at.type.dialect_impl(dialect).result_processor(dialect, None)
    if to_datetime is not None:
        # Messages accepted together share their created_at: each distinct value is
        # converted once.
        created: dict[Any, Any] = {}
        converted = []
        for row in rows:
            raw = row[-1]
            value = created.get(raw, _UNSEEN)
            if value is _UNSEEN:
                value = created[raw] = to_datetime(raw)
            converted.append((*row[:-1], value))
        rows = converted
    claimed = [ClaimedMessage(*row) for row in rows]
    claimed.sort(key=lambda m: m.id)
    return claimed


# A call is held in the memory of the process that placed it.
async def references_awaiting_report(
    connection: AsyncConnection, *, prefix: str, limit: int = 10_000
) -> list[str]:
    """The references starting with ``prefix`` of parts still ``sent`` or ``unknown``: what a
    carrier took and has not reported on, for a transport that asks its carrier itself (an
    IPP printer's jobs) to ask again after its process restarted."""
    query = (
        select(message_parts.c.smsc_message_id)
        .where(
            message_parts.c.smsc_message_id.startswith(prefix, autoescape=True),
            message_parts.c.status.in_((MessageStatus.SENT.value, MessageStatus.UNKNOWN.value)),
        )
        .limit(limit)
    )
    return [row[0] for row in await connection.execute(query)]


CALLS_UNDER_WAY = (
    MessageStatus.CALLING.value,
    MessageStatus.RINGING.value,
    MessageStatus.ANSWERED.value,
)


async def renew_claims(
    connection: AsyncConnection,
    *,
    dispatcher_id: str,
    lease_until: datetime,
    held: Collection[str] = (),
) -> int:
    """Extend the lease on everything this dispatcher is still submitting, and take one on the
    calls under way it holds (``held``: their messages' ids)."""
    result = await connection.execute(
        update(messages)
        .where(
            messages.c.claimed_by == dispatcher_id,
            messages.c.status == MessageStatus.SUBMITTING.value,
        )
        .values(claim_expires_at=lease_until)
    )
    renewed = result.rowcount
    held = list(held)
    for start in range(0, len(held), 500):
        result = await connection.execute(
            update(messages)
            .where(
                messages.c.id.in_(held[start : start + 500]),
                messages.c.status.in_(CALLS_UNDER_WAY),
            )
            .values(claimed_by=dispatcher_id, claim_expires_at=lease_until)
        )
        renewed += result.rowcount
    return renewed


async def release_interrupted_claims(
    connection: AsyncConnection, *, now: datetime, expired_only: bool
) -> list[str]:
    """The crash rule: a message left in ``submitting`` goes back to ``queued``.

    Its dispatcher stopped between claiming it and recording the SMSC's answer, so whether the
    SMSC took the unrecorded parts is unknown. Losing a message is worse than sending a part
    twice, so they are submitted again (parts already recorded as sent are not), and the history
    says so. With ``expired_only`` only claims whose lease ran out are released (several
    dispatchers share the database); otherwise every claim is (the only dispatcher restarted).
    """
    condition = messages.c.status == MessageStatus.SUBMITTING.value
    if expired_only:
        condition = and_(condition, messages.c.claim_expires_at < now)
    result = await connection.execute(
        update(messages)
        .where(condition)
        .values(
            status=MessageStatus.QUEUED.value,
            status_at=now,
            claimed_by=None,
            claim_expires_at=None,
            next_attempt_at=now,
            updated_at=now,
        )
        .returning(messages.c.id)
    )
    ids = [row[0] for row in result]
    if ids:
        await insert_many(
            connection,
            message_events,
            [
                {
                    "message_id": i,
                    "status": MessageStatus.QUEUED.value,
                    "at": now,
                    "detail": "dispatcher stopped while submitting; resubmitting unconfirmed parts",
                }
                for i in ids
            ],
        )
    return ids


async def sent_parts_of(
    connection: AsyncConnection, message_ids: Sequence[str]
) -> dict[str, set[int]]:
    """For messages being retried: the parts the SMSC already accepted."""
    if not message_ids:
        return {}
    result = await connection.execute(
        select(message_parts.c.message_id, message_parts.c.seq).where(
            message_parts.c.message_id.in_(message_ids),
            message_parts.c.smsc_message_id.is_not(None),
        )
    )
    found: dict[str, set[int]] = {}
    for message_id, seq in result:
        found.setdefault(message_id, set()).add(seq)
    return found


# The rows the status writer hands over, one TypedDict per shape (plain dicts at run time: the
# driver reads them by key). Update rows name their values ``b_*``, the statements' parameters.
class PartRow(TypedDict):
    """A part the far end took (``message_parts``)."""

    message_id: str
    seq: int
    status: str
    smsc_message_id: str
    error_code: str | None
    submitted_at: datetime
    done_at: datetime | None


class SubmitUpdate(TypedDict):
    """What a submit outcome makes of its message (see :func:`update_messages_after_submit`)."""

    b_id: str
    b_status: str
    b_at: datetime
    b_claimed_by: None
    b_claim_expires_at: None
    b_next_attempt_at: datetime | None
    b_error_code: str | None
    b_error_detail: str | None


class StatusUpdate(TypedDict):
    """A message's new status from a report (see :func:`update_message_statuses`)."""

    b_id: str
    b_status: str
    b_at: datetime
    b_error_code: str | None
    b_error_detail: str | None


class PartStatusUpdate(TypedDict):
    """A part's new status from a report (see :func:`update_part_statuses`)."""

    b_message_id: str
    b_seq: int
    b_status: str
    b_error_code: str | None
    b_at: datetime


class ResultUpdate(TypedDict):
    """What the far end told besides the status (``messages.result``, JSON)."""

    b_id: str
    b_result: str | None


class InboundMessageRow(TypedDict):
    """A message that arrived (``messages``, direction ``in``): stored in its only state, with
    nothing to send, claim or retry."""

    id: str
    account_id: str
    direction: str
    sender: str
    recipient: str
    body: str
    encoding: str
    parts_count: int
    status: str
    status_at: datetime
    send_at: None
    next_attempt_at: None
    attempts: int
    claimed_by: None
    claim_expires_at: None
    route_id: int | None
    customer_data: None
    dlr_url: None
    request_id: None
    error_code: None
    error_detail: str | None
    max_parts: int
    ad: bool
    created_at: datetime
    updated_at: datetime
    channel: str
    subject: str | None
    content: str | None


class ParkedReceiptRow(TypedDict):
    """A report whose part is not known yet (``parked_receipts``)."""

    id: str
    smsc_message_id: str
    state: str
    status: str | None
    error_code: str | None
    at: datetime
    parked_at: datetime


# The inserts go through insert_many: on SQLite one round trip to the driver's thread (a
# BulkStatement takes three: cursor, executemany, close), on PostgreSQL a COPY when large.
async def insert_parts(connection: AsyncConnection, rows: Sequence[PartRow]) -> None:
    await insert_many(connection, message_parts, rows)


async def insert_events(connection: AsyncConnection, rows: Sequence[EventRow]) -> None:
    await insert_many(connection, message_events, rows)


# A submit outcome is for a message its dispatcher claimed: one still ``submitting`` (the crash
# rule may have put it back in the queue meanwhile, and a final status is never changed), and
# it is one of SUBMIT_RESULTS.
_UPDATE_MESSAGE = _StatusChanges(
    lambda target: (
        update(messages)
        .where(
            messages.c.id == bindparam("b_id"),
            _one_of(
                messages.c.status, {MessageStatus.SUBMITTING} if target in SUBMIT_RESULTS else ()
            ),
        )
        .values(
            status=_literal(target),
            status_at=bindparam("b_at"),
            updated_at=bindparam("b_at"),
            claimed_by=bindparam("b_claimed_by"),
            claim_expires_at=bindparam("b_claim_expires_at"),
            next_attempt_at=bindparam("b_next_attempt_at"),
            error_code=bindparam("b_error_code"),
            error_detail=bindparam("b_error_detail"),
        )
    ),
    key=itemgetter("b_id"),
)

_UPDATE_STATUS_ONLY = _StatusChanges(
    lambda target: (
        update(messages)
        .where(
            messages.c.id == bindparam("b_id"),
            _one_of(messages.c.status, PREDECESSORS[target]),
        )
        .values(
            status=_literal(target),
            status_at=bindparam("b_at"),
            updated_at=bindparam("b_at"),
            error_code=bindparam("b_error_code"),
            error_detail=bindparam("b_error_detail"),
        )
    ),
    key=itemgetter("b_id"),
)

_UPDATE_PART = _StatusChanges(
    lambda target: (
        update(message_parts)
        .where(
            message_parts.c.message_id == bindparam("b_message_id"),
            message_parts.c.seq == bindparam("b_seq"),
            _one_of(message_parts.c.status, PREDECESSORS[target]),
        )
        .values(
            status=_literal(target),
            error_code=bindparam("b_error_code"),
            done_at=bindparam("b_at"),
        )
    ),
    key=itemgetter("b_message_id", "b_seq"),
)


async def update_messages_after_submit(
    connection: AsyncConnection, rows: Sequence[SubmitUpdate]
) -> None:
    """Only a message still ``submitting`` changes, and only to one
    of ``SUBMIT_RESULTS``."""
    await _UPDATE_MESSAGE.run(connection, rows)


async def update_message_statuses(
    connection: AsyncConnection, rows: Sequence[StatusUpdate]
) -> None:
    """A message changes only as the lifecycle table allows."""
    await _UPDATE_STATUS_ONLY.run(connection, rows)


async def update_part_statuses(
    connection: AsyncConnection, rows: Sequence[PartStatusUpdate]
) -> None:
    """A part changes only as the lifecycle table allows."""
    await _UPDATE_PART.run(connection, rows)


async def find_part_owners(
    connection: AsyncConnection, smsc_message_ids: Iterable[str], *, awaiting_receipt: bool = False
) -> dict[str, PartOwner]:
    """Receipt correlation through the smsc_message_id index (with ``awaiting_receipt``, only
    parts that have no final status yet)."""
    wanted = list(set(smsc_message_ids))
    found: dict[str, PartOwner] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = (
            select(
                message_parts.c.smsc_message_id,
                message_parts.c.message_id,
                message_parts.c.seq,
                messages.c.parts_count,
                messages.c.account_id,
                messages.c.recipient,
                messages.c.dlr_url,
                message_parts.c.status,
            )
            .join(messages, messages.c.id == message_parts.c.message_id)
            .where(message_parts.c.smsc_message_id.in_(chunk))
        )
        if awaiting_receipt:
            query = query.where(message_parts.c.status.in_(_AWAITING_RECEIPT))
        result = await connection.execute(query)
        for row in result:
            found[row[0]] = PartOwner(*row)
    return found


async def part_statuses_of(
    connection: AsyncConnection, message_ids: Sequence[str]
) -> dict[str, dict[int, str]]:
    if not message_ids:
        return {}
    result = await connection.execute(
        select(message_parts.c.message_id, message_parts.c.seq, message_parts.c.status).where(
            message_parts.c.message_id.in_(list(message_ids))
        )
    )
    found: dict[str, dict[int, str]] = {}
    for message_id, seq, status in result:
        found.setdefault(message_id, {})[seq] = status
    return found


async def message_statuses_of(
    connection: AsyncConnection, message_ids: Sequence[str]
) -> dict[str, str]:
    if not message_ids:
        return {}
    result = await connection.execute(
        select(messages.c.id, messages.c.status).where(messages.c.id.in_(list(message_ids)))
    )
    return {row[0]: row[1] for row in result}


async def insert_inbound_messages(
    connection: AsyncConnection, rows: Sequence[InboundMessageRow]
) -> None:
    await insert_many(connection, messages, rows)


async def known_inbound_references(
    connection: AsyncConnection, pairs: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (account id, carrier's reference) pairs name an inbound message already stored."""
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    table = inbound_references
    result = await connection.execute(
        select(table.c.account_id, table.c.reference).where(
            table.c.reference.in_([reference for _, reference in wanted])
        )
    )
    return {(row[0], row[1]) for row in result} & set(wanted)


async def insert_inbound_references(
    connection: AsyncConnection, rows: Sequence[dict[str, Any]]
) -> None:
    """Keep the carriers' references of inbound messages stored in this transaction."""
    if rows:
        await insert_many(connection, inbound_references, rows)


async def inbound_reference_known(connection: AsyncConnection, reference: str) -> bool:
    """Whether any account has stored the inbound message with this carrier's reference."""
    found = await connection.execute(
        select(inbound_references.c.account_id)
        .where(inbound_references.c.reference == reference)
        .limit(1)
    )
    return found.first() is not None


async def delete_old_inbound_references(
    connection: AsyncConnection, *, received_before: datetime, limit: int
) -> int:
    """Forget up to ``limit`` references of inbound messages received before
    ``received_before``, oldest first; return how many."""
    table = inbound_references
    oldest = (
        select(table.c.reference, table.c.account_id)
        .where(table.c.received_at < received_before)
        .order_by(table.c.received_at)
        .limit(limit)
    )
    result = await connection.execute(
        delete(table).where(tuple_(table.c.reference, table.c.account_id).in_(oldest))
    )
    return result.rowcount


@dataclass(frozen=True, slots=True)
class ParkedReceiptRecord:
    id: str
    smsc_message_id: str
    state: str
    status: str | None
    error_code: str | None
    at: datetime
    parked_at: datetime


async def park_receipts(connection: AsyncConnection, rows: Sequence[ParkedReceiptRow]) -> None:
    """Keep receipts that match no part yet, in the transaction that acknowledges them."""
    await insert_many(connection, parked_receipts, rows)


async def unpark_receipts(connection: AsyncConnection, parked_ids: Collection[str]) -> set[str]:
    """Take receipts off the parking list; returns the ids this transaction removed.

    A receipt is applied only by the transaction that removed it, so two dispatchers that
    both retry it (PostgreSQL) never apply it twice.
    """
    if not parked_ids:
        return set()
    result = await connection.execute(
        delete(parked_receipts)
        .where(parked_receipts.c.id.in_(list(parked_ids)))
        .returning(parked_receipts.c.id)
    )
    return set(result.scalars().all())


async def list_parked_receipts(connection: AsyncConnection) -> list[ParkedReceiptRecord]:
    result = await connection.execute(select(parked_receipts).order_by(parked_receipts.c.id))
    return [ParkedReceiptRecord(*row) for row in result]


async def parts_without_receipt(
    connection: AsyncConnection, *, submitted_before: datetime, limit: int = 1000
) -> list[str]:
    """The carrier references of parts still ``sent`` though submitted before the given time:
    their receipt should have come by then (the validity period plus a grace). Read from the
    messages that are ``sent`` (the status index), so it costs what is awaiting receipts."""
    query = (
        select(message_parts.c.smsc_message_id)
        .select_from(messages)
        .join(message_parts, message_parts.c.message_id == messages.c.id)
        .where(
            messages.c.status == MessageStatus.SENT.value,
            message_parts.c.status == MessageStatus.SENT.value,
            message_parts.c.submitted_at < submitted_before,
            message_parts.c.smsc_message_id.is_not(None),
        )
        .limit(limit)
    )
    return [row[0] for row in await connection.execute(query)]


async def unfinished_calls(
    connection: AsyncConnection,
    *,
    now: datetime,
    started_before: datetime | None,
    limit: int = 1000,
) -> list[str]:
    """The Call-IDs of calls still ``calling``, ``ringing`` or ``answered`` that no live process
    holds: their lease ran out, or their INVITE went out before ``started_before`` (None: every
    unfinished call). A call lives in its dispatcher's memory only: once that process is gone,
    nothing will ever report its end."""
    query = (
        select(message_parts.c.smsc_message_id)
        .select_from(messages)
        .join(message_parts, message_parts.c.message_id == messages.c.id)
        .where(
            messages.c.status.in_(CALLS_UNDER_WAY),
            message_parts.c.smsc_message_id.is_not(None),
        )
        .limit(limit)
    )
    if started_before is not None:
        query = query.where(
            or_(
                messages.c.claim_expires_at < now,
                message_parts.c.submitted_at < started_before,
            )
        )
    return [row[0] for row in await connection.execute(query)]


_RECORD_RESULT = BulkStatement(
    update(messages).where(messages.c.id == bindparam("b_id")).values(result=bindparam("b_result"))
)


async def record_message_results(connection: AsyncConnection, rows: Sequence[ResultUpdate]) -> None:
    """What the far end told besides the status (``messages.result``): the JSON of the
    channel's result model."""
    if rows:
        await _RECORD_RESULT.run(connection, rows)
