"""Sending through action-pushcampaign: delivered to the handset, with a delivery notice
callback; Targets, ContactListIds, Schedules, IgnoreInvalidTargets and Execute as TrueDialog."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from tests.dialects.truedialog.conftest import (
    HANDSET,
    LONG_CODE,
    TrueDialog,
    basic,
    body_of,
    open_truedialog,
)
from tests.integration.dispatch.conftest import eventually
from tests.integration.events.sink import Sink
from tests.unit.media import samples
from tidings.core import accounts, campaigns, contacts, lists, messaging, optout, routing
from tidings.core.intake import Intake
from tidings.core.messaging import PreparedSend, SendResult
from tidings.events import subscriptions
from tidings.events.formats.truedialog import FORMAT
from tidings.events.outbox import enqueue_events
from tidings.events.ssrf import TargetPolicy
from tidings.events.types import Event
from tidings.store import truedialog as ids
from tidings.store.models import contacts as contacts_table
from tidings.store.models import messages
from tidings.store.optout import BLOCKED, OPTED_OUT

OTHER_HANDSET = "+358401234568"
SECOND_LONG_CODE = "+358409999998"


async def push(truedialog: TrueDialog, **fields: Any) -> httpx.Response:
    body = {
        "Channels": [str(truedialog.channel_id)],
        "Targets": [HANDSET],
        "CampaignId": 0,
        "Message": "Tervetuloa!",
        "Execute": True,
        **fields,
    }
    return await truedialog.http.post(
        f"/api/v2.1/account/{truedialog.account_id}/action-pushcampaign", json=body
    )


async def stored(truedialog: TrueDialog) -> list[dict[str, Any]]:
    async with truedialog.running.service.database.read() as connection:
        result = await connection.execute(
            select(messages).where(messages.c.direction == "out").order_by(messages.c.id)
        )
        return [dict(row._mapping) for row in result]


async def test_a_push_is_delivered_and_its_delivery_notice_arrives(
    truedialog: TrueDialog, sink: Sink
) -> None:
    url = f"{sink.url}/flows/dlr"
    subscribed = await truedialog.subscribe(12, url)
    assert subscribed.status_code == 201, subscribed.text

    response = await push(truedialog, Message="Tilauksesi on noudettavissa.")
    assert response.status_code == 201, response.text
    action = response.json()
    assert (action["accountId"], action["message"]) == (
        truedialog.account_id,
        "Tilauksesi on noudettavissa.",
    )
    assert isinstance(action["id"], int)

    simulator = truedialog.running.service.simulator
    assert simulator is not None

    async def on_handset() -> bool:
        return bool(simulator.inbox(HANDSET))

    await eventually(on_handset, "the push to reach the handset")
    [received] = simulator.inbox(HANDSET)
    # The handset shows an international sender without its "+" (TON 1 carries that).
    assert (received.text, received.sender) == ("Tilauksesi on noudettavissa.", LONG_CODE[1:])

    def delivered() -> list[dict[str, Any]]:
        return [
            body_of(sink, n) for n in range(len(sink.received)) if body_of(sink, n)["StatusId"] == 2
        ]

    async def notice() -> bool:
        return bool(delivered())

    await eventually(notice, "the delivery notice callback")
    [body] = delivered()
    [message] = await stored(truedialog)
    assert body["CallbackType"] == 12
    assert body["CallbackURL"] == url
    # The definition's StatusIds: "2 = Delivered; 3 = Undelivered; 7 = Unknown".
    assert (body["StatusId"], body["Status"], body["MessageId"]) == (2, "OK", message["id"])
    assert (body["PhoneNumber"], body["ChannelCode"], body["ChannelId"]) == (
        HANDSET,
        LONG_CODE,
        truedialog.channel_id,
    )
    assert body["Message"] == "Tilauksesi on noudettavissa."
    assert body["AccountId"] == truedialog.account_id


async def test_invalid_targets_refuse_the_push_unless_ignored(truedialog: TrueDialog) -> None:
    refused = await push(truedialog, Targets=[HANDSET, "not a number"])
    assert refused.status_code == 400, refused.text
    assert "request.Targets[not a number]" in refused.json()["ModelState"]
    assert await stored(truedialog) == []

    sent = await push(truedialog, Targets=[HANDSET, "not a number"], IgnoreInvalidTargets=True)
    assert sent.status_code == 201, sent.text
    assert [m["recipient"] for m in await stored(truedialog)] == [HANDSET]


async def test_targets_may_be_contact_ids_and_lists_with_exclusions(truedialog: TrueDialog) -> None:
    database = truedialog.running.service.database
    account = truedialog.running.account
    created = await truedialog.http.post(
        f"/api/v2.1/account/{truedialog.account_id}/contact", json={"PhoneNumber": HANDSET}
    )
    contact_id = created.json()["id"]
    staff = await lists.create_list(database, account, "staff")
    away = await lists.create_list(database, account, "away")
    first = await contacts.create_contact(database, account, {"phone": "+358401110001"})
    second = await contacts.create_contact(database, account, {"phone": "+358401110002"})
    await lists.add_members(database, account, staff.id, [first.id, second.id])
    await lists.add_members(database, account, away.id, [second.id])

    response = await push(
        truedialog,
        Targets=[str(contact_id)],
        ContactListIds=[staff.id],
        ExcludeListIds=[away.id],
    )
    assert response.status_code == 201, response.text
    assert response.json()["contactListIds"] == [staff.id]
    assert sorted(m["recipient"] for m in await stored(truedialog)) == sorted(
        [HANDSET, "+358401110001"]
    )


async def test_each_schedule_is_a_scheduled_send(truedialog: TrueDialog) -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    # Without a zone a schedule is in the account's time zone (UTC here).
    schedules = [
        later.strftime("%Y-%m-%dT%H:%M:%S"),
        (later + timedelta(days=1)).isoformat(),
    ]
    response = await push(truedialog, Schedules=schedules)
    assert response.status_code == 201, response.text
    assert response.json()["schedules"] == schedules
    sends = await stored(truedialog)
    assert [m["status"] for m in sends] == ["scheduled", "scheduled"]
    # Both sends were accepted in the same millisecond: their ids do not order them.
    assert sorted(m["send_at"].replace(microsecond=0) for m in sends) == [
        later.replace(microsecond=0),
        (later + timedelta(days=1)).replace(microsecond=0),
    ]


async def test_execute_false_keeps_a_draft_that_sends_when_run(truedialog: TrueDialog) -> None:
    database = truedialog.running.service.database
    account = truedialog.running.account
    staff = await lists.create_list(database, account, "staff")
    member = await contacts.create_contact(database, account, {"phone": "+358401110003"})
    await lists.add_members(database, account, staff.id, [member.id])

    response = await push(truedialog, Execute=False, ContactListIds=[staff.id])
    assert response.status_code == 201, response.text
    action = response.json()
    assert (action["statusId"], action["status"]) == (0, "Pending")
    await asyncio.sleep(0.5)
    assert await stored(truedialog) == []

    async with database.read() as connection:
        campaign_id = await ids.find_target(connection, ids.CAMPAIGN, action["id"], [account.id])
    assert campaign_id is not None
    draft = await campaigns.get_campaign(database, account, campaign_id)
    assert draft.campaign.status == "draft"
    assert draft.campaign.body == "Tervetuloa!"
    await campaigns.run_campaign(database, account, campaign_id)

    simulator = truedialog.running.service.simulator
    assert simulator is not None

    async def both_have_it() -> bool:
        return all(
            [m.text for m in simulator.inbox(number)] == ["Tervetuloa!"]
            for number in (HANDSET, "+358401110003")
        )

    await eventually(both_have_it, "the draft's message on both handsets once run")


async def test_a_draft_checks_its_lists_and_stores_nothing_when_refused(
    truedialog: TrueDialog,
) -> None:
    unknown = await push(truedialog, Execute=False, ContactListIds=["no-such-list"])
    assert unknown.status_code in (400, 404), unknown.text
    forced = await push(truedialog, Execute=False, ForceOptIn=True)
    assert forced.status_code == 400
    assert "request.ForceOptIn" in forced.json()["ModelState"]
    database = truedialog.running.service.database
    listed, _ = await campaigns.list_campaigns(database, truedialog.running.account)
    assert listed == []


async def test_an_opted_out_or_blocked_target_fails_the_push_unless_ignored(
    truedialog: TrueDialog,
) -> None:
    database = truedialog.running.service.database
    account = truedialog.running.account
    await optout.add_suppression(database, account, OPTED_OUT, HANDSET)
    await optout.add_suppression(database, account, BLOCKED, OTHER_HANDSET)

    refused = await push(truedialog, Targets=[HANDSET, OTHER_HANDSET, "+358401110004"])
    assert refused.status_code == 400, refused.text
    state = refused.json()["ModelState"]
    assert f"request.Targets[{HANDSET}]" in state
    assert f"request.Targets[{OTHER_HANDSET}]" in state
    assert "request.Targets[+358401110004]" not in state
    assert await stored(truedialog) == []

    sent = await push(
        truedialog, Targets=[HANDSET, OTHER_HANDSET, "+358401110004"], IgnoreInvalidTargets=True
    )
    assert sent.status_code == 201, sent.text
    assert [m["recipient"] for m in await stored(truedialog)] == ["+358401110004"]


async def test_a_target_opting_out_just_before_the_push_is_stored_fails_the_push(
    truedialog: TrueDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = truedialog.running.service.database
    account = truedialog.running.account
    store_accepted = Intake.submit

    async def opt_out_first(intake: Intake, prepared: PreparedSend) -> SendResult:
        # The handset's STOP lands after the push was checked and before it is stored.
        await optout.add_suppression(database, account, OPTED_OUT, HANDSET)
        monkeypatch.setattr(Intake, "submit", store_accepted)
        return await store_accepted(intake, prepared)

    monkeypatch.setattr(Intake, "submit", opt_out_first)
    refused = await push(truedialog, Targets=[HANDSET, OTHER_HANDSET])

    assert refused.status_code == 400, refused.text
    assert list(refused.json()["ModelState"]) == [f"request.Targets[{HANDSET}]"]
    assert await stored(truedialog) == []


async def test_an_undeliverable_target_fails_the_push_unless_ignored(
    truedialog: TrueDialog,
) -> None:
    database = truedialog.running.service.database
    contact = await contacts.create_contact(
        database, truedialog.running.account, {"phone": HANDSET}
    )
    async with database.write() as connection:
        await connection.execute(
            update(contacts_table)
            .where(contacts_table.c.id == contact.id)
            .values(hard_errors_current=optout.DEFAULT_HARD_ERROR_LIMIT)
        )

    refused = await push(truedialog, Targets=[HANDSET, OTHER_HANDSET])
    assert refused.status_code == 400, refused.text
    assert list(refused.json()["ModelState"]) == [f"request.Targets[{HANDSET}]"]
    assert await stored(truedialog) == []

    sent = await push(truedialog, Targets=[HANDSET, OTHER_HANDSET], IgnoreInvalidTargets=True)
    assert sent.status_code == 201, sent.text
    assert [m["recipient"] for m in await stored(truedialog)] == [OTHER_HANDSET]


async def test_every_delivery_notice_of_a_push_carries_its_action_id(
    truedialog: TrueDialog, sink: Sink
) -> None:
    subscribed = await truedialog.subscribe(12, f"{sink.url}/flows/dlr")
    assert subscribed.status_code == 201, subscribed.text

    response = await push(truedialog, Targets=[HANDSET, OTHER_HANDSET])
    assert response.status_code == 201, response.text
    action_id = response.json()["id"]

    def notices() -> list[dict[str, Any]]:
        return [body_of(sink, n) for n in range(len(sink.received))]

    async def both_delivered() -> bool:
        return {b["PhoneNumber"] for b in notices() if b["StatusId"] == 2} == {
            HANDSET,
            OTHER_HANDSET,
        }

    await eventually(both_delivered, "a delivery notice for each target")
    assert {(b["PhoneNumber"], b["ActionId"]) for b in notices()} == {
        (HANDSET, action_id),
        (OTHER_HANDSET, action_id),
    }


async def test_a_list_push_run_as_a_campaign_names_its_action_in_every_delivery_notice(
    truedialog: TrueDialog, sink: Sink
) -> None:
    database = truedialog.running.service.database
    account = truedialog.running.account
    members = [HANDSET, OTHER_HANDSET]
    everyone = await lists.create_list(database, account, "everyone")
    for number in members:
        contact = await contacts.create_contact(database, account, {"phone": number})
        await lists.add_members(database, account, everyone.id, [contact.id])
    subscribed = await truedialog.subscribe(12, f"{sink.url}/flows/dlr")
    assert subscribed.status_code == 201, subscribed.text

    # Nothing to check up front: the push is a core campaign, answered with its alias.
    response = await push(
        truedialog, Targets=[], ContactListIds=[everyone.id], IgnoreInvalidTargets=True
    )
    assert response.status_code == 201, response.text
    action_id = response.json()["id"]

    def notices() -> list[dict[str, Any]]:
        return [body_of(sink, n) for n in range(len(sink.received))]

    async def both_delivered() -> bool:
        return {b["PhoneNumber"] for b in notices() if b["StatusId"] == 2} == set(members)

    await eventually(both_delivered, "a delivery notice for each member")
    assert {(b["PhoneNumber"], b["ActionId"]) for b in notices()} == {
        (number, action_id) for number in members
    }


async def test_another_accounts_message_labelled_with_a_push_key_names_no_action(
    truedialog: TrueDialog, sink: Sink
) -> None:
    database = truedialog.running.service.database
    # Both messages wait for next week, so the only notices are the two emitted below.
    next_week = datetime.now(UTC) + timedelta(days=7)
    response = await push(truedialog, Schedules=[next_week.isoformat()])
    assert response.status_code == 201, response.text
    [pushed] = await stored(truedialog)
    other = await accounts.create_account(database, "Other", region="FI")
    # A /v1 caller chooses its request ids freely, so it may pick the key of someone's push.
    copied = await messaging.accept_messages(
        database,
        other,
        messaging.SendRequest(
            to=[HANDSET],
            sender="Other",
            body="Hei",
            send_at=next_week,
            request_id=pushed["request_id"],
        ),
    )
    subscribed = await truedialog.subscribe(12, f"{sink.url}/mine")
    assert subscribed.status_code == 201, subscribed.text
    await subscriptions.create_subscription(
        database,
        other.id,
        f"{sink.url}/other",
        ["message.status"],
        policy=TargetPolicy(allow_loopback=True),
        payload_format=FORMAT,
    )

    def delivered(account_id: str, message_id: str | None) -> Event:
        data = {"message_id": message_id, "status": "delivered", "to": HANDSET}
        return Event(account_id, "message.status", data, datetime.now(UTC))

    async with database.write() as connection:
        await enqueue_events(
            connection,
            [
                delivered(truedialog.running.account.id, pushed["id"]),
                delivered(other.id, copied.recipients[0].id),
            ],
        )

    async def both_arrived() -> bool:
        return len(sink.received) == 2

    await eventually(both_arrived, "a delivery notice for each account")
    action_ids = {r.target: body_of(sink, n)["ActionId"] for n, r in enumerate(sink.received)}
    assert action_ids == {"/mine": response.json()["id"], "/other": None}


async def test_a_channel_may_be_named_by_its_code(truedialog: TrueDialog) -> None:
    response = await push(truedialog, Channels=[LONG_CODE], Targets=[OTHER_HANDSET])
    assert response.status_code == 201, response.text
    [message] = await stored(truedialog)
    assert (message["sender"], message["recipient"]) == (LONG_CODE, OTHER_HANDSET)


async def test_channel_22_is_the_accounts_default_long_code(truedialog: TrueDialog) -> None:
    # The connector's default, which its definition says to leave: "Use 22 for default
    # associated Long Code".
    response = await push(truedialog, Channels=["22"], Message="Oletuskanava")
    assert response.status_code == 201, response.text
    assert response.json()["channels"] == ["22"]
    simulator = truedialog.running.service.simulator
    assert simulator is not None

    async def on_handset() -> bool:
        return bool(simulator.inbox(HANDSET))

    await eventually(on_handset, "the push to reach the handset")
    [received] = simulator.inbox(HANDSET)
    assert (received.text, received.sender) == ("Oletuskanava", LONG_CODE[1:])


async def test_channel_22_without_a_long_code_says_what_is_missing(
    tmp_path: Path, database_url: str
) -> None:
    async with open_truedialog(tmp_path, database_url) as truedialog:
        database = truedialog.running.service.database
        other = await accounts.create_account(database, "No numbers", region="FI")
        key = await accounts.create_api_key(database, other.id)
        async with httpx.AsyncClient(
            base_url=str(truedialog.http.base_url), headers=basic(key.key.id, key.secret)
        ) as http:
            account_id = (await http.get("/api/v2.1/userinfo")).json()["accountId"]
            body = {"Channels": ["22"], "Targets": [HANDSET], "CampaignId": 0, "Message": "x"}
            body |= {"Execute": True}
            response = await http.post(
                f"/api/v2.1/account/{account_id}/action-pushcampaign", json=body
            )
        assert response.status_code == 404, response.text
        assert "no long code" in response.json()["Message"]


async def test_every_channel_of_a_push_sends_to_every_target(truedialog: TrueDialog) -> None:
    database = truedialog.running.service.database
    await routing.add_sender(database, truedialog.running.account, SECOND_LONG_CODE)
    response = await push(
        truedialog,
        # Channel 22 and the id of the same long code are one channel.
        Channels=["22", str(truedialog.channel_id), SECOND_LONG_CODE],
        Targets=[HANDSET, OTHER_HANDSET],
        Message="Kahdelta kanavalta",
    )
    assert response.status_code == 201, response.text
    sent = {(m["sender"], m["recipient"]) for m in await stored(truedialog)}
    assert sent == {
        (LONG_CODE, HANDSET),
        (LONG_CODE, OTHER_HANDSET),
        (SECOND_LONG_CODE, HANDSET),
        (SECOND_LONG_CODE, OTHER_HANDSET),
    }
    assert len(await stored(truedialog)) == 4
    # One channel the account does not have refuses the whole push.
    refused = await push(truedialog, Channels=["22", "424242"], Message="Ei lähde")
    assert refused.status_code == 404, refused.text
    assert len(await stored(truedialog)) == 4


async def test_a_push_over_several_channels_is_refused_whole_when_a_target_is(
    truedialog: TrueDialog,
) -> None:
    database = truedialog.running.service.database
    account = truedialog.running.account
    await routing.add_sender(database, account, SECOND_LONG_CODE)
    # An opt-out from one of our numbers only.
    await optout.add_suppression(database, account, OPTED_OUT, HANDSET, sender=SECOND_LONG_CODE)
    refused = await push(truedialog, Channels=["22", SECOND_LONG_CODE])
    assert refused.status_code == 400, refused.text
    assert await stored(truedialog) == []
    ignored = await push(truedialog, Channels=["22", SECOND_LONG_CODE], IgnoreInvalidTargets=True)
    assert ignored.status_code == 201, ignored.text
    assert [(m["sender"], m["recipient"]) for m in await stored(truedialog)] == [
        (LONG_CODE, HANDSET)
    ]


async def test_a_push_names_the_gateway_campaign(truedialog: TrueDialog) -> None:
    # TrueDialog campaigns (and their single use) are not served: campaign 0 is the gateway.
    response = await push(truedialog, CampaignId=7)
    assert response.status_code == 400, response.text
    assert "request.CampaignId" in response.json()["ModelState"]
    assert await stored(truedialog) == []


@pytest.mark.parametrize("ignore_single_use", [False, True])
async def test_a_repeated_push_is_sent_again_whatever_ignore_single_use_says(
    truedialog: TrueDialog, ignore_single_use: bool
) -> None:
    # Single use is a property of a TrueDialog campaign; pushes through the connector use
    # campaign 0, the gateway campaign, which is not single use (docs/dialects.md).
    for _ in range(2):
        response = await push(truedialog, IgnoreSingleUse=ignore_single_use)
        assert response.status_code == 201, response.text
        assert response.json()["ignoreSingleUse"] is ignore_single_use
    assert [m["recipient"] for m in await stored(truedialog)] == [HANDSET, HANDSET]


@pytest.fixture
async def capped(tmp_path: Path, database_url: str) -> AsyncIterator[TrueDialog]:
    """A service that takes at most two recipients per request."""
    async with open_truedialog(tmp_path, database_url, max_recipients=2) as truedialog:
        yield truedialog


async def test_a_list_push_ignoring_invalid_targets_is_a_campaign_beyond_the_request_cap(
    capped: TrueDialog, sink: Sink
) -> None:
    database = capped.running.service.database
    account = capped.running.account
    members = ["+358401110011", "+358401110012", "+358401110013"]
    everyone = await lists.create_list(database, account, "everyone")
    for number, name in zip(members, ["Aino", "Eino", "Ilona"], strict=True):
        contact = await contacts.create_contact(
            database, account, {"phone": number, "first_name": name}
        )
        await lists.add_members(database, account, everyone.id, [contact.id])
    await optout.add_suppression(database, account, OPTED_OUT, members[2])
    subscribed = await capped.subscribe(13, f"{sink.url}/invalid")
    assert subscribed.status_code == 201, subscribed.text

    # Checked up front, three members are more than one request holds.
    checked = await push(
        capped, Targets=[], ContactListIds=[everyone.id], Message="Hei {first_name}"
    )
    assert checked.status_code == 400, checked.text
    assert "request.ContactListIds" in checked.json()["ModelState"]

    response = await push(
        capped,
        Targets=[],
        ContactListIds=[everyone.id],
        Message="Hei {first_name}",
        IgnoreInvalidTargets=True,
    )
    assert response.status_code == 201, response.text
    simulator = capped.running.service.simulator
    assert simulator is not None

    async def delivered() -> bool:
        return [m.text for m in simulator.inbox(members[0])] == ["Hei Aino"] and [
            m.text for m in simulator.inbox(members[1])
        ] == ["Hei Eino"]

    await eventually(delivered, "each member's own message")
    assert simulator.inbox(members[2]) == []

    async def refused() -> bool:
        return any(r.target == "/invalid" for r in sink.received)

    await eventually(refused, "the invalid-targets callback")
    [invalid] = [body_of(sink, i) for i, r in enumerate(sink.received) if r.target == "/invalid"]
    assert invalid["ActionId"] == response.json()["id"]
    assert [t["Target"] for t in invalid["InvalidTargets"]] == [members[2]]


async def test_a_push_with_a_media_id_sends_an_mms(truedialog: TrueDialog) -> None:
    unknown = await push(truedialog, MediaId=42)
    assert unknown.status_code == 400, unknown.text
    assert "request.MediaId" in unknown.json()["ModelState"]
    assert await stored(truedialog) == []
    photo = samples.jpeg_with_metadata(120, 90)
    uploaded = await truedialog.http.post(
        f"/api/v2.1/account/{truedialog.account_id}/media",
        json={"Content": base64.b64encode(photo).decode(), "FileName": "sale.jpg"},
    )
    assert uploaded.status_code == 201, uploaded.text
    media = uploaded.json()
    assert isinstance(media["id"], int) and media["mimeType"] == "image/jpeg"
    # A handset that fetches its MMS (the MMSC's rules: numbers ending 7 never do).
    handset = "+358401234561"
    sent = await push(truedialog, MediaId=media["id"], Subject="Sale", Targets=[handset])
    assert sent.status_code == 201, sent.text
    assert sent.json()["mediaId"] == str(media["id"])
    simulator = truedialog.running.service.simulator
    assert simulator is not None and simulator.mmsc is not None
    mmsc = simulator.mmsc

    async def arrived() -> bool:
        return bool(mmsc.inbox(handset))

    await eventually(arrived, "the MMS on the handset")
    [shown] = mmsc.inbox(handset)
    assert (shown.subject, shown.text) == ("Sale", "Tervetuloa!")
    [row] = await stored(truedialog)
    assert row["channel"] == "mms"
    # Over the size limit of the route the push's MMS take: refused, nothing stored.
    await truedialog.running.change_route("mms", settings={"max_media_bytes": 1024})
    over = await push(truedialog, MediaId=media["id"], Subject="Sale", Targets=[handset])
    assert over.status_code == 400, over.text
    [reason] = over.json()["ModelState"]["request.MediaId"]
    assert "1,024" in reason and "route mms" in reason
    assert len(await stored(truedialog)) == 1


async def test_list_pushes_and_drafts_with_a_media_id_are_mms_campaigns(
    truedialog: TrueDialog,
) -> None:
    database = truedialog.running.service.database
    account = truedialog.running.account
    members = ["+358401110011", "+358401110021"]
    everyone = await lists.create_list(database, account, "everyone")
    for number in members:
        contact = await contacts.create_contact(database, account, {"phone": number})
        await lists.add_members(database, account, everyone.id, [contact.id])
    uploaded = await truedialog.http.post(
        f"/api/v2.1/account/{truedialog.account_id}/media",
        json={"Content": base64.b64encode(samples.png(80, 60)).decode(), "FileName": "a.png"},
    )
    media_id = uploaded.json()["id"]
    common = {"Targets": [], "ContactListIds": [everyone.id], "MediaId": media_id}
    # A list push that ignores invalid targets runs as a campaign, expanded page by page.
    listed = await push(truedialog, **common, Subject="Sale", IgnoreInvalidTargets=True)
    assert listed.status_code == 201, listed.text
    # A push not executed is a draft, sent when run.
    drafted = await push(truedialog, **common, Subject="Later", Execute=False)
    assert drafted.status_code == 201, drafted.text
    async with database.read() as connection:
        draft_id = await ids.find_target(
            connection, ids.CAMPAIGN, drafted.json()["id"], [account.id]
        )
    assert draft_id is not None
    await campaigns.run_campaign(database, account, draft_id)
    simulator = truedialog.running.service.simulator
    assert simulator is not None and simulator.mmsc is not None
    mmsc = simulator.mmsc

    async def all_arrived() -> bool:
        return all(len(mmsc.inbox(number)) == 2 for number in members)

    await eventually(all_arrived, "both campaigns' MMS on every member's handset")
    for number in members:
        shown = sorted(
            (m.subject, m.text, [p.content_type for p in m.parts if not p.is_text])
            for m in mmsc.inbox(number)
        )
        assert shown == [
            ("Later", "Tervetuloa!", ["image/png"]),
            ("Sale", "Tervetuloa!", ["image/png"]),
        ]
    assert {row["channel"] for row in await stored(truedialog)} == {"mms"}
