"""Numbered history pages, and the receipts and inbound messages a client polls for.

A receipt is the final outcome of an outbound message; an inbound message is one stored with
direction ``in``. Both stay in the client's unread set until it marks them read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from tidings.core import messaging
from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.errors import InvalidRequest, NotCancellable, NotFound
from tidings.lifecycle import FINAL_STATUSES, MessageStatus
from tidings.phone import InvalidNumber, InvalidSender, normalize_number, parse_sender
from tidings.store import mailbox as mailbox_store
from tidings.store import messages as message_store
from tidings.store.engine import Database
from tidings.store.records import AccountRecord, MessageRecord

RECEIPT = "receipt"
INBOUND = "inbound"
MAX_PAGE_SIZE = 1000

T = TypeVar("T")

# A receipt exists once an outbound message has a final outcome (cancelled ones never left).
RECEIPT_STATUSES = tuple(
    sorted(s.value for s in FINAL_STATUSES if s is not MessageStatus.CANCELLED)
)


@dataclass(frozen=True, slots=True)
class NumberedPage(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // self.per_page))


# Past any row a table can hold, and within the 64-bit OFFSET a database takes.
_MAX_OFFSET = 2**62


def check_page(page: int, per_page: int) -> None:
    if page < 1:
        raise InvalidRequest("page starts at 1", field="page")
    if not 1 <= per_page <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit is 1 to {MAX_PAGE_SIZE}", field="limit")


def page_offset(page: int, per_page: int) -> int:
    """The rows before a numbered page; any page beyond the data is empty, however large."""
    return min((page - 1) * per_page, _MAX_OFFSET)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """What a history page shows; numbers are normalised in the account's region."""

    direction: str | None = "out"
    statuses: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_until: datetime | None = None
    message_id: str | None = None
    sender: str | None = None
    recipient: str | None = None
    channel: str | None = None  # None: every channel


def _number(raw: str | None, account: AccountRecord, field: str) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_number(raw, account.region)
    except InvalidNumber as error:
        raise InvalidRequest(error.message, field=field) from None


async def history_page(
    database: Database,
    account: AccountRecord,
    *,
    page: int = 1,
    per_page: int = 15,
    where: HistoryFilter | None = None,
    newest_first: bool = True,
) -> NumberedPage[MessageRecord]:
    """The account's messages matching ``where``, one numbered page."""
    check_page(page, per_page)
    where = where or HistoryFilter()
    sender = where.sender
    if sender is not None:
        try:
            sender = parse_sender(sender, account.region).address
        except InvalidSender as error:
            raise InvalidRequest(error.message, field="from") from None
    async with database.read() as connection:
        items, total = await mailbox_store.page_messages(
            connection,
            account.id,
            offset=page_offset(page, per_page),
            limit=per_page,
            direction=where.direction,
            statuses=where.statuses,
            created_from=where.created_from,
            created_until=where.created_until,
            message_id=where.message_id,
            sender=sender,
            recipient=_number(where.recipient, account, "to"),
            newest_first=newest_first,
            channel=where.channel,
        )
    return NumberedPage(items, total, page, per_page)


async def unread_page(
    database: Database,
    account: AccountRecord,
    kind: str,
    *,
    page: int = 1,
    per_page: int = 15,
    channel: str | None = None,
) -> NumberedPage[MessageRecord]:
    """Receipts or inbound messages not marked read yet, oldest first."""
    check_page(page, per_page)
    direction, statuses = _what(kind)
    async with database.read() as connection:
        items, total = await mailbox_store.page_messages(
            connection,
            account.id,
            offset=page_offset(page, per_page),
            limit=per_page,
            direction=direction,
            statuses=statuses,
            unread=kind,
            newest_first=False,
            channel=channel,
        )
    return NumberedPage(items, total, page, per_page)


def _what(kind: str) -> tuple[str, tuple[str, ...]]:
    if kind == RECEIPT:
        return "out", RECEIPT_STATUSES
    if kind == INBOUND:
        return "in", ()
    raise ValueError(kind)


async def get_receipt_or_inbound(
    database: Database,
    account: AccountRecord,
    kind: str,
    message_id: str,
    *,
    channel: str | None = None,
) -> MessageRecord:
    """One outbound message (its receipt so far: a pending one shows the current status), or
    one inbound message; read or not. With ``channel``, a message of another channel is as
    unknown as a wrong id: a fax's receipts never show an SMS or a letter."""
    direction, _ = _what(kind)
    async with database.read() as connection:
        message = await message_store.find_message(connection, account.id, message_id)
    if (
        message is None
        or message.direction != direction
        or (channel is not None and message.channel != channel)
    ):
        raise NotFound(f"no {kind} for message {message_id}")
    return message


async def mark_read(
    database: Database,
    account: AccountRecord,
    kind: str,
    *,
    before: datetime | None = None,
    message_id: str | None = None,
    channel: str | None = None,
) -> int:
    """Mark unread receipts or inbound messages read (those before ``before``, or one)."""
    direction, statuses = _what(kind)
    async with database.write() as connection:
        marked = await mailbox_store.mark_read(
            connection,
            account.id,
            kind,
            direction=direction,
            statuses=statuses,
            at=utcnow(),
            before=before,
            message_id=message_id,
            channel=channel,
        )
    if message_id is not None and not marked:
        await get_receipt_or_inbound(database, account, kind, message_id)
    return marked


async def cancel_all_scheduled(
    database: Database, account: AccountRecord, *, channel: Channel | None = None
) -> int:
    """Cancel every scheduled message of the account (of ``channel`` when one is given);
    returns how many were cancelled.

    A message that leaves ``scheduled`` meanwhile (it came due) is simply not counted.
    """
    cancelled = 0
    cursor: str | None = None
    while True:
        page, cursor = await messaging.list_messages(
            database,
            account,
            limit=MAX_PAGE_SIZE,
            statuses=[MessageStatus.SCHEDULED],
            cursor=cursor,
            channel=channel,
        )
        for message in page:
            try:
                await messaging.cancel_message(database, account, message.id, channel=channel)
            except (NotCancellable, NotFound):
                continue
            cancelled += 1
        if cursor is None:
            return cancelled


@dataclass(frozen=True, slots=True)
class Reply:
    """An inbound message and the last message the account sent to its sender before it."""

    message: MessageRecord
    original: MessageRecord | None


async def with_originals(
    database: Database, account: AccountRecord, inbound: list[MessageRecord]
) -> list[Reply]:
    async with database.read() as connection:
        return [
            Reply(
                message,
                await mailbox_store.last_sent_to(
                    connection, account.id, message.sender, before=message.created_at
                ),
            )
            for message in inbound
        ]


async def find_inbound(database: Database, account: AccountRecord, message_id: str) -> Reply:
    """An inbound message by its id, or the first reply to the outbound message with that id."""
    async with database.read() as connection:
        message = await message_store.find_message(connection, account.id, message_id)
        if message is not None and message.direction == "out":
            message = await mailbox_store.first_reply(connection, account.id, message)
    if message is None or message.direction != "in":
        raise NotFound(f"no inbound message {message_id}")
    [reply] = await with_originals(database, account, [message])
    return reply
