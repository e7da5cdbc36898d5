"""Request ids as long as an API takes them (SmartDialog's RequestId: up to 1,000 characters)
are accepted, replay within the window, and never fail the batch they are stored with."""

from __future__ import annotations

import pytest

from tidings.core import accounts, messaging
from tidings.errors import InvalidRequest
from tidings.store.engine import Database

SENDER = "Tidings"
HANDSET = "+358401110005"


def request(request_id: str) -> messaging.SendRequest:
    return messaging.SendRequest(to=[HANDSET], sender=SENDER, body="Hei", request_id=request_id)


async def test_a_long_request_id_is_stored_with_its_batch_and_replays(database: Database) -> None:
    account = await accounts.create_account(database, "Long ids", region="FI")
    longest = "r" * messaging.MAX_REQUEST_ID
    # Wider than the column that keeps a replay key (kept as its digest), stored with an
    # ordinary send.
    long_send = messaging.prepare_send(account, request(longest))
    ordinary = messaging.prepare_send(account, request("short-1"))

    first, second = await messaging.store_sends(database, [long_send, ordinary])

    assert isinstance(first, messaging.SendResult) and first.accepted == 1
    assert isinstance(second, messaging.SendResult) and second.accepted == 1
    replay = await messaging.accept_messages(database, account, request(longest))
    assert replay.replayed
    assert replay.recipients == first.recipients
    # Another id that starts the same is another request.
    other = await messaging.accept_messages(database, account, request("r" * 999 + "s"))
    assert not other.replayed
    stored, _ = await messaging.list_messages(database, account, limit=10)
    assert len(stored) == 3
    # Each message shows the request id it was sent with, whole.
    shown = await messaging.get_message(database, account, first.recipients[0].id or "")
    assert shown.message.request_id == longest


async def test_a_request_id_longer_than_any_api_takes_is_refused(database: Database) -> None:
    account = await accounts.create_account(database, "Too long", region="FI")
    with pytest.raises(InvalidRequest) as refused:
        messaging.prepare_send(account, request("r" * (messaging.MAX_REQUEST_ID + 1)))
    assert refused.value.field == "request_id"
