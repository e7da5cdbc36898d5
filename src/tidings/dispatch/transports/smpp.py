"""The SMPP transport: SMS over SMPP 3.4 to an SMSC, through ``net.esme.EsmeClient``.

Submits go out as submit_sm PDUs (``smpp_pdus``), part by part, within the route's window and
rate; the SMSC's message_id for each part is the reference its receipt comes back with.
deliver_sm and data_sm from the SMSC are receipts (SMPP 3.4 Appendix B) or inbound messages,
reassembled from their parts (``smpp.concat.Reassembler``) and decoded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import ClassVar

import structlog

from tidings.core.channels import Channel
from tidings.dispatch.outcomes import Inbound, Report, SubmitOutcome
from tidings.dispatch.transport import Claim, Transport, TransportContext
from tidings.dispatch.transports.smpp_pdus import parts_to_submit
from tidings.dispatch.transports.smpp_settings import SmppSettings
from tidings.errors import TidingsError
from tidings.lifecycle import MessageStatus
from tidings.net.esme import BindMode, EsmeClient, EsmeConfig, NotBound, SubmitUnacknowledged
from tidings.smpp.concat import IncomingFragment, Reassembler, UdhParseError
from tidings.smpp.constants import TRANSIENT_STATUSES, EsmClass, Tag, status_name
from tidings.smpp.errors import LocalProtocolError
from tidings.smpp.pdu import DataSm, DeliverSm
from tidings.smpp.receipts import (
    DeliveryReceipt,
    ReceiptParseError,
    ReceiptState,
    looks_like_receipt,
    message_id_variants,
    parse_receipt,
)
from tidings.store.records import RouteRecord
from tidings.text import decode, is_binary_data_coding

log = structlog.get_logger("tidings.dispatch")

# SMPP 3.4 Appendix B / §5.2.28 message states → our lifecycle. ENROUTE and ACCEPTD are not
# final: the message stays ``sent`` and the receipt is only noted in its history. DELETED (the
# SMSC dropped it) is a failure to deliver; UNKNOWN (the SMSC cannot say) makes the message
# ``unknown``, which a later receipt still corrects.
RECEIPT_STATUS: Mapping[ReceiptState, MessageStatus | None] = MappingProxyType(
    {
        ReceiptState.DELIVRD: MessageStatus.DELIVERED,
        ReceiptState.UNDELIV: MessageStatus.UNDELIVERED,
        ReceiptState.EXPIRED: MessageStatus.EXPIRED,
        ReceiptState.REJECTD: MessageStatus.REJECTED,
        ReceiptState.DELETED: MessageStatus.FAILED,
        ReceiptState.UNKNOWN: MessageStatus.UNKNOWN,
        ReceiptState.ENROUTE: None,
        ReceiptState.ACCEPTD: None,
    }
)

# How long the parts of an inbound message are waited for before it is stored as it is.
REASSEMBLY_TIMEOUT = 60.0


class SmppTransport(Transport[SmppSettings]):
    kind: ClassVar[str] = "smpp"
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.SMS})
    settings_model: ClassVar[type[SmppSettings]] = SmppSettings

    def __init__(
        self, route: RouteRecord, settings: SmppSettings, context: TransportContext
    ) -> None:
        super().__init__(route, settings, context)
        self.reassembler = Reassembler(REASSEMBLY_TIMEOUT)
        self.client = EsmeClient(
            EsmeConfig(
                host=settings.host,
                port=settings.port,
                system_id=settings.system_id,
                password=settings.password.get_secret_value(),
                system_type=settings.system_type,
                bind_mode=BindMode(settings.bind_mode.value),
                binds=settings.binds,
                window=settings.window,
                max_tps=float(settings.max_tps) if settings.max_tps else None,
                name=route.name,
            ),
            on_deliver=self._on_deliver,
            on_bind_change=context.connections_up,
        )
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def concurrency(self) -> int:
        return self.settings.window * self.settings.binds

    @property
    def in_flight(self) -> int:
        return self.client.window_in_use

    @staticmethod
    def reference_variants(reference: str) -> Sequence[str]:
        # An SMSC may give a message id in hex and report it in decimal, or drop its zeros.
        return message_id_variants(reference)

    async def start(self) -> None:
        # The client binds in the background; submits wait for it (or come back for a retry).
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self.client.start(wait=None)),
            loop.create_task(self._expire_fragments()),
        ]

    async def stop(self) -> None:
        await self.client.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def submit(self, claim: Claim) -> SubmitOutcome:
        context = self.context
        message = claim.message
        try:
            parts = parts_to_submit(message, self.settings, already_sent=claim.already_sent)
        except TidingsError as exc:
            return context.failed(claim, "invalid", exc.message)
        sent = claim.sent
        client = self.client
        for part in parts:
            try:
                response = await client.submit(part.pdu)
            except (SubmitUnacknowledged, NotBound) as exc:
                return context.retry(claim, "no answer from SMSC", exc.message)
            except LocalProtocolError as exc:
                return context.failed(claim, "invalid", exc.message)
            status = response.command_status
            if status == 0:
                sent.append((part.seq, response.message_id))  # type: ignore[attr-defined]
                continue
            name_of_status = status_name(status)
            if status in TRANSIENT_STATUSES:
                return context.retry(claim, name_of_status, f"SMSC answered {name_of_status}")
            return context.rejected(
                claim, name_of_status, f"SMSC refused part {part.seq}: {name_of_status}"
            )
        return context.sent(claim)

    # --- what the SMSC sends us ------------------------------------------------------------

    def _on_deliver(self, pdu: DeliverSm | DataSm) -> asyncio.Future[None] | int:
        short_message = pdu.short_message if isinstance(pdu, DeliverSm) else b""
        is_receipt = (pdu.esm_class & EsmClass.MESSAGE_TYPE_MASK) in (
            EsmClass.DELIVERY_RECEIPT,
            0x08,  # SME delivery acknowledgement
        ) or (
            pdu.get_str_tlv(Tag.RECEIPTED_MESSAGE_ID) is not None
            and looks_like_receipt(short_message)
        )
        if is_receipt:
            try:
                receipt = parse_receipt(
                    short_message,
                    receipted_message_id=pdu.get_str_tlv(Tag.RECEIPTED_MESSAGE_ID),
                    message_state=pdu.get_int_tlv(Tag.MESSAGE_STATE),
                    network_error_code=pdu.tlvs.get(Tag.NETWORK_ERROR_CODE),
                )
            except ReceiptParseError as exc:
                # Acknowledge anyway: refusing would make the SMSC resend it forever.
                log.warning("unreadable receipt", route=self.route.name, error=exc.message)
                self.context.malformed("report")
                return 0
            if receipt.state_recognised:
                status, state = RECEIPT_STATUS[receipt.state], receipt.state.value
            else:
                # A word we do not know says nothing final: noted in the history, and a later
                # receipt still decides.
                status, state = None, f"{receipt.state_raw or 'no state'} (not a known state)"
            return self.context.report(
                Report(receipt.message_id, status, state, _error_code(receipt), _now())
            )
        return self._inbound(pdu)

    def _inbound(self, pdu: DeliverSm | DataSm) -> asyncio.Future[None] | int:
        sar = None
        ref = pdu.get_int_tlv(Tag.SAR_MSG_REF_NUM)
        total = pdu.get_int_tlv(Tag.SAR_TOTAL_SEGMENTS)
        seq = pdu.get_int_tlv(Tag.SAR_SEGMENT_SEQNUM)
        if ref is not None and total is not None and seq is not None:
            sar = (ref, total, seq)
        fragment = IncomingFragment(
            source=pdu.source_addr,
            destination=pdu.destination_addr,
            data_coding=pdu.data_coding,
            short_message=pdu.short_message if isinstance(pdu, DeliverSm) else b"",
            udhi=bool(pdu.esm_class & EsmClass.UDHI),
            sar=sar,
            message_payload=pdu.tlvs.get(Tag.MESSAGE_PAYLOAD),
        )
        loop = asyncio.get_running_loop()
        try:
            complete = self.reassembler.add(fragment, loop.time())
        except UdhParseError as exc:
            log.warning("malformed inbound UDH", route=self.route.name, error=exc.message)
            self.context.malformed("inbound")
            return 0
        if complete is None:
            return 0  # a part of a longer message; the rest is on its way
        return self._store(
            _e164(pdu.source_addr, pdu.source_addr_ton),
            _e164(pdu.destination_addr, pdu.dest_addr_ton),
            complete.payload,
            complete.data_coding,
            len(complete.parts),
        )

    def _store(
        self,
        sender: str,
        recipient: str,
        payload: bytes,
        data_coding: int,
        parts: int,
        detail: str | None = None,
    ) -> asyncio.Future[None]:
        if is_binary_data_coding(data_coding):
            body, encoding = payload.hex(), "binary"
        else:
            body, encoding = decode(payload, data_coding), ("ucs2" if data_coding == 8 else "gsm7")
        return self.context.inbound(
            Inbound(
                route_id=self.route.id,
                sender=sender,
                recipient=recipient,
                body=body,
                encoding=encoding,
                at=_now(),
                parts_count=parts,
                detail=detail,
            )
        )

    async def _expire_fragments(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.reassembler.next_deadline()
            await asyncio.sleep(1.0 if deadline is None else max(0.05, deadline - loop.time()))
            for incomplete in self.reassembler.expire(loop.time()):
                # A message whose other parts never came is still a message: store what we have
                # (nothing waits to answer for it: its parts were acknowledged as they came).
                self._store(
                    _e164(incomplete.source, 1 if incomplete.source.isdigit() else 5),
                    _e164(incomplete.destination, 1 if incomplete.destination.isdigit() else 0),
                    incomplete.payload,
                    incomplete.data_coding,
                    len(incomplete.parts),
                    detail=f"incomplete: parts {sorted(incomplete.missing)} never arrived",
                ).add_done_callback(_retrieved)


def _now() -> datetime:
    return datetime.now(UTC)


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # logged by the reception; retrieved so asyncio does not log it again


def _e164(address: str, ton: int) -> str:
    if ton == 1 and address.isdigit():
        return "+" + address
    return address


def _error_code(receipt: DeliveryReceipt) -> str | None:
    """The receipt's error as the message keeps it: the number (``err:0A5`` is 165), or the
    text as sent when it is no number (``err:abc``); None for no error (0, or none given)."""
    if receipt.error_code is not None:
        return str(receipt.error_code) if receipt.error_code else None
    raw = (receipt.error_raw or "").strip()
    return raw[:32] or None
