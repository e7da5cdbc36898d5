"""smpplib (blocking, test-only) as an ESME: bind, submit, collect deliver_sm until a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions

DEFAULT_TIMEOUT = 30.0


@dataclass
class Delivered:
    """One deliver_sm as smpplib parsed it (a receipt when esm_class has bit 0x04)."""

    esm_class: int
    data_coding: int
    source_addr: str
    destination_addr: str
    short_message: bytes
    receipted_message_id: str | None
    message_state: int | None

    @property
    def is_receipt(self) -> bool:
        # SMPP 3.4 §5.2.12: esm_class bits 5..2 == 0001 mark an SMSC delivery receipt.
        return self.esm_class & 0x3C == 0x04


@dataclass
class SmpplibEsme:
    """A bound smpplib transceiver; use as a context manager so it always unbinds and closes."""

    port: int
    system_id: str
    password: str
    # How long one read waits; smpplib treats a timeout in bind() as a lost connection and loses
    # its place in a PDU half read, so it must cover a slow answer. Every change read_until
    # waits for arrives as a PDU, so a long read costs nothing when the answer comes.
    socket_timeout: float = 30.0
    delivered: list[Delivered] = field(default_factory=list)
    submit_responses: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = smpplib.client.Client(
            "127.0.0.1", self.port, timeout=self.socket_timeout, allow_unknown_opt_params=True
        )
        self.client.set_message_received_handler(self._on_deliver)
        self.client.set_message_sent_handler(self._on_submit_resp)

    def __enter__(self) -> SmpplibEsme:
        self.client.connect()
        try:
            self.client.bind_transceiver(system_id=self.system_id, password=self.password)
        except BaseException:
            self.client.disconnect()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self.client.state in (
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX,
            ):
                self.client.unbind()
        except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError):
            pass
        finally:
            self.client.disconnect()

    def _on_deliver(self, pdu: Any) -> None:
        receipted = getattr(pdu, "receipted_message_id", None)
        self.delivered.append(
            Delivered(
                esm_class=int(pdu.esm_class),
                data_coding=int(pdu.data_coding),
                source_addr=_text(pdu.source_addr),
                destination_addr=_text(pdu.destination_addr),
                short_message=bytes(pdu.short_message or b""),
                receipted_message_id=None if receipted is None else _text(receipted),
                message_state=getattr(pdu, "message_state", None),
            )
        )

    def _on_submit_resp(self, pdu: Any) -> None:
        self.submit_responses.append(pdu)

    def submit(self, **fields: Any) -> str:
        """Send one submit_sm and return the message_id of its submit_sm_resp."""
        sent = self.client.send_message(**fields)
        self.read_until(
            lambda: any(r.sequence == sent.sequence for r in self.submit_responses),
            "submit_sm_resp",
        )
        matched = next(r for r in self.submit_responses if r.sequence == sent.sequence)
        return _text(matched.message_id)

    def read_until(
        self, done: Callable[[], bool], what: str, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Read PDUs (answering deliver_sm and enquire_link) until ``done()`` or the timeout."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() >= deadline:
                raise AssertionError(f"smpplib: no {what} within {timeout}s")
            # On a socket timeout smpplib sends an enquire_link and returns; the loop reads again.
            self.client.read_once()

    def receipts(self) -> list[Delivered]:
        return [d for d in self.delivered if d.is_receipt]

    def wait_receipts(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[Delivered]:
        self.read_until(lambda: len(self.receipts()) >= count, f"{count} receipts", timeout)
        return self.receipts()

    def wait_delivered(
        self, predicate: Callable[[Delivered], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> Delivered:
        self.read_until(lambda: any(predicate(d) for d in self.delivered), "deliver_sm", timeout)
        return next(d for d in self.delivered if predicate(d))


def _text(value: Any) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
