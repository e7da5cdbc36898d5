"""Opt-out compliance: the registry (account-wide or per sender), the blocklist, the account's
settings, the STOP/START/HELP words, and screening recipients on the send path.

Screening runs inside the transaction that stores a send (see ``messaging.store_sends``), with
one query per account for all the recipients of the sends committed together, so a number that
opted out a moment ago is never sent to by a request accepted after that.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.accounts import utcnow
from tidings.core.sends import REASON_OF, PreparedSend, RecipientError, RecipientResult, SendResult
from tidings.errors import AlreadyExists, InvalidRequest, NotFound
from tidings.events.outbox import Event, iso_timestamp
from tidings.phone import InvalidNumber, InvalidSender, SenderKind, normalize_number, parse_sender
from tidings.store import optout as store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.messages import EventRow, OutboundMessageRow
from tidings.store.optout import ANY_SENDER, BLOCKED, OPTED_OUT, SuppressionRecord
from tidings.store.records import AccountRecord

OPTOUT_RECEIVED = "optout.received"
OPTIN_RECEIVED = "optin.received"
INVALID_TARGETS = "message.invalid_targets"

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
MAX_STOP_WORDS = 50
MAX_WORD = 64
MAX_TEXT = 1_000
PAGE_LIMIT_MAX = 1_000
DEFAULT_STOP_REPLY = (
    "You have been unsubscribed and will receive no more messages. Reply START to resubscribe."
)
# Carriers expect HELP to be answered and START to be confirmed; an account changes either or
# turns it off (null). {account} in any auto-reply is the account's name.
DEFAULT_HELP_TEXT = "{account}: reply STOP to opt out."
DEFAULT_START_REPLY = "{account}: you are subscribed again. Reply STOP to opt out."
# Hard errors in a row (unknown subscriber, barred, ...) after which a number is not sent to.
DEFAULT_HARD_ERROR_LIMIT = 3
MAX_HARD_ERROR_LIMIT = 1_000
UNDELIVERABLE = "undeliverable"
FORCED_DETAIL = "accepted; force_opt_in overrides the number's {reason}"


class Scope(enum.StrEnum):
    ACCOUNT = "account"
    SENDER = "sender"


class Command(enum.Enum):
    STOP = "stop"
    START = "start"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class ComplianceSettings:
    scope: Scope = Scope.ACCOUNT
    stop_words: tuple[str, ...] = ()
    stop_reply: str | None = DEFAULT_STOP_REPLY
    help_text: str | None = DEFAULT_HELP_TEXT
    # A recipient whose contact has this many hard errors in a row is refused (reason 4).
    hard_error_limit: int = DEFAULT_HARD_ERROR_LIMIT
    start_reply: str | None = DEFAULT_START_REPLY

    @classmethod
    def of(cls, record: store.ComplianceSettingsRecord | None) -> ComplianceSettings:
        if record is None:
            return cls()
        return cls(
            scope=Scope(record.optout_scope),
            stop_words=tuple(json.loads(record.stop_words)),
            stop_reply=record.stop_reply,
            help_text=record.help_text,
            hard_error_limit=record.hard_error_limit,
            start_reply=record.start_reply,
        )


def normalize_word(text: str) -> str:
    """How inbound text is compared with the words: case and surrounding whitespace ignored."""
    return " ".join(text.split()).upper()


def classify(body: str, extra_stop_words: Iterable[str] = ()) -> Command | None:
    """The compliance command an inbound message is, if its whole text is one of the words."""
    word = normalize_word(body)
    if word in STOP_WORDS or word in extra_stop_words:
        return Command.STOP
    if word in START_WORDS:
        return Command.START
    if word in HELP_WORDS:
        return Command.HELP
    return None


def registry_sender(settings: ComplianceSettings, our_number: str) -> str:
    """The sender column an opt-out is recorded under, by the account's scope."""
    return our_number if settings.scope is Scope.SENDER else ANY_SENDER


# Settings ------------------------------------------------------------------------------------


async def get_settings(database: Database, account: AccountRecord) -> ComplianceSettings:
    async with database.read() as connection:
        return ComplianceSettings.of(await store.find_settings(connection, account.id))


def _clean_text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise InvalidRequest(f"{name} has at most {MAX_TEXT} characters", field=name)
    return text or None


def _clean_stop_words(words: Sequence[str]) -> tuple[str, ...]:
    if len(words) > MAX_STOP_WORDS:
        raise InvalidRequest(f"at most {MAX_STOP_WORDS} stop words", field="stop_words")
    cleaned: list[str] = []
    for raw in words:
        word = normalize_word(raw)
        if not 1 <= len(word) <= MAX_WORD:
            raise InvalidRequest(f"a stop word has 1 to {MAX_WORD} characters", field="stop_words")
        if word in START_WORDS or word in HELP_WORDS:
            raise InvalidRequest(f"{word} already means START or HELP", field="stop_words")
        cleaned.append(word)
    return tuple(dict.fromkeys(cleaned))


async def update_settings(
    database: Database, account: AccountRecord, changes: dict[str, Any]
) -> ComplianceSettings:
    """Change the given fields of the account's settings; the others keep their values."""
    async with database.write() as connection:
        current = ComplianceSettings.of(await store.find_settings(connection, account.id))
        if "scope" in changes:
            current = replace(current, scope=Scope(changes["scope"]))
        if "stop_words" in changes:
            current = replace(current, stop_words=_clean_stop_words(changes["stop_words"] or []))
        if "stop_reply" in changes:
            current = replace(current, stop_reply=_clean_text(changes["stop_reply"], "stop_reply"))
        if "help_text" in changes:
            current = replace(current, help_text=_clean_text(changes["help_text"], "help_text"))
        if "start_reply" in changes:
            current = replace(
                current, start_reply=_clean_text(changes["start_reply"], "start_reply")
            )
        if "hard_error_limit" in changes:
            limit = changes["hard_error_limit"]
            if limit is None or not 0 <= limit <= MAX_HARD_ERROR_LIMIT:
                raise InvalidRequest(
                    f"hard_error_limit is 0 (off) to {MAX_HARD_ERROR_LIMIT}",
                    field="hard_error_limit",
                )
            current = replace(current, hard_error_limit=limit)
        await store.save_settings(
            connection,
            account_id=account.id,
            optout_scope=current.scope.value,
            stop_words=json.dumps(list(current.stop_words)),
            stop_reply=current.stop_reply,
            help_text=current.help_text,
            hard_error_limit=current.hard_error_limit,
            start_reply=current.start_reply,
            updated_at=utcnow(),
        )
    return current


# The registry and the blocklist --------------------------------------------------------------


def _phone(value: str, account: AccountRecord, name: str) -> str:
    try:
        return normalize_number(value, account.region)
    except InvalidNumber as error:
        raise InvalidRequest(error.message, field=name) from None


def our_number(value: str, account: AccountRecord, name: str) -> str:
    """One of our receiving numbers as inbound messages carry it: a long code (E.164) or a
    short code; an alphanumeric sender cannot receive, so it is refused."""
    try:
        parsed = parse_sender(value, account.region)
    except InvalidSender as error:
        raise InvalidRequest(error.message, field=name) from None
    if parsed.kind is SenderKind.ALPHA:
        raise InvalidRequest(f"{value!r} is not a number that can receive messages", field=name)
    return parsed.address


async def add_suppression(
    database: Database,
    account: AccountRecord,
    kind: str,
    phone: str,
    *,
    sender: str | None = None,
) -> SuppressionRecord:
    """Opt a number out (account-wide, or for one of our numbers) or block it."""
    number = _phone(phone, account, "phone")
    our = ANY_SENDER if sender is None or kind == BLOCKED else our_number(sender, account, "sender")
    try:
        async with database.write() as connection:
            return await store.insert_suppression(
                connection,
                id=new_id(),
                account_id=account.id,
                kind=kind,
                phone=number,
                sender=our,
                source="api",
                created_at=utcnow(),
            )
    except IntegrityError:
        what = "blocked" if kind == BLOCKED else "opted out"
        raise AlreadyExists(f"{number} is already {what}") from None


async def remove_suppression(
    database: Database, account: AccountRecord, kind: str, suppression_id: str
) -> None:
    async with database.write() as connection:
        if not await store.delete_suppression(connection, account.id, kind, suppression_id):
            raise NotFound(f"no entry {suppression_id}")


async def list_suppressions(
    database: Database,
    account: AccountRecord,
    kind: str,
    *,
    limit: int = 100,
    phone: str | None = None,
    cursor: str | None = None,
) -> tuple[list[SuppressionRecord], str | None]:
    number = None if phone is None else _phone(phone, account, "phone")
    async with database.read() as connection:
        page = await store.list_suppressions(
            connection, account.id, kind, limit=limit + 1, phone=number, after_id=cursor
        )
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None


# Inbound STOP and START ----------------------------------------------------------------------


async def opt_out(
    connection: AsyncConnection,
    account_id: str,
    phone: str,
    sender: str,
    *,
    at: datetime,
) -> None:
    """Record an inbound STOP, unless the number is already opted out the same way."""
    if await store.find_suppression(connection, account_id, OPTED_OUT, phone, sender) is None:
        await store.insert_suppression(
            connection,
            id=new_id(),
            account_id=account_id,
            kind=OPTED_OUT,
            phone=phone,
            sender=sender,
            source="inbound",
            created_at=at,
        )


async def opt_in(
    connection: AsyncConnection, account_id: str, phone: str, our_number: str, scope: Scope
) -> int:
    """An inbound START: with sender scope only the number it was sent to is opted in again;
    with account scope every opt-out of the number goes (it asked to hear from us again)."""
    senders = [our_number] if scope is Scope.SENDER else None
    return await store.delete_suppressions(
        connection, account_id, OPTED_OUT, phone, senders=senders
    )


def compliance_event(
    kind: str,
    *,
    account_id: str,
    message_id: str,
    phone: str,
    our_number: str,
    word: str,
    at: datetime,
    scope: Scope,
) -> Event:
    return Event(
        account_id=account_id,
        type=kind,
        data={
            "message_id": message_id,
            "from": phone,
            "to": our_number,
            "keyword": word,
            "scope": scope.value,
            "timestamp": iso_timestamp(at),
        },
        occurred_at=at,
    )


# Screening a send ----------------------------------------------------------------------------


async def screen_send(connection: AsyncConnection, prepared: PreparedSend) -> Event | None:
    """Refuse the recipients of ``prepared`` that opted out, are blocked or are undeliverable
    (their contact's current run of hard errors reached the account's limit); one query for
    the registry and the contacts together (``store.optout.refusals_among``).

    ``force_opt_in`` sends to opted-out and blocked numbers anyway and their history says so;
    it does not override undeliverable (a consent override says nothing about whether the
    number exists): a delivery, or clearing the contact's current errors, does. Returns the
    send's ``message.invalid_targets`` event when any recipient was refused, for any reason.
    """
    [event] = await screen_sends(connection, [prepared])
    return event


async def screen_sends(
    connection: AsyncConnection, batch: Sequence[PreparedSend]
) -> list[Event | None]:
    """:func:`screen_send` for several sends stored in one transaction (the intake's group
    commit): the registry and the contacts are read once per account for the recipients of all
    its sends, not once per send. One event (or None) per send, in order.
    """
    by_account: dict[str, list[PreparedSend]] = {}
    for prepared in batch:
        if prepared.message_rows:
            by_account.setdefault(prepared.account.id, []).append(prepared)
    suppression_rows: dict[str, list[tuple[str, str, str]]] = {}
    undeliverable: dict[str, set[str]] = {}
    for account_id, sends in by_account.items():
        phones = list(dict.fromkeys(row["recipient"] for p in sends for row in p.message_rows))
        suppression_rows[account_id], undeliverable[account_id] = await store.refusals_among(
            connection,
            account_id,
            phones,
            {p.sender_address for p in sends},
            default_hard_error_limit=DEFAULT_HARD_ERROR_LIMIT,
        )
    return [
        _screened(
            prepared,
            store.suppressed_for(
                suppression_rows.get(prepared.account.id, ()), prepared.sender_address
            ),
            undeliverable.get(prepared.account.id, set()),
        )
        for prepared in batch
    ]


def _screened(
    prepared: PreparedSend, suppressed: dict[str, str], undeliverable: set[str]
) -> Event | None:
    """Apply what was found for the account to one send (its own recipients only)."""
    rows = prepared.message_rows
    if suppressed or undeliverable:
        own = {row["recipient"] for row in rows}
        suppressed = {phone: kind for phone, kind in suppressed.items() if phone in own}
        undeliverable = undeliverable & own
    if suppressed and prepared.force_opt_in:
        for event_row, row in zip(prepared.event_rows, rows, strict=True):
            kind = suppressed.get(row["recipient"])
            if kind is not None and row["recipient"] not in undeliverable:
                reason = "block" if kind == BLOCKED else "opt-out"
                event_row["detail"] = FORCED_DETAIL.format(reason=reason)
        suppressed = {}
    # Opted out or blocked is the reason given first: it holds whatever the receipts say.
    refusals = {phone: UNDELIVERABLE for phone in undeliverable} | suppressed
    if refusals:
        _refuse(prepared, refusals)
    refused = [r for r in prepared.result.recipients if r.error is not None]
    if not refused:
        return None
    return Event(
        account_id=prepared.account.id,
        type=INVALID_TARGETS,
        data={
            "from": prepared.sender_address,
            "request_id": prepared.request_id,
            "targets": [
                {"to": r.to, "reason": r.reason, "error": r.error, "detail": r.error_detail}
                for r in refused
            ],
            "timestamp": iso_timestamp(prepared.now),
        },
        occurred_at=prepared.now,
    )


def refusal_of(kind: str, address: str) -> tuple[str, str]:
    """The recipient error and its detail for a number refused at screening as ``kind``
    (blocked, opted out, undeliverable)."""
    if kind == BLOCKED:
        return RecipientError.BLOCKED, f"{address} is on the blocklist"
    if kind == UNDELIVERABLE:
        return RecipientError.UNDELIVERABLE, (
            f"{address} is undeliverable: its last messages failed with hard errors"
            " (the number does not exist or cannot receive); a delivery or clearing the"
            " contact's current errors lifts this"
        )
    return RecipientError.OPTED_OUT, f"{address} opted out"


async def refusals_for(
    connection: AsyncConnection,
    account_id: str,
    sender: str,
    phones: Sequence[str],
    *,
    force_opt_in: bool = False,
) -> dict[str, str]:
    """Which of ``phones`` a send from ``sender`` would refuse at screening, and as what
    (what :func:`screen_sends` decides, read only: a preview's screening)."""
    rows, undeliverable = await store.refusals_among(
        connection, account_id, phones, {sender}, default_hard_error_limit=DEFAULT_HARD_ERROR_LIMIT
    )
    suppressed = {} if force_opt_in else store.suppressed_for(rows, sender)
    # Opted out or blocked is the reason given first, as at the send.
    return {phone: UNDELIVERABLE for phone in undeliverable} | suppressed


def _refuse(prepared: PreparedSend, suppressed: dict[str, str]) -> None:
    kept_messages: list[OutboundMessageRow] = []
    kept_events: list[EventRow] = []
    refused_ids: dict[str, str] = {}
    for row, event_row in zip(prepared.message_rows, prepared.event_rows, strict=True):
        kind = suppressed.get(row["recipient"])
        if kind is None:
            kept_messages.append(row)
            kept_events.append(event_row)
        else:
            refused_ids[row["id"]] = kind
    recipients: list[RecipientResult] = []
    for result in prepared.result.recipients:
        kind = refused_ids.get(result.id or "")
        if kind is None:
            recipients.append(result)
            continue
        code, detail = refusal_of(kind, result.address or result.to)
        recipients.append(
            RecipientResult(
                to=result.to,
                address=result.address,
                error=code,
                error_detail=detail,
                reason=REASON_OF[code],
            )
        )
    prepared.message_rows = kept_messages
    prepared.event_rows = kept_events
    prepared.result = SendResult(
        recipients=recipients,
        accepted=len(kept_messages),
        rejected=len(recipients) - len(kept_messages),
    )
