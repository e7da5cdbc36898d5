"""Every status is what the far end said, even when it lies or goes silent: a message with no
receipt becomes ``unknown`` after the validity period and grace (a late receipt still corrects
it), an unknown ``stat:`` word is not final, and an ``err:`` that is no number is kept as sent.

The SMSC here is our ``SmscServer`` over real TCP, answering submits and sending the receipt
texts each test scripts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tidings.core import routing
from tidings.net.server import SmscConnection, SmscServer
from tidings.smpp.constants import EsmClass
from tidings.smpp.pdu import DeliverSm, Pdu, SubmitSm, SubmitSmResp, response_for


class ScriptedSmsc:
    """Accepts every submit (ids s1, s2, ...); the test sends receipts when it likes."""

    def __init__(self) -> None:
        self.server = SmscServer(self, authenticator=lambda request: 0, window=10)
        self.submits: asyncio.Queue[tuple[str, SubmitSm]] = asyncio.Queue()
        self.connection: SmscConnection | None = None
        self._count = 0

    def handle_request(self, conn: SmscConnection, pdu: Pdu) -> Pdu:
        if isinstance(pdu, SubmitSm):
            self._count += 1
            message_id = f"s{self._count}"
            self.submits.put_nowait((message_id, pdu))
            return SubmitSmResp(sequence_number=pdu.sequence_number, message_id=message_id)
        return response_for(pdu, 0x03)

    def bound(self, conn: SmscConnection) -> None:
        self.connection = conn

    def unbound(self, conn: SmscConnection) -> None:
        if self.connection is conn:
            self.connection = None

    async def receipt(self, submit: SubmitSm, text: str) -> None:
        assert self.connection is not None
        answer = await self.connection.request(
            DeliverSm(
                source_addr=submit.destination_addr,
                destination_addr=submit.source_addr,
                esm_class=EsmClass.DELIVERY_RECEIPT,
                short_message=text.encode("ascii"),
            ),
            timeout=30,
        )
        assert answer.command_status == 0


@pytest.fixture
async def smsc() -> AsyncIterator[ScriptedSmsc]:
    scripted = ScriptedSmsc()
    await scripted.server.start()
    try:
        yield scripted
    finally:
        await scripted.server.stop()


@pytest.fixture
async def running(tmp_path: Path, database_url: str, smsc: ScriptedSmsc) -> AsyncIterator[Running]:
    settings = service_settings(tmp_path, database_url, simulator=False)
    async with running_service(settings) as started:
        kinds = started.service.transports
        await routing.create_route(
            started.service.database,
            kinds,
            name="scripted",
            settings={
                "host": "127.0.0.1",
                "port": smsc.server.port,
                "system_id": "tidings",
                "password": "x",
            },
            is_default=True,
        )

        async def bound() -> bool:
            return smsc.connection is not None

        await eventually(bound, "the dispatcher to bind to the scripted SMSC", 30.0)
        yield started


def receipt_text(message_id: str, stat: str, err: str = "000") -> str:
    return (
        f"id:{message_id} sub:001 dlvrd:000 submit date:2612071000 done date:2612071001"
        f" stat:{stat} err:{err} text:hello"
    )


async def _send(running: Running, smsc: ScriptedSmsc) -> tuple[str, str, SubmitSm]:
    answer = await running.http.post(
        "/v1/messages", json={"to": "+358401234567", "from": "Tidings", "body": "hello"}
    )
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["messages"][0]["id"]
    smsc_id, submit = await asyncio.wait_for(smsc.submits.get(), 30)
    await _wait_for(running, message_id, "sent")
    return message_id, smsc_id, submit


async def _wait_for(running: Running, message_id: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        found.update((await running.http.get(f"/v1/messages/{message_id}")).json())
        return bool(found.get("status") == status)

    await eventually(reached, f"message {message_id} to be {status}", 30.0)
    return found


async def test_no_receipt_in_time_is_unknown_and_a_late_receipt_corrects_it(
    running: Running, smsc: ScriptedSmsc
) -> None:
    message_id, smsc_id, submit = await _send(running, smsc)
    dispatcher = running.service.dispatcher
    assert dispatcher is not None
    # Nothing is overdue yet.
    assert await dispatcher.mark_receipts_overdue(datetime.now(UTC)) == 0
    # The validity period and grace (49 h by default) have passed without a receipt.
    later = datetime.now(UTC) + timedelta(hours=49, minutes=1)
    assert await dispatcher.mark_receipts_overdue(later) == 1
    unknown = await _wait_for(running, message_id, "unknown")
    assert "no receipt arrived within 49 h" in unknown["history"][-1]["detail"]
    # Swept again: nothing more happens to it.
    assert await dispatcher.mark_receipts_overdue(later) == 0

    await smsc.receipt(submit, receipt_text(smsc_id, "DELIVRD"))
    delivered = await _wait_for(running, message_id, "delivered")
    assert [h["status"] for h in delivered["history"]][-2:] == ["unknown", "delivered"]


async def test_an_unknown_state_word_is_not_final(running: Running, smsc: ScriptedSmsc) -> None:
    message_id, smsc_id, submit = await _send(running, smsc)
    await smsc.receipt(submit, receipt_text(smsc_id, "WHATEVER"))

    async def noted() -> bool:
        message = (await running.http.get(f"/v1/messages/{message_id}")).json()
        return any("WHATEVER" in (h.get("detail") or "") for h in message["history"])

    await eventually(noted, "the receipt to be noted in the history", 30.0)
    assert (await running.http.get(f"/v1/messages/{message_id}")).json()["status"] == "sent"
    await smsc.receipt(submit, receipt_text(smsc_id, "DELIVRD"))
    await _wait_for(running, message_id, "delivered")


async def test_the_smscs_unknown_state_is_unknown_and_corrected_later(
    running: Running, smsc: ScriptedSmsc
) -> None:
    message_id, smsc_id, submit = await _send(running, smsc)
    await smsc.receipt(submit, receipt_text(smsc_id, "UNKNOWN"))
    await _wait_for(running, message_id, "unknown")
    await smsc.receipt(submit, receipt_text(smsc_id, "UNDELIV", "001"))
    undelivered = await _wait_for(running, message_id, "undelivered")
    assert undelivered["error_code"] == "1"


async def test_an_error_that_is_no_number_is_kept_as_sent(
    running: Running, smsc: ScriptedSmsc
) -> None:
    message_id, smsc_id, submit = await _send(running, smsc)
    await smsc.receipt(submit, receipt_text(smsc_id, "UNDELIV", "abc"))
    undelivered = await _wait_for(running, message_id, "undelivered")
    # Not read as hex (2748): kept as the SMSC wrote it.
    assert undelivered["error_code"] == "abc"
