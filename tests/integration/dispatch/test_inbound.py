"""Mobile-originated messages from the simulator: routed to the account owning the number they
were sent to and stored as inbound messages, or kept as unrouted for an operator when nobody
owns it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.integration.dispatch.conftest import Running
from tidings.core import accounts, routing
from tidings.core.accounts import Role
from tidings.simulator.smsc import InboundRejected
from tidings.store.engine import Database
from tidings.store.models import messages
from tidings.store.records import SenderRecord

LONG_CODE = "+358409999999"
HANDSET = "+358401112223"
UNOWNED = "+358408888888"


async def inbound_messages(running: Running) -> list[dict[str, Any]]:
    async with running.service.database.read() as connection:
        result = await connection.execute(
            select(messages).where(messages.c.direction == "in").order_by(messages.c.id)
        )
        return [dict(row._mapping) for row in result]


async def test_an_inbound_message_belongs_to_the_owner_of_its_number(running: Running) -> None:
    database = running.service.database
    simulator = running.service.simulator
    assert simulator is not None
    await accounts.create_account(database, "Other", region="FI")
    await routing.add_sender(database, running.account, LONG_CODE)

    # inject_inbound returns once the ESME acknowledged it, which it does once it is stored.
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Kiitos, nähdään!", timeout=30) == 1

    [stored] = await inbound_messages(running)
    assert stored["account_id"] == running.account.id
    assert (stored["sender"], stored["recipient"]) == (HANDSET, LONG_CODE)
    assert (stored["body"], stored["encoding"], stored["parts_count"]) == (
        "Kiitos, nähdään!",
        "gsm7",
        1,
    )
    assert stored["status"] == "received"
    assert stored["next_attempt_at"] is None  # never claimed for sending

    # The account sees it through the API like any other message.
    listed = await running.http.get("/v1/messages")
    assert listed.status_code == 200, listed.text
    assert [m["id"] for m in listed.json()["data"]] == [stored["id"]]
    one = await running.http.get(f"/v1/messages/{stored['id']}")
    assert one.status_code == 200, one.text
    assert (one.json()["direction"], one.json()["status"]) == ("in", "received")


async def test_a_long_inbound_message_is_joined_before_it_is_stored(running: Running) -> None:
    simulator = running.service.simulator
    assert simulator is not None
    await routing.add_sender(running.service.database, running.account, LONG_CODE)
    text = "Hyvää päivää 🌞, tämä on pitkä vastaus. " * 4
    parts = await simulator.inject_inbound(HANDSET, LONG_CODE, text, timeout=30)
    assert parts > 1

    [stored] = await inbound_messages(running)
    assert stored["body"] == text
    assert (stored["encoding"], stored["parts_count"]) == ("ucs2", parts)


async def test_an_inbound_message_to_a_number_nobody_owns_is_kept_for_the_operator_to_assign(
    running: Running,
) -> None:
    simulator = running.service.simulator
    assert simulator is not None
    database = running.service.database
    await routing.add_sender(database, running.account, LONG_CODE)
    operator = await accounts.create_api_key(database, running.account.id, role=Role.OPERATOR)
    as_operator = {"Authorization": f"Bearer {operator.secret}"}

    # Acknowledged (no InboundRejected): refusing would make the SMSC send it again and again.
    await simulator.inject_inbound(HANDSET, UNOWNED, "Onko siellä ketään?", timeout=30)
    assert await inbound_messages(running) == []
    assert "tidings_unrouted_inbound 1.0" in (await running.http.get("/metrics")).text

    # Kept as unrouted: operators list it, tenants may not.
    tenant = await running.http.get("/v1/inbound", params={"unrouted": "true"})
    assert tenant.status_code == 403
    listed = await running.http.get("/v1/inbound", params={"unrouted": "true"}, headers=as_operator)
    assert listed.status_code == 200, listed.text
    [kept] = listed.json()["data"]
    assert (kept["from"], kept["to"], kept["body"]) == (HANDSET, UNOWNED, "Onko siellä ketään?")

    # Assigned, the account receives it as if it had just arrived.
    assigned = await running.http.post(
        f"/v1/inbound/unrouted/{kept['id']}/assign",
        json={"account_id": running.account.id},
        headers=as_operator,
    )
    assert assigned.status_code == 204, assigned.text
    [stored] = await inbound_messages(running)
    assert (stored["account_id"], stored["recipient"]) == (running.account.id, UNOWNED)
    inbox = (await running.http.get("/v1/inbound")).json()["data"]
    assert [m["body"] for m in inbox] == ["Onko siellä ketään?"]
    again = await running.http.get("/v1/inbound", params={"unrouted": "true"}, headers=as_operator)
    assert again.json()["data"] == []
    assert "tidings_unrouted_inbound 0.0" in (await running.http.get("/metrics")).text
    missing = await running.http.post(
        f"/v1/inbound/unrouted/{kept['id']}/assign",
        json={"account_id": running.account.id},
        headers=as_operator,
    )
    assert missing.status_code == 404

    # Through the service's own simulator endpoint, to the registered number, it is stored.
    response = await running.http.post(
        "/v1/simulator/inbound",
        params={"wait": "true"},
        json={"from": HANDSET, "to": LONG_CODE, "text": "Hei"},
    )
    assert response.status_code == 200, response.text
    assert [m["body"] for m in await inbound_messages(running)] == ["Onko siellä ketään?", "Hei"]


async def test_a_deliver_sm_is_answered_with_a_temporary_error_when_its_owner_lookup_fails(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner lookup raising (a database gone for a moment) left the deliver_sm unanswered:
    the SMSC waited for its response timeout. It is answered at once with a temporary error,
    so the SMSC sends it again, and the next try is stored."""
    simulator = running.service.simulator
    assert simulator is not None
    await routing.add_sender(running.service.database, running.account, LONG_CODE)
    looked_up = routing.owner_of_number
    failures = [OperationalError("SELECT", None, Exception("database is locked"))]

    async def failing_once(database: Database, address: str) -> SenderRecord | None:
        if failures:
            raise failures.pop()
        return await looked_up(database, address)

    monkeypatch.setattr(routing, "owner_of_number", failing_once)
    with pytest.raises(InboundRejected, match="ESME_RX_T_APPN"):
        await simulator.inject_inbound(HANDSET, LONG_CODE, "Onko auki?", timeout=30)
    assert await inbound_messages(running) == []

    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Onko auki?", timeout=30) == 1
    [stored] = await inbound_messages(running)
    assert stored["body"] == "Onko auki?"
