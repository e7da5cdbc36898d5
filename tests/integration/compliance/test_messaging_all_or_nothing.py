"""Sends that want every recipient or none (TrueDialog's IgnoreInvalidTargets=false): core
refuses them whole in the transaction that would store them, so a number that opts out after
the send was prepared refuses it too, while the sends committed with it are stored as usual."""

from __future__ import annotations

import json

from tidings.core import accounts, messaging, optout
from tidings.events import subscriptions
from tidings.events.ssrf import TargetPolicy
from tidings.store import outbox as outbox_store
from tidings.store.engine import Database
from tidings.store.optout import OPTED_OUT
from tidings.store.records import AccountRecord

SENDER = "+358409999999"
OPTS_OUT_LATE = "+358401110001"
FREE = "+358401110005"


def prepare(
    account: AccountRecord,
    to: list[str],
    *,
    all_or_nothing: bool,
    key: str | None = None,
) -> messaging.PreparedSend:
    return messaging.prepare_send(
        account,
        messaging.SendRequest(
            to=to, sender=SENDER, body="Hei", request_id=key, all_or_nothing=all_or_nothing
        ),
    )


async def recipients_stored(database: Database, account: AccountRecord) -> list[str]:
    stored, _ = await messaging.list_messages(database, account, limit=100)
    return sorted(message.recipient for message in stored)


async def test_an_opt_out_after_preparing_refuses_the_whole_send_and_stores_none_of_it(
    database: Database,
) -> None:
    account = await accounts.create_account(database, "Screened", region="FI")
    subscription = await subscriptions.create_subscription(
        database,
        account.id,
        "http://127.0.0.1:9/invalid-targets",
        [optout.INVALID_TARGETS],
        policy=TargetPolicy(allow_loopback=True),
    )
    whole = prepare(account, [OPTS_OUT_LATE, FREE], all_or_nothing=True, key="push-1")
    repeat = prepare(account, [OPTS_OUT_LATE, FREE], all_or_nothing=True, key="push-1")
    partial = prepare(account, [OPTS_OUT_LATE, FREE], all_or_nothing=False, key="send-2")
    # Prepared while the number could still be sent to; it opts out before the batch commits.
    await optout.add_suppression(database, account, OPTED_OUT, OPTS_OUT_LATE)

    outcomes = await messaging.store_sends(database, [whole, repeat, partial])

    refused, refused_repeat, stored = outcomes
    assert isinstance(refused, messaging.RecipientsRefused), refused
    assert [(r.to, r.error, r.reason) for r in refused.refused] == [
        (OPTS_OUT_LATE, messaging.RecipientError.OPTED_OUT, messaging.InvalidTargetReason.OPTED_OUT)
    ]
    # A repeat of its key in the same batch is refused with it, not answered as stored.
    assert isinstance(refused_repeat, messaging.RecipientsRefused)
    # The send stored in the same transaction loses only the opted-out number.
    assert isinstance(stored, messaging.SendResult)
    assert {r.to: r.error for r in stored.recipients} == {OPTS_OUT_LATE: "opted_out", FREE: None}
    assert await recipients_stored(database, account) == [FREE]
    # Only the stored send reports its invalid target; the refused one was answered instead.
    async with database.read() as connection:
        items = await outbox_store.list_items(connection, subscription_id=subscription.id)
    assert len(items) == 1
    assert items[0].body is not None
    assert json.loads(items[0].body)["data"]["request_id"] == "send-2"

    # Nothing was kept under the refused key: once the number may be sent to, it is a new send.
    [entry], _ = await optout.list_suppressions(database, account, OPTED_OUT)
    await optout.remove_suppression(database, account, OPTED_OUT, entry.id)
    retried = await messaging.store_send(
        database, prepare(account, [OPTS_OUT_LATE, FREE], all_or_nothing=True, key="push-1")
    )
    assert not retried.replayed
    assert retried.accepted == 2
    assert await recipients_stored(database, account) == sorted([FREE, OPTS_OUT_LATE, FREE])


async def test_an_invalid_number_refuses_an_all_or_nothing_send(database: Database) -> None:
    account = await accounts.create_account(database, "Strict", region="FI")
    send = prepare(account, [FREE, "not a number"], all_or_nothing=True)

    [outcome] = await messaging.store_sends(database, [send])

    assert isinstance(outcome, messaging.RecipientsRefused)
    assert [r.to for r in outcome.refused] == ["not a number"]
    assert await recipients_stored(database, account) == []


async def test_a_request_id_that_is_no_replay_key_only_labels_the_messages(
    database: Database,
) -> None:
    account = await accounts.create_account(database, "Labelled", region="FI")
    request = messaging.SendRequest(
        to=[FREE], sender=SENDER, body="Hei", request_id="action-1", replay_by_request_id=False
    )
    first = await messaging.accept_messages(database, account, request)
    second = await messaging.accept_messages(database, account, request)

    assert not second.replayed
    assert first.recipients[0].id != second.recipients[0].id
    stored, _ = await messaging.list_messages(database, account, limit=100)
    assert [message.request_id for message in stored] == ["action-1", "action-1"]
