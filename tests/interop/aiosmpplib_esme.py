"""aiosmpplib (asyncio, test-only) as an ESME: bind, queue submits, record what comes back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiosmpplib import (
    ESME,
    AbstractHook,
    DeliverSm,
    PhoneNumber,
    SmppMessage,
    SubmitSm,
    SubmitSmResp,
)
from aiosmpplib.broker import SimpleBroker
from aiosmpplib.state import SmppSessionState

DEFAULT_TIMEOUT = 30.0


@dataclass
class RecordingHook(AbstractHook):
    """Keeps every message aiosmpplib received and every send error it reported."""

    received_messages: list[SmppMessage] = field(default_factory=list)
    send_errors: list[Exception] = field(default_factory=list)

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        if smpp_message is not None:
            self.received_messages.append(smpp_message)

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        if error is not None:
            self.send_errors.append(error)


@dataclass
class AiosmpplibEsme:
    esme: ESME
    broker: SimpleBroker
    hook: RecordingHook

    async def submit(self, *, text: str, source: str, destination: str, log_id: str) -> None:
        """Queue one submit_sm (aiosmpplib picks the encoding) with a receipt requested."""
        await self.broker.enqueue(
            SubmitSm(
                short_message=text,
                source=PhoneNumber(source),
                destination=PhoneNumber(destination),
                registered_delivery=1,
                log_id=log_id,
            )
        )

    async def wait_for(
        self, predicate: Callable[[SmppMessage], bool], within: float = DEFAULT_TIMEOUT
    ) -> SmppMessage:
        deadline = time.monotonic() + within
        while True:
            for message in self.hook.received_messages:
                if predicate(message):
                    return message
            if self.hook.send_errors:
                raise AssertionError(f"aiosmpplib send errors: {self.hook.send_errors!r}")
            if time.monotonic() >= deadline:
                seen = self.hook.received_messages
                raise AssertionError(f"aiosmpplib: nothing matched within {within}s; got {seen}")
            await asyncio.sleep(0.02)

    async def submit_response(self, log_id: str) -> SubmitSmResp:
        def matches(message: SmppMessage) -> bool:
            return isinstance(message, SubmitSmResp) and message.log_id == log_id

        found = await self.wait_for(matches)
        assert isinstance(found, SubmitSmResp)
        return found

    async def receipt(self, message_id: str) -> DeliverSm:
        def matches(message: SmppMessage) -> bool:
            return (
                isinstance(message, DeliverSm)
                and message.is_receipt()
                and message.parse_receipt().get("id") == message_id
            )

        found = await self.wait_for(matches)
        assert isinstance(found, DeliverSm)
        return found

    async def mobile_originated(self) -> DeliverSm:
        found = await self.wait_for(
            lambda message: isinstance(message, DeliverSm) and not message.is_receipt()
        )
        assert isinstance(found, DeliverSm)
        return found


@contextlib.asynccontextmanager
async def aiosmpplib_esme(
    port: int, system_id: str, password: str, within: float = DEFAULT_TIMEOUT
) -> AsyncIterator[AiosmpplibEsme]:
    """A bound aiosmpplib transceiver on 127.0.0.1:port, stopped on exit."""
    hook = RecordingHook()
    broker = SimpleBroker()
    esme = ESME(
        smsc_host="127.0.0.1",
        smsc_port=port,
        system_id=system_id,
        password=password,
        hook=hook,
        broker=broker,
        log_level=logging.CRITICAL,
        socket_timeout=30.0,
    )
    runner = asyncio.create_task(esme.start(), name="aiosmpplib-esme")
    try:
        deadline = time.monotonic() + within
        while esme.session_state is not SmppSessionState.BOUND_TRX:
            if runner.done() or time.monotonic() >= deadline:
                raise AssertionError(f"aiosmpplib did not bind (state {esme.session_state})")
            await asyncio.sleep(0.02)
        yield AiosmpplibEsme(esme, broker, hook)
    finally:
        # aiosmpplib 0.7.4 ends the connection with write_eof() and never closes its StreamWriter,
        # which leaks the socket (a ResourceWarning); close it after stop().
        writer = esme._writer
        await esme.stop()
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


def receipt_fields(message: DeliverSm) -> dict[str, Any]:
    return dict(message.parse_receipt())
