"""Handset inboxes: what each destination phone would show. ``Inboxes`` keeps any kind of
message (SMS here, MMS in ``mmsc``, WhatsApp bubbles in ``whatsapp``) bounded per number and in
total; ``HandsetInboxes`` is the SMSC's, with long messages reassembled."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from tidings.smpp.concat import (
    CompleteMessage,
    IncomingFragment,
    Reassembler,
    UdhParseError,
    parse_udh,
)
from tidings.text import decode, is_binary_data_coding

__all__ = ["HandsetInboxes", "HandsetMessage", "Inboxes"]

_PartKey = tuple[str, str, int, int]

MessageT = TypeVar("MessageT")


class Inboxes(Generic[MessageT]):
    """Every handset's inbox of one kind of message, bounded per number and in total: a full
    inbox drops its oldest message for a new one, and over the total the oldest message of all
    goes. ``version`` counts every change (a message kept, an inbox cleared): the console's live
    view compares it instead of the inboxes. ``received_at`` tells when a message came."""

    def __init__(
        self,
        *,
        per_number: int,
        total: int,
        received_at: Callable[[MessageT], datetime],
    ) -> None:
        self._per_number = per_number
        self._total = total
        self._received_at = received_at
        # Each inbox is a tuple, oldest first, replaced on every change (at most ``per_number``
        # long): unlike a deque per number, the garbage collector stops tracking one of plain
        # values, and a benchmark leaves a hundred thousand numbers with an SMS inbox.
        self._inboxes: dict[str, tuple[MessageT, ...]] = {}
        # Every kept message in arrival order, to drop the oldest when over the total. Entries
        # already dropped by an inbox's own limit or a clear() are skipped when they come up.
        self._arrivals: deque[tuple[str, MessageT]] = deque()
        self.version = 0

    def keep(self, number: str, message: MessageT) -> None:
        self.version += 1
        inboxes = self._inboxes
        inbox = inboxes.get(number)
        if inbox is None:
            inboxes[number] = (message,)
        elif len(inbox) < self._per_number:
            inboxes[number] = (*inbox, message)
        else:
            inboxes[number] = (*inbox[1:], message)  # full: the oldest goes
        arrivals = self._arrivals
        arrivals.append((number, message))
        while len(arrivals) > self._total:
            old_number, old_message = arrivals.popleft()
            old_inbox = inboxes.get(old_number)
            if old_inbox and old_inbox[0] is old_message:
                if len(old_inbox) == 1:
                    del inboxes[old_number]
                else:
                    inboxes[old_number] = old_inbox[1:]

    def get(self, number: str) -> tuple[MessageT, ...]:
        """``number``'s inbox, oldest first (empty for an unknown number)."""
        return self._inboxes.get(number, ())

    def clear(self, number: str) -> int:
        """Empty ``number``'s inbox; returns how many messages it held."""
        inbox = self._inboxes.pop(number, None)
        self.version += 1
        return len(inbox) if inbox is not None else 0

    def recent_numbers(self, limit: int) -> list[tuple[str, datetime]]:
        """Up to ``limit`` numbers with messages, the latest to receive one first, each with
        the time of its latest message."""
        found: dict[str, datetime] = {}
        for number, kept in reversed(self._arrivals):
            if len(found) >= limit:
                break
            inbox = self._inboxes.get(number)
            if number in found or not inbox or inbox[-1] is not kept:
                continue  # an older message of a number already found, or one dropped
            found[number] = self._received_at(kept)
        return list(found.items())

    def items(self) -> Iterator[tuple[str, tuple[MessageT, ...]]]:
        """Each number with its inbox (none empty)."""
        return iter(self._inboxes.items())

    def __len__(self) -> int:
        """How many numbers have an inbox."""
        return len(self._inboxes)


@dataclass(frozen=True, slots=True)
class HandsetMessage:
    """One message as a phone shows it. Binary messages show their payload in hex."""

    text: str
    sender: str
    parts: int
    data_coding: int
    received_at: datetime
    message_ids: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "from": self.sender,
            "parts": self.parts,
            "data_coding": self.data_coding,
            "received_at": self.received_at.isoformat(),
            "message_ids": list(self.message_ids),
        }


# A message as stored: (sender, payload, data_coding, parts, message_ids, received_at as wall-clock
# seconds). Reads are rare next to submits (a benchmark pushes tens of thousands a second through
# the simulator), so the text is decoded when the inbox is read, not on arrival. A plain tuple of
# strings, bytes and numbers, because the garbage collector stops tracking those: an inbox holds
# up to ``total`` of them, and scanning them all on each full collection is what would cost.
_Stored = tuple[str, bytes, int, int, tuple[str, ...], float]


def _received_at(stored: _Stored) -> datetime:
    return datetime.fromtimestamp(stored[5], UTC)


def _message(stored: _Stored) -> HandsetMessage:
    sender, payload, data_coding, parts, message_ids, received_at = stored
    text = payload.hex() if is_binary_data_coding(data_coding) else decode(payload, data_coding)
    return HandsetMessage(
        text=text,
        sender=sender,
        parts=parts,
        data_coding=data_coding,
        received_at=datetime.fromtimestamp(received_at, UTC),
        message_ids=message_ids,
    )


def _part_key(fragment: IncomingFragment) -> _PartKey | None:
    """The reassembly key of a fragment that is one part of several, else None."""
    concat = None
    if fragment.udhi:
        body = (
            fragment.message_payload
            if fragment.message_payload is not None
            else fragment.short_message
        )
        try:
            concat = parse_udh(body)[0].concat
        except UdhParseError:
            return None
    if concat is not None:
        reference, total = concat.reference, concat.total
    elif fragment.sar is not None:
        reference, total = fragment.sar[0], fragment.sar[1]
    else:
        return None
    if total <= 1:
        return None
    return (fragment.source, fragment.destination, reference, total)


class HandsetInboxes:
    """Every handset's inbox, bounded per number and in total (the oldest messages go first).

    ``receive`` takes each submitted part; when a message is whole it lands in its recipient's
    inbox. Parts of a message that never completes are dropped after ``reassembly_timeout_s``.
    ``now`` is a monotonic clock in seconds, passed in so that this class stays free of I/O.
    """

    def __init__(
        self, *, per_number: int, total: int, reassembly_timeout_s: float, max_pending: int = 10_000
    ) -> None:
        self._inboxes: Inboxes[_Stored] = Inboxes(
            per_number=per_number, total=total, received_at=_received_at
        )
        self._reassembler = Reassembler(reassembly_timeout_s, max_pending=max_pending)
        self._max_pending = max_pending
        self._part_ids: dict[_PartKey, list[str]] = {}
        self.incomplete = 0
        self.malformed = 0

    @property
    def version(self) -> int:
        """Counts every change to the inboxes: watchers compare it instead of the inboxes."""
        return self._inboxes.version

    def receive(self, fragment: IncomingFragment, message_id: str, now: float) -> None:
        """Take one submitted part; never raises (a malformed UDH is counted and dropped)."""
        if not fragment.udhi and fragment.sar is None:
            payload = fragment.message_payload
            self.receive_whole(
                fragment.source,
                fragment.destination,
                fragment.short_message if payload is None else payload,
                fragment.data_coding,
                message_id,
            )
            return
        key = _part_key(fragment) if (fragment.udhi or fragment.sar) else None
        try:
            complete = self._reassembler.add(fragment, now)
        except UdhParseError:
            self.malformed += 1
            return
        if key is not None:
            self._expire(now)
            ids = self._part_ids.setdefault(key, [])
            ids.append(message_id)
            if complete is None:
                while len(self._part_ids) > self._max_pending:
                    del self._part_ids[next(iter(self._part_ids))]
                return
            message_ids = tuple(self._part_ids.pop(key, ids))
        elif complete is None:
            return
        else:
            message_ids = (message_id,)
        self._store(complete, message_ids)

    def receive_whole(
        self, source: str, destination: str, payload: bytes, data_coding: int, message_id: str
    ) -> None:
        """Take a message sent in one PDU with no UDH and no SAR TLVs: nothing to reassemble.

        The same as :meth:`receive` for such a fragment, without building one; this is the
        common case on the simulator's submit path.
        """
        self._inboxes.keep(
            destination, (source, payload, data_coding, 1, (message_id,), time.time())
        )

    def _expire(self, now: float) -> None:
        for released in self._reassembler.expire(now):
            self.incomplete += 1
            self._part_ids.pop(
                (released.source, released.destination, released.reference, released.total), None
            )

    def _store(self, complete: CompleteMessage, message_ids: tuple[str, ...]) -> None:
        self._inboxes.keep(
            complete.destination,
            (
                complete.source,
                complete.payload,
                complete.data_coding,
                len(complete.parts),
                message_ids,
                time.time(),
            ),
        )

    def messages(self, number: str) -> list[HandsetMessage]:
        """The messages in ``number``'s inbox, oldest first (empty for an unknown number)."""
        return [_message(stored) for stored in self._inboxes.get(number)]

    def clear(self, number: str) -> int:
        """Empty ``number``'s inbox; returns how many messages it held."""
        return self._inboxes.clear(number)

    def recent_numbers(self, limit: int) -> list[tuple[str, datetime]]:
        """Up to ``limit`` numbers with messages, the latest to receive one first, each with
        the time of its latest message."""
        return self._inboxes.recent_numbers(limit)

    @property
    def numbers(self) -> int:
        return len(self._inboxes)
