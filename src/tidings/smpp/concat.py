"""Concatenated (multipart) messages: split for sending, parse UDHs, reassemble what arrives.

Three ways to carry a long message over SMPP 3.4, all handled here without any I/O:

- a User Data Header in each short_message (esm_class UDHI, 0x40) with the concatenation
  information element of GSM 03.40 §9.2.3.24.1 (IEI 0x00, 8-bit reference) or §9.2.3.24.8
  (IEI 0x08, 16-bit reference);
- the sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs (SMPP 3.4 §5.3.2.22-24);
- the whole message in one message_payload TLV (SMPP 3.4 §5.3.2.32), which the SMSC splits.

The reassembler is sans-IO: it is handed fragments and the current time, and says when a message is
complete or when a partial one has waited too long; the I/O layer owns the clock and the timers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from tidings.errors import TidingsError

__all__ = [
    "CompleteMessage",
    "ConcatInfo",
    "ConcatMethod",
    "IncomingFragment",
    "IncompleteMessage",
    "InformationElement",
    "OutgoingPart",
    "ReassembledPart",
    "Reassembler",
    "UdhParseError",
    "UserDataHeader",
    "build_udh",
    "outgoing_parts",
    "parse_udh",
]

# GSM 03.40 §9.2.3.24 information element identifiers.
IEI_CONCAT_8BIT = 0x00
IEI_CONCAT_16BIT = 0x08
# Octet counts of the two concatenation IEs' data: ref, total, seq (ref is 1 or 2 octets).
_CONCAT_8BIT_LENGTH = 3
_CONCAT_16BIT_LENGTH = 4
# SMPP 3.4 §5.3.2.32: message_payload's length is a 2-octet field.
_MAX_MESSAGE_PAYLOAD = 0xFFFF
# The total and sequence numbers are one octet in the UDH IE and in the SAR TLVs.
_MAX_PARTS = 255
_EIGHT_BIT_REFERENCES = 0x100
# How many parts of recently completed messages are remembered to spot late duplicates (~4 MB).
_MAX_REMEMBERED_PARTS = 100_000
_SIXTEEN_BIT_REFERENCES = 0x10000


class UdhParseError(TidingsError):
    """The user data header is malformed."""


class ConcatMethod(StrEnum):
    """How the parts of a long message are tied together on the wire."""

    UDH8 = "udh8"
    UDH16 = "udh16"
    SAR = "sar"
    PAYLOAD = "payload"


@dataclass(frozen=True, slots=True)
class InformationElement:
    """One UDH information element (GSM 03.40 §9.2.3.24): its identifier and its data."""

    iei: int
    data: bytes

    def encode(self) -> bytes:
        return bytes((self.iei, len(self.data))) + self.data


@dataclass(frozen=True, slots=True)
class ConcatInfo:
    """Which part of which message a fragment is: reference, total parts, this part's number."""

    reference: int
    total: int
    sequence: int
    reference_bits: int = 8


@dataclass(frozen=True, slots=True)
class UserDataHeader:
    """A parsed UDH: its information elements in the order they appeared."""

    elements: tuple[InformationElement, ...]

    @property
    def concat(self) -> ConcatInfo | None:
        """The concatenation IE, if there is a usable one.

        GSM 03.40 §9.2.3.24.1: an IE with total 0, or a sequence number of 0 or above the total,
        is ignored, and when an IE repeats the last occurrence counts.
        """
        found: ConcatInfo | None = None
        for element in self.elements:
            if element.iei == IEI_CONCAT_8BIT:
                reference, total, sequence = element.data
                info = ConcatInfo(reference, total, sequence, reference_bits=8)
            elif element.iei == IEI_CONCAT_16BIT:
                info = ConcatInfo(
                    int.from_bytes(element.data[:2], "big"),
                    element.data[2],
                    element.data[3],
                    reference_bits=16,
                )
            else:
                continue
            found = info if 1 <= info.sequence <= info.total else None
        return found

    @property
    def other_elements(self) -> tuple[InformationElement, ...]:
        """Every IE except concatenation, e.g. the national language shift IEs."""
        return tuple(
            element
            for element in self.elements
            if element.iei not in (IEI_CONCAT_8BIT, IEI_CONCAT_16BIT)
        )

    def encode(self) -> bytes:
        body = b"".join(element.encode() for element in self.elements)
        return bytes((len(body),)) + body


def parse_udh(short_message: bytes) -> tuple[UserDataHeader, bytes]:
    """Split a short_message sent with UDHI set into its header and the rest.

    Raises :class:`UdhParseError` when the header length runs past the end of the message or an
    element's length runs past the end of the header, or a concatenation IE has the wrong length.
    """
    if not short_message:
        raise UdhParseError("UDHI is set but the message is empty, so it has no header.")
    header_length = short_message[0]
    header_end = 1 + header_length
    if header_end > len(short_message):
        raise UdhParseError(
            f"UDH length {header_length} runs past the end of a {len(short_message)}-octet message."
        )
    elements: list[InformationElement] = []
    position = 1
    while position < header_end:
        if position + 2 > header_end:
            raise UdhParseError("UDH ends in the middle of an information element's header.")
        iei, length = short_message[position], short_message[position + 1]
        data_start = position + 2
        data_end = data_start + length
        if data_end > header_end:
            raise UdhParseError(f"UDH element 0x{iei:02X} runs past the end of the header.")
        data = short_message[data_start:data_end]
        if (iei == IEI_CONCAT_8BIT and length != _CONCAT_8BIT_LENGTH) or (
            iei == IEI_CONCAT_16BIT and length != _CONCAT_16BIT_LENGTH
        ):
            raise UdhParseError(f"UDH concatenation element 0x{iei:02X} has length {length}.")
        elements.append(InformationElement(iei, data))
        position = data_end
    return UserDataHeader(tuple(elements)), short_message[header_end:]


def build_udh(concat: ConcatInfo | None, other_elements: bytes = b"") -> bytes:
    """A complete UDH (with its length octet) from a concatenation IE and pre-encoded other IEs.

    Returns b"" when there is nothing to put in it.
    """
    body = b""
    if concat is not None:
        if concat.reference_bits == 16:
            body = bytes((IEI_CONCAT_16BIT, _CONCAT_16BIT_LENGTH)) + concat.reference.to_bytes(
                2, "big"
            )
        else:
            body = bytes((IEI_CONCAT_8BIT, _CONCAT_8BIT_LENGTH, concat.reference))
        body += bytes((concat.total, concat.sequence))
    body += other_elements
    return bytes((len(body),)) + body if body else b""


class PlannedSegment(Protocol):
    """What :func:`outgoing_parts` needs of one planned segment (``tidings.text`` provides it)."""

    @property
    def payload(self) -> bytes: ...


class PlannedMessage(Protocol):
    """What :func:`outgoing_parts` needs of a segment plan (``tidings.text.SegmentPlan``)."""

    @property
    def data_coding(self) -> int: ...

    @property
    def segments(self) -> Sequence[PlannedSegment]: ...

    @property
    def language_udh(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class OutgoingPart:
    """The fields of one submit_sm/deliver_sm that carry one part of a message."""

    short_message: bytes
    udhi: bool
    data_coding: int
    sar: tuple[int, int, int] | None = None
    message_payload: bytes | None = None


def outgoing_parts(
    plan: PlannedMessage, method: ConcatMethod, reference: int
) -> list[OutgoingPart]:
    """The PDU field sets that send ``plan`` with ``method``, tied together by ``reference``.

    ``reference`` is reduced to the method's range (0..255 for UDH8, 0..65535 for UDH16 and SAR,
    whose sar_msg_ref_num is 2 octets). A single-part plan gets no concatenation information, but
    the plan's language shift IEs (``language_udh``) go into every part's UDH whatever the method.
    Raises ValueError for a negative reference, more than 255 parts, or a payload over 64 KiB.
    """
    if reference < 0:
        raise ValueError(f"reference must not be negative, not {reference}")
    payloads = [segment.payload for segment in plan.segments] or [b""]
    language_elements = plan.language_udh
    data_coding = plan.data_coding

    if method is ConcatMethod.PAYLOAD:
        whole = build_udh(None, language_elements) + b"".join(payloads)
        if len(whole) > _MAX_MESSAGE_PAYLOAD:
            raise ValueError(f"message_payload holds at most 65535 octets, not {len(whole)}")
        return [
            OutgoingPart(
                short_message=b"",
                udhi=bool(language_elements),
                data_coding=data_coding,
                message_payload=whole,
            )
        ]

    total = len(payloads)
    if total > _MAX_PARTS:
        raise ValueError(f"a message can have at most {_MAX_PARTS} parts, not {total}")
    parts: list[OutgoingPart] = []
    for sequence, payload in enumerate(payloads, start=1):
        concat: ConcatInfo | None = None
        sar: tuple[int, int, int] | None = None
        if total > 1 and method is ConcatMethod.UDH8:
            concat = ConcatInfo(reference % _EIGHT_BIT_REFERENCES, total, sequence, 8)
        elif total > 1 and method is ConcatMethod.UDH16:
            concat = ConcatInfo(reference % _SIXTEEN_BIT_REFERENCES, total, sequence, 16)
        elif total > 1 and method is ConcatMethod.SAR:
            sar = (reference % _SIXTEEN_BIT_REFERENCES, total, sequence)
        header = build_udh(concat, language_elements)
        parts.append(
            OutgoingPart(
                short_message=header + payload,
                udhi=bool(header),
                data_coding=data_coding,
                sar=sar,
            )
        )
    return parts


@dataclass(frozen=True, slots=True)
class IncomingFragment:
    """The fields of a received deliver_sm/submit_sm that matter for reassembly.

    ``udhi`` is esm_class bit 0x40; ``sar`` is (sar_msg_ref_num, sar_total_segments,
    sar_segment_seqnum) when all three TLVs are present; ``message_payload`` is the TLV's value,
    which replaces short_message when present (SMPP 3.4 §5.3.2.32).
    """

    source: str
    destination: str
    data_coding: int
    short_message: bytes = b""
    udhi: bool = False
    sar: tuple[int, int, int] | None = None
    message_payload: bytes | None = None


@dataclass(frozen=True, slots=True)
class ReassembledPart:
    """One received part: its number, its data_coding and its payload with the UDH removed."""

    sequence: int
    data_coding: int
    payload: bytes
    header: UserDataHeader | None = None


def _joined(parts: Sequence[ReassembledPart]) -> bytes:
    # Joining before decoding matters: a sender may split a UCS-2 surrogate pair or a GSM escape
    # sequence across parts, and only the joined octets decode correctly.
    return b"".join(part.payload for part in parts)


@dataclass(frozen=True, slots=True)
class CompleteMessage:
    """A whole message: every part, in order. ``reference`` is None for a single-PDU message."""

    source: str
    destination: str
    reference: int | None
    parts: tuple[ReassembledPart, ...]

    @property
    def data_coding(self) -> int:
        return self.parts[0].data_coding

    @property
    def payload(self) -> bytes:
        """Every part's payload, joined; decode it with ``tidings.text.decode``."""
        return _joined(self.parts)


@dataclass(frozen=True, slots=True)
class IncompleteMessage:
    """A message whose missing parts did not arrive in time (or were evicted to bound memory)."""

    source: str
    destination: str
    reference: int
    total: int
    parts: tuple[ReassembledPart, ...]
    missing: tuple[int, ...]
    first_seen: float

    @property
    def data_coding(self) -> int:
        return self.parts[0].data_coding

    @property
    def payload(self) -> bytes:
        """The parts that did arrive, joined in order."""
        return _joined(self.parts)


_SetKey = tuple[str, str, int, int]


@dataclass(slots=True)
class _PendingSet:
    first_seen: float
    total: int
    parts: dict[int, ReassembledPart] = field(default_factory=dict)
    size: int = 0


def _fragment_parts(fragment: IncomingFragment) -> tuple[ConcatInfo | None, ReassembledPart]:
    body = (
        fragment.message_payload if fragment.message_payload is not None else fragment.short_message
    )
    header: UserDataHeader | None = None
    if fragment.udhi:
        header, body = parse_udh(body)
    concat = header.concat if header is not None else None
    if concat is None and fragment.sar is not None:
        reference, total, sequence = fragment.sar
        # SMPP 3.4 §5.3.2.23-24 give both numbers the range 1..255; other values are treated like
        # an ignorable concatenation IE, so the fragment stands as a message of its own.
        if 1 <= sequence <= total <= _MAX_PARTS and 0 <= reference < _SIXTEEN_BIT_REFERENCES:
            concat = ConcatInfo(reference, total, sequence, reference_bits=16)
    sequence = concat.sequence if concat is not None else 1
    return concat, ReassembledPart(sequence, fragment.data_coding, body, header)


class Reassembler:
    """Collects the parts of concatenated messages until each is whole or has waited too long.

    Parts are grouped by (source, destination, reference, total), whichever method carried them.
    A repeated part (an SMSC resending a deliver_sm whose response it missed) is ignored, including
    one that arrives shortly after its message was completed. Memory is bounded: when more than
    ``max_pending`` sets or ``max_pending_octets`` of payload wait, the oldest sets are released as
    incomplete by the next :meth:`expire`. ``now`` is any monotonic clock, in seconds.
    """

    def __init__(
        self,
        timeout_s: float,
        *,
        max_pending: int = 10_000,
        max_pending_octets: int = 32 * 1024 * 1024,
    ) -> None:
        if timeout_s <= 0 or max_pending < 1 or max_pending_octets < 1:
            raise ValueError("timeout_s, max_pending and max_pending_octets must be positive")
        self._timeout_s = timeout_s
        self._max_pending = max_pending
        self._max_pending_octets = max_pending_octets
        # Insertion order is arrival order of each set's first part, so the oldest set is first.
        self._pending: dict[_SetKey, _PendingSet] = {}
        self._pending_octets = 0
        self._evicted: list[IncompleteMessage] = []
        self._evicted_at: float | None = None
        # Recently completed sets, kept until their timeout so late duplicates are recognised.
        # Payload hashes, not payloads, keep this memory small; a collision would only drop a part
        # that is both a hash twin and sent under a just-completed reference.
        # Each entry: when to forget it, and the hash of part n's payload at index n - 1.
        self._completed: dict[_SetKey, tuple[float, tuple[int, ...]]] = {}
        self._completed_parts = 0

    @property
    def pending_count(self) -> int:
        """How many partial messages are waiting for more parts."""
        return len(self._pending)

    def add(self, fragment: IncomingFragment, now: float) -> CompleteMessage | None:
        """Take one received fragment; return the message if this fragment completed it.

        Raises :class:`UdhParseError` if the fragment says it has a UDH but it is malformed.
        """
        concat, part = _fragment_parts(fragment)
        if concat is None or concat.total == 1:
            return CompleteMessage(
                fragment.source,
                fragment.destination,
                concat.reference if concat is not None else None,
                (part,),
            )
        key: _SetKey = (fragment.source, fragment.destination, concat.reference, concat.total)
        self._forget_completed(now)
        completed = self._completed.get(key)
        if completed is not None and completed[1][part.sequence - 1] == hash(part.payload):
            return None
        pending = self._pending.get(key)
        if pending is None:
            pending = _PendingSet(first_seen=now, total=concat.total)
            self._pending[key] = pending
        if part.sequence in pending.parts:
            return None
        pending.parts[part.sequence] = part
        pending.size += len(part.payload)
        self._pending_octets += len(part.payload)
        if len(pending.parts) == pending.total:
            del self._pending[key]
            self._pending_octets -= pending.size
            ordered = tuple(pending.parts[number] for number in range(1, pending.total + 1))
            self._remember_completed(key, now, ordered)
            return CompleteMessage(fragment.source, fragment.destination, concat.reference, ordered)
        self._enforce_bounds(now, keep=key)
        return None

    def expire(self, now: float) -> list[IncompleteMessage]:
        """Release the partial messages that have waited ``timeout_s`` or were evicted."""
        released, self._evicted, self._evicted_at = self._evicted, [], None
        while self._pending:
            key, pending = next(iter(self._pending.items()))
            if pending.first_seen + self._timeout_s > now:
                break
            released.append(self._release(key))
        self._forget_completed(now)
        return released

    def next_deadline(self) -> float | None:
        """When :meth:`expire` next has something to release; None while nothing waits."""
        if self._evicted_at is not None:
            return self._evicted_at
        for pending in self._pending.values():
            return pending.first_seen + self._timeout_s
        return None

    def _release(self, key: _SetKey) -> IncompleteMessage:
        pending = self._pending.pop(key)
        self._pending_octets -= pending.size
        source, destination, reference, total = key
        return IncompleteMessage(
            source=source,
            destination=destination,
            reference=reference,
            total=total,
            parts=tuple(pending.parts[number] for number in sorted(pending.parts)),
            missing=tuple(number for number in range(1, total + 1) if number not in pending.parts),
            first_seen=pending.first_seen,
        )

    def _enforce_bounds(self, now: float, *, keep: _SetKey) -> None:
        while (
            len(self._pending) > self._max_pending
            or self._pending_octets > self._max_pending_octets
        ):
            # The set just added to stays: alone it is at most 255 parts of bounded size.
            oldest = next((key for key in self._pending if key != keep), None)
            if oldest is None:
                break
            self._evicted.append(self._release(oldest))
            if self._evicted_at is None:
                self._evicted_at = now

    def _remember_completed(
        self, key: _SetKey, now: float, parts: tuple[ReassembledPart, ...]
    ) -> None:
        self._forget_completed_set(key)
        self._completed[key] = (now + self._timeout_s, tuple(hash(part.payload) for part in parts))
        self._completed_parts += len(parts)
        while (
            len(self._completed) > self._max_pending
            or self._completed_parts > _MAX_REMEMBERED_PARTS
        ):
            self._forget_completed_set(next(iter(self._completed)))

    def _forget_completed(self, now: float) -> None:
        while self._completed:
            key, (forget_at, _) = next(iter(self._completed.items()))
            if forget_at > now:
                break
            self._forget_completed_set(key)

    def _forget_completed_set(self, key: _SetKey) -> None:
        entry = self._completed.pop(key, None)
        if entry is not None:
            self._completed_parts -= len(entry[1])
