"""The embedded SMSC: accepts binds, acks submits, sends receipts, fills handset inboxes.

It is built on :class:`tidings.net.SmscServer`. The submit path is synchronous and does a
constant amount of work per PDU, because the throughput benchmark runs through it: receipts are
only scheduled there, and one clock task turns every receipt that has come due into a deliver_sm,
pipelined within each receiver's window. Receipts whose ESME has no receiver bound wait, as an
SMSC stores them, and go out when one binds.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hmac
import random
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from types import TracebackType

import structlog
from fastapi import APIRouter

from tidings.errors import TidingsError, listening
from tidings.net.admission import default_limits
from tidings.net.server import BindRequest, SmscConnection, SmscServer
from tidings.simulator.config import (
    ChaosConfig,
    Outcome,
    OutcomeRule,
    SimulatorConfig,
    choose_outcome,
)
from tidings.simulator.control import ControlServer
from tidings.simulator.errors import InboundRejected, NoReceiverBound, SimulatorError
from tidings.simulator.fax_gateway import FaxGateway
from tidings.simulator.inbox import HandsetInboxes, HandsetMessage
from tidings.simulator.mmsc import Mmsc
from tidings.simulator.phones import PhoneNetwork
from tidings.simulator.print_house import PrintHouse
from tidings.simulator.printer import PrinterSimulator
from tidings.simulator.strict import submit_error
from tidings.smpp.concat import ConcatMethod, IncomingFragment, outgoing_parts, parse_udh
from tidings.smpp.constants import CommandStatus, EsmClass, Tag, status_name
from tidings.smpp.errors import ProtocolError
from tidings.smpp.pdu import (
    DataSm,
    DataSmResp,
    DeliverSm,
    Pdu,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    UnsuccessSme,
    response_for,
)
from tidings.smpp.receipts import ReceiptState, format_receipt, receipt_state_to_message_state
from tidings.text import decode, is_binary_data_coding, plan_text
from tidings.voice.tts import EspeakEngine

__all__ = [
    "InboundRejected",
    "NoReceiverBound",
    "Simulator",
    "SimulatorError",
    "SimulatorStats",
]

log = structlog.get_logger("tidings.simulator")

# What a port that cannot be listened on was for (``PortUnavailable.listener``).
SMPP_LISTENER = "simulator's SMPP listener"
CONTROL_LISTENER = "simulator's control API"
SIP_LISTENER = "simulator's phone network (SIP)"

# SMPP 3.4 §5.2.17 registered_delivery bits 0-1: SMSC delivery receipt requested.
_RECEIPT_REQUEST_MASK = 0x03
_RECEIPT_ALWAYS = 0x01
_RECEIPT_ON_FAILURE = 0x02
# SMPP 3.4 §5.3.2.31 network_error_code: the network type octet for GSM.
_NETWORK_TYPE_GSM = 3
# Receipts sent to a receiver whose answer is an error are tried again this many times.
_MAX_RECEIPT_ATTEMPTS = 3
# Read once or more per message: plain ints, since reading an enum member off its class costs
# more than the operation it feeds.
_UDHI = int(EsmClass.UDHI)
_DELIVERY_RECEIPT = int(EsmClass.DELIVERY_RECEIPT)
_MESSAGE_PAYLOAD = int(Tag.MESSAGE_PAYLOAD)
_RECEIPTED_MESSAGE_ID = int(Tag.RECEIPTED_MESSAGE_ID)
_MESSAGE_STATE = int(Tag.MESSAGE_STATE)
_NETWORK_ERROR_CODE = int(Tag.NETWORK_ERROR_CODE)
_ROK = int(CommandStatus.ESME_ROK)


@dataclass(slots=True)
class SimulatorStats:
    """Counters since the simulator started."""

    binds: int = 0
    bind_refusals: int = 0
    submits: int = 0
    submits_rejected: int = 0
    # Malformed submits a strict simulator refused (SimulatorConfig.strict).
    submits_refused: int = 0
    connections_dropped: int = 0
    receipts_scheduled: int = 0
    receipts_sent: int = 0
    receipts_refused: int = 0
    receipts_dropped: int = 0
    inbound_sent: int = 0

    def as_json(self) -> dict[str, int]:
        return asdict(self)


class _PendingReceipt:
    """What a receipt needs; its deliver_sm is built only when it is due.

    The submitted PDU is kept rather than copied field by field: one of these is made for every
    submit, and the receipt reads only a few of the PDU's fields, once.
    """

    __slots__ = (
        "attempts",
        "body",
        "destination",
        "destination_npi",
        "destination_ton",
        "due",
        "message_id",
        "origin",
        "outcome",
        "submit",
        "submitted_at",
        "system_id",
    )

    def __init__(
        self,
        due: float,
        origin: SmscConnection,
        system_id: str,
        message_id: str,
        submit: SubmitSm | DataSm | SubmitMulti,
        destination: str,
        destination_ton: int,
        destination_npi: int,
        outcome: Outcome,
        submitted_at: float,
        body: bytes,
    ) -> None:
        self.due = due
        self.origin = origin
        self.system_id = system_id
        self.message_id = message_id
        self.submit = submit
        self.destination = destination
        self.destination_ton = destination_ton
        self.destination_npi = destination_npi
        self.outcome = outcome
        self.submitted_at = submitted_at  # wall clock, for the receipt's submit date
        self.body = body  # short_message, or the message_payload TLV that replaces it
        self.attempts = 0


def _receipt_text_sample(short_message: bytes, data_coding: int, udhi: bool) -> str:
    """The start of the message for Appendix B's ``text:`` field, in printable ASCII."""
    body = short_message
    if udhi:
        try:
            body = parse_udh(short_message)[1]
        except TidingsError:
            return ""
    if is_binary_data_coding(data_coding):
        return ""
    sample = decode(body[:40], data_coding)[:20]
    return "".join(char if " " <= char <= "~" else "?" for char in sample)


# Receipt building caches hold at most this many entries each; they are emptied when full.
_CACHE_LIMIT = 1024
_ID_MARK = "\x00"  # stands for the message id in a cached receipt text


class _ReceiptBuilder:
    """Builds receipt deliver_sm PDUs, caching what repeats from one receipt to the next.

    The receipt text is :func:`format_receipt`'s; what varies per receipt is only the message
    id and the text sample, so the rest is formatted once per (minute, minute, outcome) and the
    sample once per distinct message start. Receipts go out at the rate messages come in, so
    this is on the simulator's hot path.
    """

    __slots__ = ("_last", "_outcome_tlvs", "_samples", "_templates")

    def __init__(self) -> None:
        self._templates: dict[tuple[int, int, Outcome], tuple[str, str]] = {}
        self._samples: dict[tuple[bytes, int], str] = {}
        self._outcome_tlvs: dict[Outcome, tuple[bytes, bytes | None]] = {}
        # The previous receipt's (outcome, submit minute, done minute, head, tail, message_state,
        # network_error): the next one mostly has the same, and checking that by identity is
        # cheaper than hashing an Outcome (its state is an enum, hashed in Python) for the caches.
        self._last: tuple[Outcome, int, int, str, str, bytes, bytes | None] | None = None

    def _template(self, submit_minute: int, done_minute: int, outcome: Outcome) -> tuple[str, str]:
        key = (submit_minute, done_minute, outcome)
        template = self._templates.get(key)
        if template is None:
            text = format_receipt(
                _ID_MARK,
                outcome.state,
                submit_date=datetime.fromtimestamp(submit_minute * 60, UTC),
                done_date=datetime.fromtimestamp(done_minute * 60, UTC),
                error_code=outcome.err,
            )
            head, _, tail = text.partition(_ID_MARK)
            if len(self._templates) >= _CACHE_LIMIT:
                self._templates.clear()
            template = self._templates[key] = (head, tail)
        return template

    def _sample(self, body: bytes, data_coding: int, udhi: bool) -> str:
        if udhi:
            return _receipt_text_sample(body, data_coding, udhi)
        key = (body[:40], data_coding)
        sample = self._samples.get(key)
        if sample is None:
            sample = _receipt_text_sample(key[0], data_coding, udhi)
            if len(self._samples) >= _CACHE_LIMIT:
                self._samples.clear()
            self._samples[key] = sample
        return sample

    def _tlvs(self, outcome: Outcome) -> tuple[bytes, bytes | None]:
        tlvs = self._outcome_tlvs.get(outcome)
        if tlvs is None:
            message_state = receipt_state_to_message_state(outcome.state).to_bytes(1)
            network_error = (
                None
                if outcome.state is ReceiptState.DELIVRD
                else bytes((_NETWORK_TYPE_GSM,)) + outcome.err.to_bytes(2)
            )
            tlvs = self._outcome_tlvs[outcome] = (message_state, network_error)
        return tlvs

    def build(self, receipt: _PendingReceipt, now: float) -> DeliverSm:
        outcome = receipt.outcome
        submit = receipt.submit
        submit_minute = int(receipt.submitted_at // 60)
        done_minute = int(now // 60)
        last = self._last
        if (
            last is not None
            and last[0] is outcome
            and last[1] == submit_minute
            and last[2] == done_minute
        ):
            head, tail, message_state, network_error = last[3:]
        else:
            head, tail = self._template(submit_minute, done_minute, outcome)
            message_state, network_error = self._tlvs(outcome)
            self._last = (
                outcome,
                submit_minute,
                done_minute,
                head,
                tail,
                message_state,
                network_error,
            )
        sample = self._sample(receipt.body, submit.data_coding, bool(submit.esm_class & _UDHI))
        message_id = receipt.message_id
        # Appendix B: text holds the first 20 characters; format_receipt cuts it the same way.
        text = f"{head}{message_id}{tail}{sample[:20]}"
        # SMPP 3.4 §5.3.2.12 receipted_message_id is a C-octet string; §5.3.2.35 message_state
        # one octet; §5.3.2.31 network_error_code the network type then a 2-octet error.
        tlvs: dict[int, bytes] = {
            _RECEIPTED_MESSAGE_ID: message_id.encode("latin-1") + b"\x00",
            _MESSAGE_STATE: message_state,
        }
        if network_error is not None:
            tlvs[_NETWORK_ERROR_CODE] = network_error
        # The receipt travels back from the handset to the sender (SMPP 3.4 §4.6.1, Appendix B).
        return DeliverSm(
            source_addr_ton=receipt.destination_ton,
            source_addr_npi=receipt.destination_npi,
            source_addr=receipt.destination,
            dest_addr_ton=submit.source_addr_ton,
            dest_addr_npi=submit.source_addr_npi,
            destination_addr=submit.source_addr,
            esm_class=_DELIVERY_RECEIPT,
            short_message=text.encode("ascii"),
            tlvs=tlvs,
        )


def _sar(pdu: Pdu) -> tuple[int, int, int] | None:
    tlvs = pdu.tlvs
    if Tag.SAR_MSG_REF_NUM not in tlvs:
        return None
    reference = pdu.get_int_tlv(Tag.SAR_MSG_REF_NUM)
    total = pdu.get_int_tlv(Tag.SAR_TOTAL_SEGMENTS)
    sequence = pdu.get_int_tlv(Tag.SAR_SEGMENT_SEQNUM)
    if reference is None or total is None or sequence is None:
        return None
    return reference, total, sequence


def _speech_engine() -> EspeakEngine | None:
    """The voicemail greetings' voice, when eSpeak NG is installed (a beep alone otherwise)."""
    engine = EspeakEngine()
    return engine if engine.available() else None


class Simulator:
    """An SMSC in this event loop: ``async with Simulator(config) as sim: ...``."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config = config or SimulatorConfig()
        self.stats = SimulatorStats()
        self._rng = random.Random(config.seed)
        self._chaos = config.chaos if config.chaos.active else None
        self._render_id = config.message_id_format.render
        self._id_counter = 0
        self._mo_reference = 0
        self._inboxes = HandsetInboxes(
            per_number=config.inbox_limit,
            total=config.inbox_total_limit,
            reassembly_timeout_s=config.reassembly_timeout_s,
        )
        # Receipts in the order they come due (the delay is the same for all, so appending
        # keeps the order), then per system_id once due, until a receiver's window takes them.
        self._scheduled: deque[_PendingReceipt] = deque()
        self._due: dict[str, deque[_PendingReceipt]] = {}
        self._receivers: dict[str, list[SmscConnection]] = {}
        self._clock_wake = asyncio.Event()
        self._clock: asyncio.Task[None] | None = None
        self._server: SmscServer | None = None
        self._control: ControlServer | None = None
        self.phones = (
            PhoneNetwork(config.phones, speech=_speech_engine()) if config.phones else None
        )
        self.mmsc = Mmsc(config.mmsc) if config.mmsc else None
        self.fax = FaxGateway(config.fax) if config.fax else None
        self.printer = PrinterSimulator(config.printer) if config.printer else None
        self.print_house = (
            PrintHouse(config.print_house, self.printer)
            if config.print_house and self.printer
            else None
        )
        self._inbound_tasks: set[asyncio.Task[None]] = set()
        self._rules = config.rules
        self._strict = config.strict
        self._receipt_delay = config.receipt_delay_s
        self._receipts = _ReceiptBuilder()
        self._loop_time = time.monotonic  # the running loop's clock, once started

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def smpp_port(self) -> int:
        if self._server is None:
            raise SimulatorError("The simulator is not running.")
        return self._server.port

    @property
    def control_port(self) -> int | None:
        return None if self._control is None else self._control.port

    def mount_control(self, router: APIRouter) -> None:
        """Serve ``router`` on the control API's port too (when it has one)."""
        if self._control is not None:
            self._control.mount(router)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        config = self.config
        server = SmscServer(
            self,
            authenticator=self._authenticate,
            host=config.host,
            port=config.smpp_port,
            window=config.delivery_window,
            enquire_link_interval=config.enquire_link_interval_s,
            response_timeout=config.delivery_timeout_s,
            inactivity_timeout=config.inactivity_timeout_s,
            bind_timeout=config.bind_timeout_s,
            limits=default_limits(
                0.25,
                max_total=config.max_connections,
                max_per_address=config.max_connections_per_address,
            ),
        )
        with listening(SMPP_LISTENER, config.host, config.smpp_port):
            await server.start()
        self._server = server
        self._loop_time = asyncio.get_running_loop().time
        self._clock = asyncio.get_running_loop().create_task(self._receipt_clock())
        try:
            if self.phones is not None:
                phones = self.phones.config
                with listening(SIP_LISTENER, phones.host, phones.sip_port):
                    await self.phones.start()
            if self.mmsc is not None:
                await self.mmsc.start()
            if self.fax is not None:
                await self.fax.start()
            if self.printer is not None:
                await self.printer.start()
            if self.print_house is not None:
                await self.print_house.start()
            if config.control_port is not None:
                with listening(CONTROL_LISTENER, config.host, config.control_port):
                    self._control = await ControlServer.start(
                        self, config.host, config.control_port
                    )
        except BaseException:
            await self.stop()
            raise
        log.info(
            "simulator listening",
            host=config.host,
            smpp_port=self.smpp_port,
            control_port=self.control_port,
        )

    async def stop(self) -> None:
        # The listeners are independent, and an HTTP server takes a few tenths of a second to
        # wind down (uvicorn polls for its exit), so they stop side by side, not one by one.
        stopping: list[Awaitable[None]] = []
        if self._control is not None:
            control, self._control = self._control, None
            stopping.append(control.stop())
        for task in list(self._inbound_tasks):
            task.cancel()
        if self.phones is not None and self.phones.running:
            stopping.append(self.phones.stop())
        if self.mmsc is not None and self.mmsc.port is not None:
            stopping.append(self.mmsc.stop())
        if self.fax is not None and self.fax.running:
            stopping.append(self.fax.stop())
        if self.printer is not None and self.printer.running:
            stopping.append(self.printer.stop())
        if self.print_house is not None and self.print_house.running:
            stopping.append(self.print_house.stop())
        if self._server is not None:
            server, self._server = self._server, None
            stopping.append(server.stop())
        await asyncio.gather(*stopping)
        if self._clock is not None:
            clock, self._clock = self._clock, None
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- handset side -------------------------------------------------------------------------

    def inbox(self, number: str) -> list[HandsetMessage]:
        """What the handset ``number`` has received, oldest first."""
        return self._inboxes.messages(number.removeprefix("+"))

    def clear_inbox(self, number: str) -> int:
        """Empty a handset's inbox; returns how many messages it held."""
        return self._inboxes.clear(number.removeprefix("+"))

    def handsets(self, limit: int = 100) -> list[tuple[str, datetime]]:
        """Numbers whose inbox holds messages, the latest to receive one first, with the time
        of that message."""
        return self._inboxes.recent_numbers(limit)

    @property
    def inbox_version(self) -> int:
        """Changes with every message that lands in, or inbox that is cleared from, any handset."""
        return self._inboxes.version

    # --- behaviour, changed while running -----------------------------------------------------

    @property
    def rules(self) -> tuple[OutcomeRule, ...]:
        return self._rules

    def set_rules(self, rules: Sequence[OutcomeRule]) -> None:
        """Outcome rules for messages submitted from now on (first match wins)."""
        self._rules = tuple(rules)

    @property
    def chaos(self) -> ChaosConfig:
        return self._chaos or ChaosConfig()

    def set_chaos(self, chaos: ChaosConfig) -> None:
        """Failures to inject from now on; a config with nothing active turns chaos off."""
        self._chaos = chaos if chaos.active else None

    async def inject_inbound(
        self,
        sender: str,
        recipient: str,
        text: str,
        *,
        system_id: str | None = None,
        timeout: float = 10.0,
    ) -> int:
        """Send a mobile-originated message to a bound ESME and wait until it is acknowledged.

        Long text is split with an 8-bit-reference UDH, the way handsets do. Returns how many
        parts it took. Raises :class:`NoReceiverBound` when no ESME (of ``system_id``, if given)
        can receive, :class:`InboundRejected` when it answers with an error or not at all, and
        :class:`tidings.text.TextError` for text that cannot be sent.
        """
        conn, pdus = self._prepare_inbound(sender, recipient, text, system_id)
        await self._send_inbound(conn, pdus, timeout)
        return len(pdus)

    def queue_inbound(
        self,
        sender: str,
        recipient: str,
        text: str,
        *,
        system_id: str | None = None,
        timeout: float = 10.0,
    ) -> int:
        """Like :meth:`inject_inbound`, but return once the parts are on their way.

        For callers that cannot wait, such as a blocking ESME that reads its socket only after
        the HTTP call that triggered the message returns. A failure after that is logged.
        """
        conn, pdus = self._prepare_inbound(sender, recipient, text, system_id)
        task = asyncio.get_running_loop().create_task(self._send_inbound(conn, pdus, timeout))
        self._inbound_tasks.add(task)
        task.add_done_callback(self._inbound_done)
        return len(pdus)

    def _inbound_done(self, task: asyncio.Task[None]) -> None:
        self._inbound_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("inbound message not delivered", error=str(task.exception()))

    def _prepare_inbound(
        self, sender: str, recipient: str, text: str, system_id: str | None
    ) -> tuple[SmscConnection, list[DeliverSm]]:
        plan = plan_text(text)
        conn = self._pick_receiver(system_id)
        if conn is None:
            raise NoReceiverBound()
        self._mo_reference = (self._mo_reference + 1) % 0x100
        pdus = [
            DeliverSm(
                source_addr=sender,
                destination_addr=recipient,
                esm_class=EsmClass.UDHI if part.udhi else EsmClass.DEFAULT,
                data_coding=part.data_coding,
                short_message=part.short_message,
            )
            for part in outgoing_parts(plan, ConcatMethod.UDH8, self._mo_reference)
        ]
        return conn, pdus

    async def _send_inbound(
        self, conn: SmscConnection, pdus: list[DeliverSm], timeout: float
    ) -> None:
        for pdu in pdus:
            try:
                answer = await conn.request(pdu, timeout)
            except TidingsError as exc:
                raise InboundRejected(
                    f"The ESME did not answer the inbound message: {exc}"
                ) from exc
            if answer.command_status != CommandStatus.ESME_ROK:
                raise InboundRejected(
                    f"The ESME answered the inbound message with "
                    f"{status_name(answer.command_status)}."
                )
        self.stats.inbound_sent += 1

    # --- SmscHandler --------------------------------------------------------------------------

    def _authenticate(self, request: BindRequest) -> int:
        config = self.config
        if config.system_id is not None and request.system_id != config.system_id:
            self.stats.bind_refusals += 1
            return CommandStatus.ESME_RINVSYSID
        if config.password is not None and not hmac.compare_digest(
            request.password.encode(), config.password.encode()
        ):
            self.stats.bind_refusals += 1
            return CommandStatus.ESME_RINVPASWD
        return CommandStatus.ESME_ROK

    def bound(self, conn: SmscConnection) -> None:
        self.stats.binds += 1
        if conn.bind is None or not conn.can_deliver:
            return
        system_id = conn.bind.system_id
        self._receivers.setdefault(system_id, []).append(conn)
        self._pump(system_id)

    def unbound(self, conn: SmscConnection) -> None:
        if conn.bind is None:
            return
        receivers = self._receivers.get(conn.bind.system_id)
        if receivers is not None and conn in receivers:
            receivers.remove(conn)
            if not receivers:
                del self._receivers[conn.bind.system_id]

    def handle_request(self, conn: SmscConnection, pdu: Pdu) -> Pdu | Awaitable[Pdu]:
        if type(pdu) is SubmitSm:
            return self._on_submit(conn, pdu)
        if type(pdu) is DataSm:
            return self._on_data_sm(conn, pdu)
        if type(pdu) is SubmitMulti:
            return self._on_submit_multi(conn, pdu)
        # query_sm, cancel_sm and replace_sm: the simulator keeps no message store to act on.
        failures = {
            0x03: CommandStatus.ESME_RQUERYFAIL,
            0x08: CommandStatus.ESME_RCANCELFAIL,
            0x07: CommandStatus.ESME_RREPLACEFAIL,
        }
        return response_for(pdu, failures.get(pdu.COMMAND_ID, CommandStatus.ESME_RINVCMDID))

    # --- submits ------------------------------------------------------------------------------

    def _chaos_answer(self, conn: SmscConnection, pdu: Pdu) -> Pdu | None:
        """The chaos-mode answer to a submit instead of accepting it, or None to accept it."""
        chaos = self._chaos
        assert chaos is not None
        if chaos.drop_probability and self._rng.random() < chaos.drop_probability:
            self.stats.connections_dropped += 1
            conn.close()
            # Never arrives: the transport is gone. The ESME sees a lost connection.
            return response_for(pdu, CommandStatus.ESME_RSYSERR)
        if chaos.reject_fraction and self._rng.random() < chaos.reject_fraction:
            self.stats.submits_rejected += 1
            return response_for(pdu, chaos.reject_status)
        return None

    async def _delayed(self, response: Pdu) -> Pdu:
        assert self._chaos is not None
        await asyncio.sleep(self._chaos.response_delay_s)
        return response

    def _answer(self, conn: SmscConnection, pdu: Pdu, accept: partial[Pdu]) -> Pdu | Awaitable[Pdu]:
        if self._chaos is None:
            return accept()
        response = self._chaos_answer(conn, pdu)
        if response is None:
            response = accept()
        return self._delayed(response) if self._chaos.response_delay_s else response

    def _refusal(self, pdu: SubmitSm | DataSm | SubmitMulti) -> Pdu | None:
        """A strict SMSC's answer to a malformed submit, or None to go on."""
        status = submit_error(pdu) if self._strict else None
        if status is None:
            return None
        self.stats.submits_refused += 1
        return response_for(pdu, status)

    def _on_submit(self, conn: SmscConnection, pdu: SubmitSm) -> Pdu | Awaitable[Pdu]:
        self.stats.submits += 1
        refused = self._refusal(pdu)
        if refused is not None:
            return refused
        if self._chaos is not None:
            return self._answer(conn, pdu, partial(self._accept_submit, conn, pdu))
        return self._accept_submit(conn, pdu)

    def _accept_submit(self, conn: SmscConnection, pdu: SubmitSm) -> Pdu:
        self._id_counter += 1
        message_id = self._render_id(self._id_counter)
        self._accept(
            conn,
            pdu,
            message_id,
            pdu.destination_addr,
            pdu.dest_addr_ton,
            pdu.dest_addr_npi,
            pdu.short_message,
        )
        return SubmitSmResp(sequence_number=pdu.sequence_number, message_id=message_id)

    def _on_data_sm(self, conn: SmscConnection, pdu: DataSm) -> Pdu | Awaitable[Pdu]:
        self.stats.submits += 1
        refused = self._refusal(pdu)
        if refused is not None:
            return refused
        return self._answer(conn, pdu, partial(self._accept_data_sm, conn, pdu))

    def _accept_data_sm(self, conn: SmscConnection, pdu: DataSm) -> Pdu:
        self._id_counter += 1
        message_id = self._render_id(self._id_counter)
        self._accept(
            conn, pdu, message_id, pdu.destination_addr, pdu.dest_addr_ton, pdu.dest_addr_npi, b""
        )
        return DataSmResp(sequence_number=pdu.sequence_number, message_id=message_id)

    def _on_submit_multi(self, conn: SmscConnection, pdu: SubmitMulti) -> Pdu | Awaitable[Pdu]:
        self.stats.submits += 1
        refused = self._refusal(pdu)
        if refused is not None:
            return refused
        return self._answer(conn, pdu, partial(self._accept_submit_multi, conn, pdu))

    def _accept_submit_multi(self, conn: SmscConnection, pdu: SubmitMulti) -> Pdu:
        # One message id for the submission (SMPP 3.4 §4.5.2); each SME gets its own receipt.
        # Distribution lists are an SMSC-side provisioning feature the simulator does not have.
        self._id_counter += 1
        message_id = self._render_id(self._id_counter)
        unsuccessful: list[UnsuccessSme] = []
        for destination in pdu.dest_addresses:
            if destination.is_distribution_list:
                unsuccessful.append(
                    UnsuccessSme(
                        destination.address,
                        destination.ton,
                        destination.npi,
                        CommandStatus.ESME_RINVDLNAME,
                    )
                )
                continue
            self._accept(
                conn,
                pdu,
                message_id,
                destination.address,
                destination.ton,
                destination.npi,
                pdu.short_message,
            )
        return SubmitMultiResp(
            sequence_number=pdu.sequence_number,
            message_id=message_id,
            unsuccess_smes=unsuccessful,
        )

    def _accept(
        self,
        conn: SmscConnection,
        pdu: SubmitSm | DataSm | SubmitMulti,
        message_id: str,
        destination: str,
        destination_ton: int,
        destination_npi: int,
        short_message: bytes,
    ) -> None:
        """Record an accepted message in its handset's inbox and schedule its receipt."""
        tlvs = pdu.tlvs
        payload = tlvs.get(_MESSAGE_PAYLOAD) if tlvs else None
        number = destination.removeprefix("+")
        udhi = pdu.esm_class & _UDHI
        sar = _sar(pdu) if tlvs else None
        if udhi or sar is not None:
            self._inboxes.receive(
                IncomingFragment(
                    source=pdu.source_addr,
                    destination=number,
                    data_coding=pdu.data_coding,
                    short_message=short_message,
                    udhi=bool(udhi),
                    sar=sar,
                    message_payload=payload,
                ),
                message_id,
                time.monotonic(),
            )
        else:
            self._inboxes.receive_whole(
                pdu.source_addr,
                number,
                short_message if payload is None else payload,
                pdu.data_coding,
                message_id,
            )
        requested = pdu.registered_delivery & _RECEIPT_REQUEST_MASK
        if not requested or conn.bind is None:
            return
        outcome = choose_outcome(self._rules, number, self._rng)
        if requested == _RECEIPT_ON_FAILURE and outcome.state is ReceiptState.DELIVRD:
            return
        if requested not in (_RECEIPT_ALWAYS, _RECEIPT_ON_FAILURE):
            return
        scheduled = self._scheduled
        if not scheduled:
            self._clock_wake.set()
        self.stats.receipts_scheduled += 1
        receipt = _PendingReceipt(
            self._loop_time() + self._receipt_delay,
            conn,
            conn.bind.system_id,
            message_id,
            pdu,
            destination,
            destination_ton,
            destination_npi,
            outcome,
            time.time(),
            short_message if payload is None else payload,
        )
        scheduled.append(receipt)
        chaos = self._chaos
        if (
            chaos is not None
            and chaos.duplicate_receipt_probability
            and self._rng.random() < chaos.duplicate_receipt_probability
        ):
            # Some SMSCs send a receipt again a while later (after a failover, or just because).
            self.stats.receipts_scheduled += 1
            asyncio.get_running_loop().call_later(
                self._receipt_delay + chaos.duplicate_receipt_delay_s,
                self._send_again,
                copy.copy(receipt),
            )

    # --- receipts -----------------------------------------------------------------------------

    async def _receipt_clock(self) -> None:
        loop = asyncio.get_running_loop()
        scheduled = self._scheduled
        while True:
            if not scheduled:
                self._clock_wake.clear()
                await self._clock_wake.wait()
                continue
            delay = scheduled[0].due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            touched: set[str] = set()
            while scheduled and scheduled[0].due <= now:
                receipt = scheduled.popleft()
                self._store_due(receipt)
                touched.add(receipt.system_id)
            for system_id in touched:
                self._pump(system_id)

    def _send_again(self, receipt: _PendingReceipt) -> None:
        self._store_due(receipt)
        self._pump(receipt.system_id)

    def _store_due(self, receipt: _PendingReceipt, *, first: bool = False) -> None:
        queue = self._due.get(receipt.system_id)
        if queue is None:
            queue = self._due[receipt.system_id] = deque()
        if first:
            queue.appendleft(receipt)
        else:
            queue.append(receipt)
        if len(queue) > self.config.stored_receipts_limit:
            queue.popleft()
            self.stats.receipts_dropped += 1

    def _pick_receiver(
        self, system_id: str | None, preferred: SmscConnection | None = None
    ) -> SmscConnection | None:
        """The bound receiver with the most room in its window (``preferred`` if it has room)."""
        if preferred is not None and preferred.can_deliver and preferred.window_free > 0:
            return preferred
        if system_id is None:
            candidates = [conn for conns in self._receivers.values() for conn in conns]
        else:
            candidates = self._receivers.get(system_id, [])
        best: SmscConnection | None = None
        for conn in candidates:
            if conn.can_deliver and (best is None or conn.window_free > best.window_free):
                best = conn
        if best is None or best.window_free <= 0:
            return None
        return best

    def _pump(self, system_id: str) -> None:
        """Send due receipts for ``system_id`` while some receiver's window has room."""
        queue = self._due.get(system_id)
        if not queue or system_id not in self._receivers:
            return
        build = self._receipts.build
        answered = self._receipt_answered
        now = time.time()
        # The receiver last chosen and how much room its window had left: consecutive receipts
        # mostly go to the same connection, so it is not looked up again for each of them.
        conn: SmscConnection | None = None
        room = 0
        while queue:
            receipt = queue[0]
            if room <= 0 or receipt.origin is not conn:
                conn = self._pick_receiver(system_id, receipt.origin)
                if conn is None:
                    return
                room = conn.window_free
            queue.popleft()
            try:
                conn.send_with_callback(build(receipt, now), partial(answered, receipt))
            except ProtocolError as exc:
                log.warning("cannot send receipt", message_id=receipt.message_id, error=str(exc))
                self.stats.receipts_dropped += 1
                continue
            except TidingsError:
                # The connection went away under us; it leaves the receivers list shortly.
                queue.appendleft(receipt)
                return
            room -= 1

    def _receipt_answered(self, receipt: _PendingReceipt, answer: Pdu | TidingsError) -> None:
        # Called from within the connection's data_received for each answer.
        if not isinstance(answer, TidingsError) and answer.command_status == _ROK:
            self.stats.receipts_sent += 1
            self._pump(receipt.system_id)
        else:
            # A failure is handled on the next loop pass, as a future's callback would be: an
            # SMSC does not resend a receipt in the same breath as the refusal.
            asyncio.get_running_loop().call_soon(self._receipt_failed, receipt, answer)

    def _receipt_failed(self, receipt: _PendingReceipt, answer: Pdu | TidingsError) -> None:
        if isinstance(answer, TidingsError):
            # Lost connection or no answer: the SMSC keeps the receipt and tries again.
            self._store_due(receipt, first=True)
        else:
            receipt.attempts += 1
            if receipt.attempts < _MAX_RECEIPT_ATTEMPTS:
                self._store_due(receipt)
            else:
                self.stats.receipts_refused += 1
        self._pump(receipt.system_id)

    # --- introspection ------------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        """Counters and queue sizes, for the control API's /stats."""
        return {
            **self.stats.as_json(),
            "receipts_waiting": len(self._scheduled) + sum(len(q) for q in self._due.values()),
            "bound_connections": sum(
                1 for conn in (self._server.connections if self._server else ()) if conn.is_bound
            ),
            "handsets": self._inboxes.numbers,
            "incomplete_messages": self._inboxes.incomplete,
            "malformed_messages": self._inboxes.malformed,
        }
