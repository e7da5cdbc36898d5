"""From a claimed message and its route's SMPP settings to the submit_sm PDUs of its parts
(pure functions)."""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

from tidings.dispatch.transports.smpp_settings import SmppSettings
from tidings.smpp.concat import ConcatMethod, OutgoingPart, outgoing_parts
from tidings.smpp.constants import EsmClass, Tag
from tidings.smpp.pdu import SubmitSm
from tidings.store.dispatch import ClaimedMessage
from tidings.text import Encoding, ReferenceSize, SegmentPlan, TextError, plan_text

# Type of number / numbering plan (SMPP 3.4 §5.2.5-6).
TON_UNKNOWN, TON_INTERNATIONAL, TON_ALPHANUMERIC = 0, 1, 5
NPI_UNKNOWN, NPI_ISDN = 0, 1


@dataclass(frozen=True, slots=True)
class PartToSubmit:
    seq: int
    pdu: SubmitSm


def address_for_smpp(address: str) -> tuple[str, int, int]:
    """(address, ton, npi) for an address as tidings stores it (E.164 with '+', a short code, or
    an alphanumeric sender id)."""
    if address.startswith("+") and address[1:].isdigit():
        return address[1:], TON_INTERNATIONAL, NPI_ISDN
    if address.isdigit():
        return address, TON_UNKNOWN, NPI_ISDN
    return address, TON_ALPHANUMERIC, NPI_UNKNOWN


def concat_reference(message_id: str) -> int:
    """A concatenation reference that stays the same when the message is retried, so a handset
    that got some parts from an earlier attempt still joins them (GSM 03.40 §9.2.3.24.1)."""
    return zlib.crc32(message_id.encode()) & 0xFFFF


_ENCODINGS = {"gsm7": Encoding.GSM7, "ucs2": Encoding.UCS2}


@functools.lru_cache(maxsize=4096)
def _plan(body: str, encoding: str, method: ConcatMethod, max_parts: int) -> SegmentPlan:
    """The segment plan of a body; cached because a campaign sends one body to many numbers."""
    reference_size = (
        ReferenceSize.SIXTEEN_BIT if method is ConcatMethod.UDH16 else ReferenceSize.EIGHT_BIT
    )
    forced = _ENCODINGS.get(encoding)
    try:
        return plan_text(body, encoding=forced, reference_size=reference_size, max_parts=max_parts)
    except TextError:
        if forced is None:
            raise
        # A route that prefers GSM still sends text GSM cannot carry, as UCS-2.
        return plan_text(body, reference_size=reference_size, max_parts=max_parts)


@functools.lru_cache(maxsize=4096)
def _planned(
    body: str, encoding: str, concat_method: str, max_parts: int
) -> tuple[SegmentPlan, ConcatMethod, OutgoingPart | None]:
    """The plan of a body on a route, with its only part when it needs no concatenation (such
    a part has no reference, so every message with that body sends the same one). Keyed by
    plain strings, which hash at once: a plan's own hash goes through all its segments."""
    method = ConcatMethod(concat_method)
    plan = _plan(body, encoding, method, max_parts)
    single = None
    if plan.parts == 1:
        (single,) = outgoing_parts(plan, method, 0)
    return plan, method, single


def parts_to_submit(
    message: ClaimedMessage, route: SmppSettings, *, already_sent: set[int] | None = None
) -> list[PartToSubmit]:
    plan, method, single = _planned(
        message.body, route.default_encoding, route.concat_method, message.max_parts
    )
    source, source_ton, source_npi = address_for_smpp(message.sender)
    if route.source_ton is not None:
        source_ton = route.source_ton
    if route.source_npi is not None:
        source_npi = route.source_npi
    destination = message.recipient.lstrip("+")
    registered = 1 if route.request_receipts else 0
    result: list[PartToSubmit] = []
    if single is not None:
        parts = [single]  # no concatenation header, so no reference
    else:
        parts = outgoing_parts(plan, method, concat_reference(message.id))
    for seq, part in enumerate(parts, 1):
        if already_sent and seq in already_sent:
            continue
        pdu = SubmitSm(
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            source_addr=source,
            dest_addr_ton=route.destination_ton,
            dest_addr_npi=route.destination_npi,
            destination_addr=destination,
            esm_class=EsmClass.UDHI if part.udhi else 0,
            registered_delivery=registered,
            data_coding=part.data_coding,
            short_message=part.short_message,
        )
        if part.sar is not None:
            pdu.set_tlv(Tag.SAR_MSG_REF_NUM, part.sar[0])
            pdu.set_tlv(Tag.SAR_TOTAL_SEGMENTS, part.sar[1])
            pdu.set_tlv(Tag.SAR_SEGMENT_SEQNUM, part.sar[2])
        if part.message_payload is not None:
            pdu.set_tlv(Tag.MESSAGE_PAYLOAD, part.message_payload)
        result.append(PartToSubmit(seq, pdu))
    return result
