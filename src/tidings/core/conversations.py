"""Conversations: inbound messages filed into threads, replies, and reading both.

A thread is an account, one of its addresses and a handset's number. Outbound messages are
filed when they are inserted (``store.messages.insert_messages``), inbound ones by the inbound
hook (:func:`file_received`), both in the transaction that stores them. Replies are ordinary
sends (``core.messaging``: validation, idempotency and every rule of the accept path), with the
addresses taken from the message or thread they answer and the route it came in on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.core.messaging import (
    PreparedSend,
    SendRequest,
    SendResult,
    find_replay,
    idempotency_key,
    prepare_send,
)
from tidings.core.received import ReceivedMessage
from tidings.errors import InvalidRequest, NotFound, UnregisteredSender
from tidings.phone import InvalidNumber, normalize_number
from tidings.store import routes as route_store
from tidings.store import threads as thread_store
from tidings.store.engine import Database
from tidings.store.records import AccountRecord, MessageRecord
from tidings.store.threads import ThreadedMessage, ThreadedRow, ThreadView


@dataclass(frozen=True, slots=True)
class Reply:
    """What a reply may say; the addresses come from what it answers."""

    body: str
    send_at: datetime | None = None
    request_id: str | None = None
    idempotency_key: str | None = None
    customer_data: str | None = None
    dlr_url: str | None = None
    max_parts: int | None = None


@dataclass(frozen=True, slots=True)
class SendLimits:
    max_recipients: int = 10_000
    default_max_parts: int = 10
    idempotency_window: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ThreadDetail:
    view: ThreadView
    messages: list[MessageRecord]
    next_cursor: str | None


# Inbound -------------------------------------------------------------------------------------


async def file_received(
    connection: AsyncConnection, received: Sequence[ReceivedMessage]
) -> list[ReceivedMessage]:
    """The inbound hook's step: file each stored inbound message into its thread and link the
    contact with the sender's number; returns the messages with ``thread_id``/``contact_id``."""
    if not received:
        return []
    rows: list[ThreadedRow] = [
        {
            "id": message.id,
            "account_id": message.account_id,
            "direction": "in",
            "sender": message.sender,
            "recipient": message.recipient,
            "body": message.body,
            "created_at": message.at,
        }
        for message in received
    ]
    await thread_store.file_into_threads(connection, rows)
    senders: dict[str, list[str]] = {}
    for message in received:
        senders.setdefault(message.account_id, []).append(message.sender)
    contact_ids: dict[tuple[str, str], str] = {}
    for account_id, phones in senders.items():
        found = await thread_store.contact_ids_by_phone(connection, account_id, sorted(set(phones)))
        contact_ids.update({(account_id, phone): cid for phone, cid in found.items()})
    filed = [
        dataclasses.replace(
            message,
            thread_id=str(row["thread_id"]),
            contact_id=contact_ids.get((message.account_id, message.sender)),
        )
        for message, row in zip(received, rows, strict=True)
    ]
    await thread_store.set_message_threads(
        connection, [(m.id, m.thread_id or "", m.contact_id) for m in filed]
    )
    return filed


async def list_inbound(
    database: Database,
    account: AccountRecord,
    *,
    limit: int = 100,
    to: str | None = None,
    sender: str | None = None,
    received_from: datetime | None = None,
    received_until: datetime | None = None,
    cursor: str | None = None,
) -> tuple[list[ThreadedMessage], str | None]:
    """A page of the account's inbound messages, newest first, and the next page's cursor."""
    to = _address(to, account, "to")
    sender = _number(sender, account, "from")
    async with database.read() as connection:
        page = await thread_store.list_inbound(
            connection,
            account.id,
            limit=limit + 1,
            recipient=to,
            sender=sender,
            received_from=received_from,
            received_until=received_until,
            before_id=cursor,
        )
    if len(page) > limit:
        return page[:limit], page[limit - 1].message.id
    return page, None


# Threads -------------------------------------------------------------------------------------


def _number(value: str | None, account: AccountRecord, field: str) -> str | None:
    if value is None:
        return None
    try:
        return normalize_number(value, account.region)
    except InvalidNumber as error:
        raise InvalidRequest(error.message, field=field) from None


def _address(value: str | None, account: AccountRecord, field: str) -> str | None:
    """Our side of a thread: a number (normalised) or a short code / sender id as given."""
    if value is None:
        return None
    try:
        return normalize_number(value, account.region)
    except InvalidNumber:
        return value.strip()


def _thread_cursor(view: ThreadView) -> str:
    return f"{view.thread.last_message_at.isoformat()}~{view.thread.id}"


def _parse_thread_cursor(cursor: str) -> tuple[datetime, str]:
    at, separator, thread_id = cursor.partition("~")
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        parsed = None
    if not separator or not thread_id or parsed is None or parsed.tzinfo is None:
        raise InvalidRequest("not a cursor this listing gave", field="cursor")
    return parsed, thread_id


async def list_threads(
    database: Database,
    account: AccountRecord,
    *,
    limit: int = 100,
    number: str | None = None,
    contact_number: str | None = None,
    cursor: str | None = None,
) -> tuple[list[ThreadView], str | None]:
    """A page of the account's threads, the most recently active first."""
    our = _address(number, account, "number")
    theirs = _number(contact_number, account, "contact_number")
    before = None if cursor is None else _parse_thread_cursor(cursor)
    async with database.read() as connection:
        page = await thread_store.list_threads(
            connection,
            account.id,
            limit=limit + 1,
            our_address=our,
            their_address=theirs,
            before=before,
        )
    if len(page) > limit:
        return page[:limit], _thread_cursor(page[limit - 1])
    return page, None


async def get_thread(
    database: Database,
    account: AccountRecord,
    thread_id: str,
    *,
    limit: int = 500,
    cursor: str | None = None,
) -> ThreadDetail:
    """The thread and its messages in order (both directions), oldest first."""
    async with database.read() as connection:
        view = await thread_store.find_thread(connection, account.id, thread_id)
        if view is None:
            raise NotFound(f"no thread {thread_id}")
        page = await thread_store.thread_messages(
            connection, account.id, thread_id, limit=limit + 1, after_id=cursor
        )
    if len(page) > limit:
        return ThreadDetail(view, page[:limit], page[limit - 1].id)
    return ThreadDetail(view, page, None)


# Replies -------------------------------------------------------------------------------------


async def thread_of_message(
    database: Database, account: AccountRecord, message_id: str
) -> str | None:
    async with database.read() as connection:
        found = await thread_store.find_threaded_message(connection, account.id, message_id)
    return None if found is None else found.thread_id


async def _prepare(
    database: Database,
    account: AccountRecord,
    reply: Reply,
    *,
    sender: str,
    to: str,
    route_id: int | None,
    must_own_sender: bool,
    limits: SendLimits,
) -> PreparedSend | SendResult:
    request = SendRequest(
        to=[to],
        sender=sender,
        body=reply.body,
        send_at=reply.send_at,
        request_id=reply.request_id,
        idempotency_key=reply.idempotency_key,
        customer_data=reply.customer_data,
        dlr_url=reply.dlr_url,
        max_parts=reply.max_parts,
    )
    now = utcnow()
    replay = await find_replay(
        database, account, idempotency_key(request), not_before=now - limits.idempotency_window
    )
    if replay is not None:
        return replay
    if must_own_sender:
        # The number a handset wrote to may since have been given up or moved to another account.
        async with database.read() as connection:
            registered, _, _ = await route_store.route_choice_for_sender(
                connection, account.id, sender, Channel.SMS
            )
        if not registered:
            raise UnregisteredSender(
                f"{sender!r} is no longer a registered number of this account", field="from"
            )
    prepared = prepare_send(
        account,
        request,
        max_recipients=limits.max_recipients,
        default_max_parts=limits.default_max_parts,
        idempotency_window=limits.idempotency_window,
        now=now,
    )
    prepared.route_id = route_id
    return prepared


async def prepare_reply_to_message(
    database: Database,
    account: AccountRecord,
    message_id: str,
    reply: Reply,
    *,
    limits: SendLimits = SendLimits(),
) -> PreparedSend | SendResult:
    """A reply to one message, ready for the intake (or the earlier answer, on a replay).

    An inbound message is answered from the number it was sent to, to its sender; an outbound
    one continues its conversation (same sender, same recipient). Either way on its route.
    """
    async with database.read() as connection:
        found = await thread_store.find_threaded_message(connection, account.id, message_id)
    if found is None:
        raise NotFound(f"no message {message_id}")
    message = found.message
    inbound = message.direction == "in"
    return await _prepare(
        database,
        account,
        reply,
        sender=message.recipient if inbound else message.sender,
        to=message.sender if inbound else message.recipient,
        route_id=message.route_id,
        must_own_sender=inbound,
        limits=limits,
    )


async def prepare_reply_to_thread(
    database: Database,
    account: AccountRecord,
    thread_id: str,
    reply: Reply,
    *,
    limits: SendLimits = SendLimits(),
) -> PreparedSend | SendResult:
    """A message into a thread, from our side to theirs, on the route the handset last used."""
    async with database.read() as connection:
        view = await thread_store.find_thread(connection, account.id, thread_id)
        if view is None:
            raise NotFound(f"no thread {thread_id}")
        route_id = await thread_store.last_inbound_route(connection, account.id, thread_id)
    thread = view.thread
    return await _prepare(
        database,
        account,
        reply,
        sender=thread.our_address,
        to=thread.their_address,
        route_id=route_id,
        must_own_sender=thread.inbound_count > 0,
        limits=limits,
    )


# Read state ----------------------------------------------------------------------------------


async def unread_counts(
    database: Database, account: AccountRecord, thread_ids: Sequence[str]
) -> dict[str, int]:
    """Unread inbound messages per thread: those no reader marked read (the console when a
    thread is opened, a polling client through its mailbox)."""
    async with database.read() as connection:
        return await thread_store.unread_counts(connection, account.id, thread_ids)


async def mark_thread_read(database: Database, account: AccountRecord, thread_id: str) -> int:
    async with database.write() as connection:
        if await thread_store.find_thread(connection, account.id, thread_id) is None:
            raise NotFound(f"no thread {thread_id}")
        return await thread_store.mark_thread_read(connection, account.id, thread_id, utcnow())
