"""Account A can neither read B's inbound messages or threads nor reply to B's messages.

``CONVERSATION_ENDPOINTS`` is part of the service's list of isolation cases, which must cover
every /v1 operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant, Tenant
from tidings.core.inbound import process_received
from tidings.dispatch.outcomes import InboundOutcome
from tidings.dispatch.writer import StatusWriter
from tidings.store.engine import Database

VICTIM_NUMBER = "+358409999999"
VICTIM_HANDSET = "+358401112223"

CONVERSATION_ENDPOINTS: list[tuple[str, str, dict[str, object] | None]] = [
    ("GET", "/v1/inbound", None),
    ("GET", "/v1/threads", None),
    ("GET", "/v1/threads/{thread_id}", None),
    ("POST", "/v1/threads/{thread_id}/reply", {"body": "Gotcha"}),
    ("POST", "/v1/messages/{message_id}/reply", {"body": "Gotcha"}),
]


@dataclass(frozen=True)
class Victim:
    tenant: Tenant
    message_id: str
    thread_id: str


async def _victim(
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    database: Database,
    alice: Tenant | None = None,
) -> Victim:
    alice = alice or await make_tenant("Alice")
    registered = await client.post(
        "/v1/senders", json={"address": VICTIM_NUMBER}, headers=alice.bearer
    )
    assert registered.status_code == 201, registered.text
    # Stored the way the dispatcher stores what an SMSC delivers: the writer and its hook.
    writer = StatusWriter(database, inbound_hooks=[process_received])
    writer.start()
    await writer.inbound(
        InboundOutcome(
            account_id=alice.account.id,
            sender=VICTIM_HANDSET,
            recipient=VICTIM_NUMBER,
            body="Secret plans",
            encoding="gsm7",
            parts_count=1,
            at=datetime.now(UTC),
        )
    )
    await writer.stop()
    [inbound] = (await client.get("/v1/inbound", headers=alice.bearer)).json()["data"]
    return Victim(alice, inbound["id"], inbound["thread_id"])


@pytest.mark.parametrize("endpoint", CONVERSATION_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_account_cannot_read_or_reply_to_conversations(
    client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    database: Database,
    endpoint: tuple[str, str, dict[str, object] | None],
) -> None:
    method, template, body = endpoint
    victim = await _victim(client, make_tenant, database)
    intruder_root = await make_tenant("Mallory Corp")
    intruder = await make_tenant("Mallory", parent=intruder_root)
    path = template.format(thread_id=victim.thread_id, message_id=victim.message_id)

    as_victim = await client.request(
        method,
        path,
        params={"account_id": victim.tenant.account.id},
        json=body,
        headers=intruder.bearer,
    )
    assert as_victim.status_code in (403, 404), as_victim.text

    own = await client.request(method, path, json=body, headers=intruder.bearer)
    if "{" in template:
        assert own.status_code == 404, own.text
    else:
        assert own.status_code == 200, own.text
        assert own.json()["data"] == []
        for secret in (victim.tenant.account.id, victim.message_id, victim.thread_id):
            assert secret not in own.text

    owner = victim.tenant.bearer
    thread = (await client.get(f"/v1/threads/{victim.thread_id}", headers=owner)).json()
    assert [(m["direction"], m["body"]) for m in thread["messages"]] == [("in", "Secret plans")]
    messages = (await client.get("/v1/messages", headers=owner)).json()["data"]
    assert [m["id"] for m in messages] == [victim.message_id]
    intruders = (await client.get("/v1/messages", headers=intruder.bearer)).json()["data"]
    assert intruders == []


async def test_a_parent_reads_and_replies_for_its_sub_account(
    client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    parent = await make_tenant("Parent Corp")
    child = await make_tenant("Child", parent=parent)
    conversation = await _victim(client, make_tenant, database, child)
    for_child = {"account_id": child.account.id}

    threads = await client.get("/v1/threads", params=for_child, headers=parent.bearer)
    assert [t["id"] for t in threads.json()["data"]] == [conversation.thread_id]
    inbound = await client.get("/v1/inbound", params=for_child, headers=parent.bearer)
    assert [m["id"] for m in inbound.json()["data"]] == [conversation.message_id]
    replied = await client.post(
        f"/v1/messages/{conversation.message_id}/reply",
        params=for_child,
        json={"body": "Hoidetaan"},
        headers=parent.bearer,
    )
    assert replied.status_code == 202, replied.text
    thread = await client.get(f"/v1/threads/{conversation.thread_id}", headers=child.bearer)
    assert [(m["direction"], m["from"]) for m in thread.json()["messages"]] == [
        ("in", VICTIM_HANDSET),
        ("out", VICTIM_NUMBER),
    ]
    # In its own scope the parent has no conversations.
    own = await client.get("/v1/threads", headers=parent.bearer)
    assert own.json()["data"] == []
