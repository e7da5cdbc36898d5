"""Accepting, previewing, reading and cancelling messages.

Accepting is the hot path: every recipient is validated and planned in memory, then all the
messages and their first history entries are written with two executemany statements in one
transaction, together with the idempotency record when the request carries a key.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from tidings.core import optout
from tidings.core.accounts import utcnow
from tidings.core.channels import DOCUMENT_CHANNELS, POSTAL_CHANNELS, Channel
from tidings.core.content import dump_content
from tidings.core.routing import route_for_sender
from tidings.core.sends import REASON_OF as REASON_OF
from tidings.core.sends import InvalidTargetReason as InvalidTargetReason
from tidings.core.sends import PreparedSend as PreparedSend
from tidings.core.sends import RecipientError as RecipientError
from tidings.core.sends import RecipientResult as RecipientResult
from tidings.core.sends import RecipientsRefused as RecipientsRefused
from tidings.core.sends import SendRequest as SendRequest
from tidings.core.sends import SendResult as SendResult
from tidings.core.voice import units_of
from tidings.errors import InvalidRequest, NotCancellable, NotFound, TidingsError
from tidings.events.outbox import Event, enqueue_events
from tidings.lifecycle import MessageStatus
from tidings.phone import InvalidNumber, InvalidSender, normalize_number, parse_sender
from tidings.store import messages as message_store
from tidings.store.engine import Database
from tidings.store.ids import new_ids
from tidings.store.messages import EventRow, OutboundMessageRow
from tidings.store.records import (
    AccountRecord,
    MessageEventRecord,
    MessagePartRecord,
    MessageRecord,
)
from tidings.text.errors import TextError
from tidings.text.segments import SegmentPlan, plan_text

MAX_CUSTOMER_DATA = 255
MAX_PARTS_LIMIT = 255
MAX_IDEMPOTENCY_KEY = 200
# SmartDialog's RequestId has up to 1,000 characters, the longest request id an API takes.
MAX_REQUEST_ID = 1_000
# The width of idempotency.key, the column a replay key is kept in: a longer key is kept as its
# digest, so it neither fails the batch's insert nor is cut short. A message keeps its request
# id whole (messages.request_id is MAX_REQUEST_ID wide).
_IDEMPOTENCY_KEY_WIDTH = 255
# {name}, or {name|default}: the default fills it when the recipient has no value (or an empty
# one) for it.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^{}|]*))?\}")


@dataclass(frozen=True, slots=True)
class Preview:
    recipients: list[RecipientResult]
    parts: int
    price: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class MessageDetail:
    message: MessageRecord
    history: list[MessageEventRecord]
    parts: list[MessagePartRecord] = field(default_factory=list)


class _WholeEncoding(enum.StrEnum):
    UTF8 = "utf8"


@dataclass(frozen=True, slots=True)
class _Whole:
    """The plan of a body that is not cut into SMS segments (channels other than SMS)."""

    parts: int = 1
    encoding: _WholeEncoding = _WholeEncoding.UTF8


_WHOLE = _Whole()


@dataclass(slots=True)
class _Planned:
    """One recipient after validation: either an error or what to store."""

    to: str
    address: str | None = None
    body: str | None = None
    plan: SegmentPlan | _Whole | None = None
    error: str | None = None
    error_detail: str | None = None
    placeholders: list[str] | None = None


def has_placeholders(body: str) -> bool:
    return _PLACEHOLDER.search(body) is not None


def _fill_placeholders(body: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """``body`` with its placeholders filled, and the names of those that have no value and no
    default (the body is then not to be sent: it would go out with braces in it)."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = values.get(name)
        if default is not None and not value:
            return default
        if value is None:
            if name not in missing:
                missing.append(name)
            return match.group(0)
        return str(value)

    return _PLACEHOLDER.sub(replace, body), missing


def require_text(body: str) -> None:
    """A body that shows nothing on a handset (empty, or spaces and line breaks only) is
    refused: it would be paid for and read as a fault."""
    if not body.strip():
        raise InvalidRequest("the body is empty or only whitespace", field="body")


def _validate_request(request: SendRequest, *, max_recipients: int) -> None:
    if not request.to:
        raise InvalidRequest("give at least one recipient", field="to")
    if len(request.to) > max_recipients:
        raise InvalidRequest(f"at most {max_recipients} recipients per request", field="to")
    if request.channel not in DOCUMENT_CHANNELS:  # a fax or a letter may be its document
        require_text(request.body)
    if request.customer_data is not None and len(request.customer_data) > MAX_CUSTOMER_DATA:
        raise InvalidRequest(
            f"customer_data has at most {MAX_CUSTOMER_DATA} characters", field="customer_data"
        )
    if request.max_parts is not None and not 1 <= request.max_parts <= MAX_PARTS_LIMIT:
        raise InvalidRequest(f"max_parts is 1 to {MAX_PARTS_LIMIT}", field="max_parts")
    if request.send_at is not None and request.send_at.tzinfo is None:
        raise InvalidRequest("send_at needs a time zone", field="send_at")
    for name, key, longest in (
        ("request_id", request.request_id, MAX_REQUEST_ID),
        ("Idempotency-Key", request.idempotency_key, MAX_IDEMPOTENCY_KEY),
    ):
        if key is not None and not 1 <= len(key) <= longest:
            raise InvalidRequest(f"{name} has 1 to {longest} characters", field=name)


def _fitted(value: str, width: int) -> str:
    """``value``, or its SHA-256 digest when it is wider than the column it is kept in."""
    if len(value) <= width:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


# Bodies up to this length have their plans remembered across requests (a few kB each).
_PLANS_REMEMBERED_UP_TO = 1_600


def _plan(body: str, max_parts: int) -> SegmentPlan | TextError:
    """The plan of ``body``, or why it cannot be sent; remembered for short bodies, which
    recur across requests (codes, notices, one campaign's text)."""
    if len(body) <= _PLANS_REMEMBERED_UP_TO:
        return _remembered_plan(body, max_parts)
    return _plan_once(body, max_parts)


def _plan_once(body: str, max_parts: int) -> SegmentPlan | TextError:
    try:
        return plan_text(body, max_parts=max_parts)
    except TextError as error:
        # Kept, not raised: no traceback (and the frames it holds) stays in the cache.
        return error.with_traceback(None)


# plan_text is a pure function and a SegmentPlan is immutable: a cache shared by all requests.
_remembered_plan = functools.lru_cache(maxsize=1024)(_plan_once)


def _plan_recipients(
    account: AccountRecord, request: SendRequest, *, max_parts: int
) -> list[_Planned]:
    personalization = request.personalization or {}
    placeholders = has_placeholders(request.body)
    plans: dict[str, SegmentPlan | TextError] = {}
    seen: set[str] = set()
    planned: list[_Planned] = []
    whole = request.channel is not Channel.SMS
    # A letter's recipient is a label (its address is in the content): taken as it is, and
    # two letters to the same name are two letters.
    postal = request.channel in POSTAL_CHANNELS

    def plan_for(body: str) -> SegmentPlan | _Whole | TextError:
        if whole:
            return _WHOLE
        cached = plans.get(body)
        if cached is None:
            cached = plans[body] = _plan(body, max_parts)
        return cached

    refused = request.refused
    for raw in request.to:
        entry = _Planned(to=raw)
        planned.append(entry)
        if refused and raw in refused:
            entry.error, entry.error_detail = refused[raw]
            continue
        try:
            address = (
                raw
                if postal or raw in request.normalized
                else normalize_number(raw, account.region)
            )
        except InvalidNumber as error:
            entry.error, entry.error_detail = RecipientError.INVALID_NUMBER, error.message
            continue
        if address in seen and not postal:
            entry.error = RecipientError.DUPLICATE
            entry.error_detail = f"{address} appears earlier in this request"
            continue
        seen.add(address)
        entry.address = address
        body = request.body
        if placeholders:
            values = personalization.get(raw, personalization.get(address)) or {}
            body, missing = _fill_placeholders(body, values)
            if missing:
                entry.error = RecipientError.MISSING_PLACEHOLDER
                entry.placeholders = missing
                names = ", ".join(f"{{{name}}}" for name in missing)
                entry.error_detail = (
                    f"no value for {names}: give it in personalization, as a field of the "
                    "recipient's contact, or as a default ({name|default})"
                )
                continue
        plan = plan_for(body)
        if isinstance(plan, TextError):
            entry.error, entry.error_detail = RecipientError.INVALID_TEXT, plan.message
            continue
        entry.body, entry.plan = body, plan
    return planned


def idempotency_key(request: SendRequest) -> str | None:
    """The key replays are looked up by: the header wins over the body's request_id."""
    if request.idempotency_key is not None:
        return f"header:{request.idempotency_key}"
    if request.request_id is not None and request.replay_by_request_id:
        prefix = "request_id:"
        return prefix + _fitted(request.request_id, _IDEMPOTENCY_KEY_WIDTH - len(prefix))
    return None


async def find_replay(
    database: Database, account: AccountRecord, key: str | None, *, not_before: datetime
) -> SendResult | None:
    """The first answer to a request with this idempotency key, if it is within the window."""
    if key is None:
        return None
    async with database.read() as connection:
        earlier = await message_store.find_idempotent_response(
            connection, account.id, key, not_before=not_before
        )
    return None if earlier is None else SendResult.from_json(earlier)


def prepare_send(
    account: AccountRecord,
    request: SendRequest,
    *,
    max_recipients: int = 10_000,
    default_max_parts: int = 10,
    idempotency_window: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> PreparedSend:
    """Validate and plan every recipient, and build the rows to insert; no database work."""
    now = utcnow() if now is None else now
    _validate_request(request, max_recipients=max_recipients)
    try:
        sender = parse_sender(request.sender, account.region)
    except InvalidSender as error:
        raise InvalidRequest(error.message, field="from") from None
    max_parts = request.max_parts or default_max_parts
    planned = _plan_recipients(account, request, max_parts=max_parts)
    scheduled = request.send_at is not None and request.send_at > now
    status = MessageStatus.SCHEDULED if scheduled else MessageStatus.QUEUED
    send_at = request.send_at if scheduled else None
    next_attempt_at = send_at or now
    good = [entry for entry in planned if entry.plan is not None]
    channel = request.channel.value
    content = dump_content(request.content)
    contents = request.contents
    ids = iter(new_ids(len(good), now_ms=int(now.timestamp() * 1000)))
    results: list[RecipientResult] = []
    message_rows: list[OutboundMessageRow] = []
    event_rows: list[EventRow] = []
    for index, entry in enumerate(planned):
        if entry.plan is None:
            results.append(
                RecipientResult(
                    to=entry.to,
                    error=entry.error,
                    error_detail=entry.error_detail,
                    reason=REASON_OF.get(entry.error or ""),
                    placeholders=entry.placeholders,
                )
            )
            continue
        address, body = entry.address, entry.body
        assert address is not None and body is not None  # set on every planned entry
        message_id = next(ids)
        message_rows.append(
            {
                "id": message_id,
                "account_id": account.id,
                "direction": "out",
                "sender": sender.address,
                "recipient": address,
                "body": body,
                "encoding": entry.plan.encoding.value,
                "parts_count": entry.plan.parts,
                "status": status.value,
                "status_at": now,
                "send_at": send_at,
                "next_attempt_at": next_attempt_at,
                "attempts": 0,
                "claimed_by": None,
                "claim_expires_at": None,
                "route_id": None,
                "customer_data": request.customer_data,
                "dlr_url": request.dlr_url,
                "request_id": request.request_id,
                "error_code": None,
                "error_detail": None,
                "max_parts": max_parts,
                "ad": request.ad,
                "campaign_id": None,
                "created_at": now,
                "updated_at": now,
                "channel": channel,
                "subject": request.subject,
                "content": content if contents is None else dump_content(contents[index]),
            }
        )
        # accepted → queued|scheduled happens at once; one history row records both.
        event_rows.append(
            {"message_id": message_id, "status": status.value, "at": now, "detail": "accepted"}
        )
        results.append(
            RecipientResult(
                to=entry.to,
                id=message_id,
                address=entry.address,
                status=status.value,
                encoding=entry.plan.encoding.value,
                parts=entry.plan.parts,
            )
        )
    return PreparedSend(
        account=account,
        key=idempotency_key(request),
        not_before=now - idempotency_window,
        now=now,
        sender_address=sender.address,
        message_rows=message_rows,
        event_rows=event_rows,
        result=SendResult(
            recipients=results,
            accepted=len(message_rows),
            rejected=len(planned) - len(message_rows),
        ),
        force_opt_in=request.force_opt_in,
        request_id=request.request_id,
        all_or_nothing=request.all_or_nothing,
        channel=channel,
    )


async def store_sends(
    database: Database, batch: Sequence[PreparedSend], *, together: bool = False
) -> list[SendResult | TidingsError]:
    """Write several prepared sends in ONE transaction (group commit); one outcome per send.

    A send whose idempotency key was already used answers with the first result and writes
    nothing; a send refused by a rule (unregistered sender) gets its error; the others are
    screened together (one registry query per account) and written with two executemany
    statements for all of them together, except an ``all_or_nothing`` send with a refused
    recipient, which writes nothing and gets :class:`RecipientsRefused`.
    ``together`` makes the sends one request (a push over several channels and schedules):
    when any of them is refused, none is written, and each answers with that refusal.
    Raises IntegrityError when another process committed one of the keys first; callers retry
    the sends one by one (see :func:`accept_messages`).
    """
    # Per send: its stored answer (a replay), its error, or the send itself (written below).
    outcomes: list[SendResult | TidingsError | PreparedSend] = []
    admitted: list[PreparedSend] = []
    route_ids: list[int | None] = []
    first_with_key: dict[tuple[str, str], PreparedSend] = {}
    routes: dict[tuple[str, str, str], int | None] = {}
    async with database.write() as connection:
        for prepared in batch:
            account = prepared.account
            key = prepared.key
            if key is not None:
                earlier_in_batch = first_with_key.get((account.id, key))
                if earlier_in_batch is not None:
                    # Answered once it is screened, like the send it repeats.
                    outcomes.append(earlier_in_batch)
                    continue
                earlier = await message_store.find_idempotent_response(
                    connection, account.id, key, not_before=prepared.not_before
                )
                if earlier is not None:
                    outcomes.append(SendResult.from_json(earlier))
                    continue
            route_key = (account.id, prepared.sender_address, prepared.channel)
            try:
                if route_key not in routes:
                    routes[route_key] = await route_for_sender(
                        connection, account, prepared.sender_address, prepared.channel
                    )
            except TidingsError as error:
                outcomes.append(error)
                continue
            route_ids.append(routes[route_key] if prepared.route_id is None else prepared.route_id)
            admitted.append(prepared)
            if key is not None:
                first_with_key[(account.id, key)] = prepared
            outcomes.append(prepared)
        invalid_targets = await optout.screen_sends(connection, admitted)
        # Decided here, after the screening, so a recipient refused a moment ago counts.
        refused_whole: dict[int, RecipientsRefused] = {}
        message_rows: list[OutboundMessageRow] = []
        event_rows: list[EventRow] = []
        events: list[Event] = []
        for prepared, route_id, event in zip(admitted, route_ids, invalid_targets, strict=True):
            if prepared.all_or_nothing and prepared.result.rejected:
                refused_whole[id(prepared)] = RecipientsRefused(
                    [entry for entry in prepared.result.recipients if entry.error is not None]
                )
                continue
            for row in prepared.message_rows:
                row["route_id"] = route_id
            message_rows.extend(prepared.message_rows)
            event_rows.extend(prepared.event_rows)
            if event is not None:
                events.append(event)
        if together:
            refusal = _first_refusal(outcomes, refused_whole)
            if refusal is not None:
                return [refusal for _ in batch]
        await message_store.insert_messages(connection, message_rows, event_rows)
        await enqueue_events(connection, events)
        for prepared in first_with_key.values():
            assert prepared.key is not None
            if id(prepared) in refused_whole:
                # Nothing was stored, so a retry with the key is decided afresh.
                continue
            await message_store.save_idempotent_response(
                connection,
                prepared.account.id,
                prepared.key,
                prepared.result.to_json(),
                at=prepared.now,
                expired_before=prepared.not_before,
            )
    answered: set[int] = set()
    results: list[SendResult | TidingsError] = []
    for outcome in outcomes:
        if isinstance(outcome, PreparedSend):
            refusal = refused_whole.get(id(outcome))
            if refusal is not None:
                # A repeat of its key in this batch is refused with it.
                results.append(refusal)
                continue
            if id(outcome) in answered:
                # A repeat of a key earlier in this batch: the first send's answer, replayed.
                results.append(SendResult.from_json(outcome.result.to_json()))
                continue
            answered.add(id(outcome))
            results.append(outcome.result)
        else:
            results.append(outcome)
    return results


def _first_refusal(
    outcomes: Sequence[SendResult | TidingsError | PreparedSend],
    refused_whole: dict[int, RecipientsRefused],
) -> TidingsError | None:
    """Why sends stored together are all refused: a rule's error, or else every recipient
    refused in any of them."""
    for outcome in outcomes:
        if isinstance(outcome, TidingsError):
            return outcome
    if not refused_whole:
        return None
    return RecipientsRefused([entry for r in refused_whole.values() for entry in r.refused])


async def store_send(database: Database, prepared: PreparedSend) -> SendResult:
    """Write one prepared send; a key committed concurrently elsewhere replays its answer."""
    try:
        [outcome] = await store_sends(database, [prepared])
    except IntegrityError:
        # Another request with the same key committed first (PostgreSQL); answer as it did.
        replay = await find_replay(
            database, prepared.account, prepared.key, not_before=prepared.not_before
        )
        if replay is None:
            raise
        return replay
    if isinstance(outcome, TidingsError):
        raise outcome
    return outcome


async def accept_messages(
    database: Database,
    account: AccountRecord,
    request: SendRequest,
    *,
    max_recipients: int = 10_000,
    default_max_parts: int = 10,
    idempotency_window: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> SendResult:
    """Validate, plan and store the messages of one send request.

    A request whose key (Idempotency-Key header or request_id) was seen within the window
    returns the first answer again and stores nothing.
    """
    now = utcnow() if now is None else now
    replay = await find_replay(
        database, account, idempotency_key(request), not_before=now - idempotency_window
    )
    if replay is not None:
        return replay
    prepared = prepare_send(
        account,
        request,
        max_recipients=max_recipients,
        default_max_parts=default_max_parts,
        idempotency_window=idempotency_window,
        now=now,
    )
    return await store_send(database, prepared)


def plan_body(body: str, *, max_parts: int) -> SegmentPlan:
    """How ``body`` would be sent (encoding, parts): the plan that previews and sends use."""
    plan = _plan(body, max_parts)
    if isinstance(plan, TextError):
        raise InvalidRequest(plan.message, field="body")
    return plan


def preview_messages(
    account: AccountRecord,
    request: SendRequest,
    *,
    price_per_part: Decimal,
    currency: str,
    max_recipients: int = 10_000,
    default_max_parts: int = 10,
) -> Preview:
    """What :func:`accept_messages` would do and what it would cost; nothing is stored.

    ``price_per_part`` is the price of what the channel is billed by: an SMS part, or each 300
    characters of a voice message (``core.voice.units_of``)."""
    _validate_request(request, max_recipients=max_recipients)
    try:
        parse_sender(request.sender, account.region)
    except InvalidSender as error:
        raise InvalidRequest(error.message, field="from") from None
    planned = _plan_recipients(account, request, max_parts=request.max_parts or default_max_parts)
    results: list[RecipientResult] = []
    total_parts = 0
    total_price = Decimal(0)
    by_voice_unit = request.channel is Channel.VOICE
    for entry in planned:
        if entry.plan is None or entry.body is None:
            results.append(
                RecipientResult(
                    to=entry.to,
                    error=entry.error,
                    error_detail=entry.error_detail,
                    placeholders=entry.placeholders,
                )
            )
            continue
        total_parts += entry.plan.parts
        price = price_per_part * (units_of(entry.body) if by_voice_unit else entry.plan.parts)
        total_price += price
        results.append(
            RecipientResult(
                to=entry.to,
                address=entry.address,
                encoding=entry.plan.encoding.value,
                parts=entry.plan.parts,
                price=str(price),
            )
        )
    return Preview(recipients=results, parts=total_parts, price=total_price, currency=currency)


async def screened_preview(
    database: Database, account: AccountRecord, request: SendRequest, preview: Preview
) -> Preview:
    """``preview`` with the recipients its send would refuse when it is screened (opted out
    or blocked, unless ``force_opt_in``; undeliverable) refused as the send refuses them, and
    its parts and price without them: a preview counts what a send would send."""
    sender = parse_sender(request.sender, account.region).address
    phones = [r.address for r in preview.recipients if r.error is None and r.address]
    if not phones:
        return preview
    async with database.read() as connection:
        refusals = await optout.refusals_for(
            connection, account.id, sender, phones, force_opt_in=request.force_opt_in
        )
    if not refusals:
        return preview
    recipients: list[RecipientResult] = []
    parts, price = preview.parts, preview.price
    for result in preview.recipients:
        kind = None if result.address is None else refusals.get(result.address)
        if kind is None or result.error is not None:
            recipients.append(result)
            continue
        parts -= result.parts or 0
        price -= Decimal(result.price or 0)
        code, detail = optout.refusal_of(kind, result.address or result.to)
        recipients.append(
            RecipientResult(
                to=result.to,
                address=result.address,
                error=code,
                error_detail=detail,
                reason=REASON_OF[code],
            )
        )
    return Preview(recipients=recipients, parts=parts, price=price, currency=preview.currency)


async def get_message(
    database: Database, account: AccountRecord | None, message_id: str
) -> MessageDetail:
    """One message with its history and parts; ``account=None`` is operator access (CLI)."""
    async with database.read() as connection:
        message = await message_store.find_message(
            connection, None if account is None else account.id, message_id
        )
        if message is None:
            raise NotFound(f"no message {message_id}")
        history = await message_store.message_history(connection, message_id)
        parts = await message_store.message_parts_of(connection, message_id)
    return MessageDetail(message=message, history=history, parts=parts)


async def list_messages(
    database: Database,
    account: AccountRecord | None,
    *,
    limit: int = 100,
    statuses: Sequence[MessageStatus] = (),
    recipient: str | None = None,
    created_from: datetime | None = None,
    created_until: datetime | None = None,
    cursor: str | None = None,
    region: str | None = None,
    sender: str | None = None,
    number: str | None = None,
    direction: str | None = None,
    campaign_id: str | None = None,
    customer_data: str | None = None,
    channel: Channel | None = None,
) -> tuple[list[MessageRecord], str | None]:
    """A page of messages, newest first, and the cursor for the next page (None at the end).

    ``account=None`` lists every account's messages (operator access, CLI only). ``number``
    is the handset's number in either direction; ``sender`` is a number or a sender id.
    """
    default_region = account.region if account else region
    if recipient is not None:
        try:
            recipient = normalize_number(recipient, default_region)
        except InvalidNumber as error:
            raise InvalidRequest(error.message, field="recipient") from None
    if number is not None:
        try:
            number = normalize_number(number, default_region)
        except InvalidNumber as error:
            raise InvalidRequest(error.message, field="number") from None
    if sender is not None:
        try:
            sender = parse_sender(sender, default_region).address
        except InvalidSender as error:
            raise InvalidRequest(error.message, field="sender") from None
    if direction is not None and direction not in ("in", "out"):
        raise InvalidRequest("direction is in or out", field="direction")
    async with database.read() as connection:
        page = await message_store.list_messages(
            connection,
            None if account is None else account.id,
            limit=limit + 1,
            statuses=[s.value for s in statuses],
            recipient=recipient,
            created_from=created_from,
            created_until=created_until,
            before_id=cursor,
            sender=sender,
            number=number,
            direction=direction,
            campaign_id=campaign_id,
            customer_data=customer_data,
            channel=None if channel is None else channel.value,
        )
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None


async def cancel_message(
    database: Database,
    account: AccountRecord,
    message_id: str,
    *,
    channel: Channel | None = None,
) -> MessageRecord:
    """Cancel a message still waiting to be sent. With ``channel`` (a surface that serves one
    channel, such as ClickSend's SMS paths), a message of another channel is not found."""
    now = utcnow()
    async with database.write() as connection:
        cancelled = await message_store.cancel_message(
            connection,
            account.id,
            message_id,
            at=now,
            channel=None if channel is None else channel.value,
        )
        if cancelled is not None:
            return cancelled
        current = await message_store.find_message(connection, account.id, message_id)
    if current is None or (channel is not None and current.channel != channel):
        raise NotFound(f"no message {message_id}")
    raise NotCancellable(f"message {message_id} is {current.status}; it can no longer be cancelled")
