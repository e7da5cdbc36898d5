"""Each trigger as Power Automate uses it: subscribe with the flow's URL, an event arrives at a
real receiver in TrueDialog's callback shape, a DELETE on the Location stops further events."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.dialects.truedialog.conftest import HANDSET, LONG_CODE, TrueDialog, body_of
from tests.integration.dispatch.conftest import eventually
from tests.integration.events.sink import Sink
from tidings.events.outbox import enqueue_events
from tidings.events.types import Event

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
COMMON = {
    "AccountId",
    "AccountName",
    "CallbackTimestamp",
    "CallbackToken",
    "CallbackType",
    "CallbackURL",
    "TransactionId",
}


async def subscribed(truedialog: TrueDialog, callback_type: int, url: str) -> str:
    response = await truedialog.subscribe(callback_type, url)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["callbackTypeId"], created["callbackType"], created["Url"]) == (
        callback_type,
        callback_type,
        url,
    )
    location: str = response.headers["location"]
    return location


async def arrived(sink: Sink, count: int = 1) -> None:
    async def enough() -> bool:
        return len(sink.received) >= count

    await eventually(enough, f"{count} callback(s) at the receiver")


async def account_info(truedialog: TrueDialog) -> dict[str, Any]:
    response = await truedialog.http.get(f"/api/v2.1/account/{truedialog.account_id}")
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()
    return info


def check_common(body: dict[str, Any], info: dict[str, Any], callback_type: int, url: str) -> None:
    assert set(body) >= COMMON
    assert body["AccountId"] == info["id"]
    assert body["AccountName"] == "Acme"
    assert body["CallbackToken"] == info["callbackToken"]
    uuid.UUID(body["CallbackToken"])
    uuid.UUID(body["TransactionId"])
    assert body["CallbackType"] == callback_type
    assert body["CallbackURL"] == url
    assert TIMESTAMP.match(body["CallbackTimestamp"]), body["CallbackTimestamp"]


async def emit(truedialog: TrueDialog, event_type: str, data: dict[str, Any]) -> int:
    database = truedialog.running.service.database
    event = Event(truedialog.running.account.id, event_type, data, datetime.now(UTC))
    async with database.write() as connection:
        return await enqueue_events(connection, [event])


async def test_incoming_message_trigger(truedialog: TrueDialog, sink: Sink) -> None:
    url = f"{sink.url}/flows/incoming?sig=abc"
    location = await subscribed(truedialog, 11, url)
    contact = await truedialog.http.post(
        f"/api/v2.1/account/{truedialog.account_id}/contact", json={"PhoneNumber": HANDSET}
    )
    simulator = truedialog.running.service.simulator
    assert simulator is not None

    await simulator.inject_inbound(HANDSET, LONG_CODE, "Hei, onko aukioloaikoja?", timeout=30)
    await arrived(sink)

    [request] = sink.received
    assert (request.method, request.target) == ("POST", "/flows/incoming?sig=abc")
    body = body_of(sink)
    check_common(body, await account_info(truedialog), 11, url)
    assert body["Message"] == "Hei, onko aukioloaikoja?"
    assert body["PhoneNumber"] == HANDSET
    assert body["ChannelCode"] == LONG_CODE
    assert body["ChannelId"] == truedialog.channel_id
    assert body["ContactId"] == contact.json()["id"]

    deleted = await truedialog.http.delete(location)
    assert deleted.status_code == 200, deleted.text
    assert isinstance(deleted.json(), str)
    # Gone: the next event has nobody to go to, and the Location no longer answers.
    assert await emit(truedialog, "message.received", {"from": HANDSET, "to": LONG_CODE}) == 0
    assert (await truedialog.http.delete(location)).status_code == 404


async def test_keyword_trigger(truedialog: TrueDialog, sink: Sink) -> None:
    url = f"{sink.url}/flows/keyword"
    location = await subscribed(truedialog, 1, url)
    data = {
        "message_id": "01JEXAMPLE0000000000000000",
        "from": HANDSET,
        "to": LONG_CODE,
        "body": "JOIN now",
        "keyword": "JOIN",
        "keyword_id": "01JKEYWORD0000000000000000",
        "contact_id": None,
        "timestamp": "2026-12-01T10:00:00.000Z",
    }
    assert await emit(truedialog, "keyword.received", data) == 1
    await arrived(sink)
    body = body_of(sink)
    check_common(body, await account_info(truedialog), 1, url)
    assert (body["Keyword"], body["Message"], body["PhoneNumber"]) == ("JOIN", "JOIN now", HANDSET)
    assert isinstance(body["KeywordId"], int)
    assert (body["ChannelId"], body["ChannelCode"]) == (truedialog.channel_id, LONG_CODE)
    assert body["ContactId"] is None  # nobody with that number
    assert {"CampaignId", "SubscriptionId"} <= set(body)

    assert (await truedialog.http.delete(location)).status_code == 200
    assert await emit(truedialog, "keyword.received", data) == 0


async def test_stop_trigger_renders_missing_keys_as_null(
    truedialog: TrueDialog, sink: Sink
) -> None:
    url = f"{sink.url}/flows/stop"
    location = await subscribed(truedialog, 6, url)
    # Only some of the contract's keys: the rest are null, never an error.
    assert await emit(truedialog, "optout.received", {"from": HANDSET, "to": LONG_CODE}) == 1
    await arrived(sink)
    body = body_of(sink)
    info = await account_info(truedialog)
    check_common(body, info, 6, url)
    assert body["PhoneNumber"] == HANDSET
    assert (body["ContactAccountId"], body["ContactAccountName"]) == (info["id"], "Acme")
    assert body["ContactId"] is None
    assert body["ChannelId"] == truedialog.channel_id

    assert (await truedialog.http.delete(location)).status_code == 200
    assert await emit(truedialog, "optout.received", {"from": HANDSET}) == 0


async def test_delivery_notices_give_outcomes_with_the_definitions_status_ids(
    truedialog: TrueDialog, sink: Sink
) -> None:
    await subscribed(truedialog, 12, f"{sink.url}/flows/dlr")

    def status(name: str, error_code: str | None = None) -> dict[str, Any]:
        return {"message_id": None, "status": name, "error_code": error_code, "to": HANDSET}

    # Handed to the SMSC is no outcome yet: TrueDialog sends no notice for it.
    assert await emit(truedialog, "message.status", status("sent")) == 0
    assert await emit(truedialog, "message.status", status("delivered")) == 1
    assert await emit(truedialog, "message.status", status("undelivered", "UNDELIV:001")) == 1
    assert await emit(truedialog, "message.status", status("expired")) == 1
    await arrived(sink, 3)
    answers = sorted(
        ((body_of(sink, n)["StatusId"], body_of(sink, n)["Status"]) for n in range(3)),
        key=lambda answer: (answer[0], answer[1] or ""),
    )
    # "2 = Delivered; 3 = Undelivered"; Status is "OK" for a delivery, else the error code.
    assert answers == [(2, "OK"), (3, None), (3, "UNDELIV:001")]


async def test_invalid_targets_trigger(truedialog: TrueDialog, sink: Sink) -> None:
    url = f"{sink.url}/flows/invalid"
    location = await subscribed(truedialog, 13, url)
    targets = [
        {"to": "+358401", "reason": 0, "error": "invalid_number", "detail": "not a number"},
        {"to": HANDSET, "reason": 1, "error": "opted_out", "detail": None},
    ]
    assert await emit(truedialog, "message.invalid_targets", {"targets": targets}) == 1
    await arrived(sink)
    body = body_of(sink)
    check_common(body, await account_info(truedialog), 13, url)
    assert body["InvalidTargets"] == [
        {"Target": "+358401", "ReasonId": 0, "Reason": "not a number"},
        {"Target": HANDSET, "ReasonId": 1, "Reason": "opted_out"},
    ]
    assert {"ActionId", "RunId"} <= set(body)

    assert (await truedialog.http.delete(location)).status_code == 200
    assert await emit(truedialog, "message.invalid_targets", {"targets": targets}) == 0


async def test_a_callback_hears_only_its_own_type(truedialog: TrueDialog, sink: Sink) -> None:
    await subscribed(truedialog, 6, f"{sink.url}/stop")
    assert await emit(truedialog, "keyword.received", {"from": HANDSET, "keyword": "X"}) == 0
    listed = await truedialog.http.get(f"/api/v2.1/account/{truedialog.account_id}/callback")
    assert [c["callbackType"] for c in listed.json()] == [6]
    one = await truedialog.http.get(
        f"/api/v2.1/account/{truedialog.account_id}/callback/{listed.json()[0]['id']}"
    )
    assert one.json() == listed.json()[0]
