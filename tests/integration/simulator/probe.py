"""A bare ESME for testing the simulator: one connection, every PDU visible, nothing retried."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from tidings.net.connection import BindFailed, SmppProtocol
from tidings.smpp.constants import CommandStatus, status_name
from tidings.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DeliverSm,
    Pdu,
    SubmitSm,
    response_for,
)
from tidings.smpp.session import Role, Session

TIMEOUT = 30.0


class ProbeEsme:
    """Binds once, submits what it is given, and queues every deliver_sm it receives."""

    def __init__(self, deliver_status: int) -> None:
        self.delivered: asyncio.Queue[DeliverSm] = asyncio.Queue()
        self.deliver_status = deliver_status
        self.protocol: SmppProtocol | None = None

    @classmethod
    async def bind(
        cls,
        port: int,
        system_id: str = "probe",
        password: str = "secret",
        *,
        mode: type[BindTransceiver | BindTransmitter | BindReceiver] = BindTransceiver,
        deliver_status: int = CommandStatus.ESME_ROK,
    ) -> ProbeEsme:
        """Connect and bind; raises BindFailed (with its command_status) when refused."""
        esme = cls(deliver_status)
        loop = asyncio.get_running_loop()
        session = Session(Role.ESME, window=200, response_timeout=TIMEOUT, now=loop.time())
        _, protocol = await loop.create_connection(
            functools.partial(SmppProtocol, session, esme._on_request, name="probe"),
            "127.0.0.1",
            port,
        )
        esme.protocol = protocol
        answer = await protocol.request(
            mode(system_id=system_id, password=password), timeout=TIMEOUT
        )
        if answer.command_status != CommandStatus.ESME_ROK:
            protocol.abort()
            raise BindFailed(
                status_name(answer.command_status), command_status=answer.command_status
            )
        return esme

    def _on_request(self, protocol: SmppProtocol, pdu: Pdu) -> Pdu:
        if isinstance(pdu, DeliverSm):
            self.delivered.put_nowait(pdu)
            return response_for(pdu, self.deliver_status)
        return response_for(pdu, CommandStatus.ESME_RINVCMDID)

    async def request(self, pdu: Pdu) -> Pdu:
        assert self.protocol is not None
        return await self.protocol.request(pdu, timeout=TIMEOUT)

    async def submit(self, **fields: Any) -> Pdu:
        return await self.request(SubmitSm(**fields))

    async def next_delivered(self, timeout: float = TIMEOUT) -> DeliverSm:
        return await asyncio.wait_for(self.delivered.get(), timeout)

    async def close(self) -> None:
        if self.protocol is not None:
            await self.protocol.unbind(timeout=TIMEOUT)
            await asyncio.wait_for(asyncio.shield(self.protocol.closed), TIMEOUT)
