"""MMS end to end over real HTTP and the real MM7 wire format: POST /v1/messages with media
and a subject, the MM7 transport, the embedded MMSC, its delivery reports back through our MM7
endpoint; MMS from handsets into inbound messages with their attachments, STOP included."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from PIL import Image
from sqlalchemy import delete

from tests.integration.console.conftest import PASSWORD, sign_in
from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.integration.events.sink import Sink
from tests.ports import free_port
from tests.unit.media import samples
from tidings.core import console_users, routing
from tidings.mm7.status import MMStatus
from tidings.simulator.mmsc import Attachment, Mmsc, MmsOutcome, MmsOutcomeRule
from tidings.store.models import media as media_table

OUR_NUMBER = "+358409990001"


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(tmp_path, database_url, simulator_mms_port=free_port())
    async with running_service(settings) as service:
        registered = await service.http.post("/v1/senders", json={"address": OUR_NUMBER})
        assert registered.status_code == 201, registered.text
        yield service


def _mmsc(running: Running) -> Mmsc:
    simulator = running.service.simulator
    assert simulator is not None and simulator.mmsc is not None
    return simulator.mmsc


async def _inject_picture(
    running: Running, handset: str, *, subject: str, text: str, name: str, size: tuple[int, int]
) -> bytes:
    """A handset sends us an MMS with a JPEG; the JPEG's bytes."""
    photo = samples.jpeg_with_metadata(*size)
    await _mmsc(running).inject(
        handset,
        OUR_NUMBER,
        subject=subject,
        text=text,
        attachments=[Attachment("image/jpeg", photo, name)],
    )
    return photo


async def test_an_mms_with_a_photo_reaches_the_handset_and_is_delivered(running: Running) -> None:
    big = samples.png(1500, 1000, noisy=True)
    uploaded = await running.http.post("/v1/media", files={"file": ("holiday.png", big)})
    assert uploaded.status_code == 201, uploaded.text
    media_id = uploaded.json()["id"]
    message_id = await running.send_one(
        "+358401234561",
        **{"from": OUR_NUMBER, "body": "Greetings from the beach", "subject": "Holiday"},
        media=[media_id],
    )
    done = await running.wait_for(message_id)
    assert done["status"] == "delivered", done
    assert done["channel"] == "mms" and done["subject"] == "Holiday"
    [item] = done["media"]
    assert item["id"] == media_id and item["content_type"] == "image/png"
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(item["url"])).content == big
    [shown] = _mmsc(running).inbox("+358401234561")
    assert (shown.subject, shown.text, shown.sender) == (
        "Holiday",
        "Greetings from the beach",
        OUR_NUMBER,
    )
    [photo] = [p for p in shown.parts if p.content_type.startswith("image/")]
    assert len(photo.data) <= 300 * 1024  # converted to fit the route
    with Image.open(io.BytesIO(photo.data)) as image:
        assert image.width / image.height == pytest.approx(1.5, rel=0.01)
    # The history keeps what the MMSC said.
    assert any(entry["status"] == "delivered" for entry in done["history"])


async def test_statuses_are_what_the_mmsc_reported(running: Running) -> None:
    rejected = await running.send_one(
        "+358401234560", **{"from": OUR_NUMBER, "body": "hello", "subject": "Hi"}
    )
    expired = await running.send_one(
        "+358401234567", **{"from": OUR_NUMBER, "body": "hello", "subject": "Hi"}
    )
    assert (await running.wait_for(rejected))["status"] == "undelivered"
    assert (await running.wait_for(expired))["status"] == "expired"


async def test_every_delivery_report_status_becomes_the_status_it_means(
    running: Running,
) -> None:
    reports = {
        "+358401234591": MMStatus.FORWARDED,
        "+358401234592": MMStatus.DEFERRED,
        "+358401234593": MMStatus.INDETERMINATE,
        "+358401234594": MMStatus.DELIVERY_CONDITION_NOT_MET,
    }
    _mmsc(running).set_rules(
        [
            MmsOutcomeRule(MmsOutcome(mm_status), suffix=number[-2:])
            for number, mm_status in reports.items()
        ]
    )
    sent = {
        number: await running.send_one(number, **{"from": OUR_NUMBER, "subject": "Hi"})
        for number in reports
    }
    assert (await running.wait_for(sent["+358401234591"]))["status"] == "delivered"
    assert (await running.wait_for(sent["+358401234593"], {"unknown"}))["status"] == "unknown"
    assert (await running.wait_for(sent["+358401234594"]))["status"] == "undelivered"

    # Deferred is progress, not an outcome: noted in the history, the message still sent.
    async def deferred_noted() -> bool:
        message = await running.message(sent["+358401234592"])
        return any("Deferred" in (entry.get("detail") or "") for entry in message["history"])

    await eventually(deferred_noted, "the Deferred report in the history")
    assert (await running.message(sent["+358401234592"]))["status"] == "sent"


async def test_what_an_mms_cannot_be_is_refused_at_the_door(running: Running) -> None:
    too_long = await running.http.post(
        "/v1/messages",
        json={"to": "+358401234561", "from": OUR_NUMBER, "body": "x", "subject": "s" * 41},
    )
    assert too_long.status_code == 422 and "40 characters" in too_long.text
    named = await running.http.post(
        "/v1/messages",
        json={"to": "+358401234561", "from": "Acme", "body": "x", "channel": "mms"},
    )
    assert named.status_code == 422 and "number or a short code" in named.text
    missing = await running.http.post(
        "/v1/messages",
        json={"to": "+358401234561", "from": OUR_NUMBER, "body": "x", "media": ["NOPE"]},
    )
    assert missing.status_code == 422 and "media[0]" in missing.text
    sms_with_media = await running.http.post(
        "/v1/messages",
        json={
            "to": "+358401234561",
            "from": OUR_NUMBER,
            "body": "x",
            "channel": "sms",
            "subject": "Hi",
        },
    )
    assert sms_with_media.status_code == 422 and "for MMS" in sms_with_media.text


async def test_an_mms_from_a_handset_is_an_inbound_message_with_its_attachments(
    running: Running,
) -> None:
    photo = await _inject_picture(
        running,
        "+358401234562",
        subject="Look",
        text="My new cat",
        name="cat.jpg",
        size=(200, 100),
    )

    async def arrived() -> bool:
        page = (await running.http.get("/v1/inbound")).json()
        return bool(page["data"])

    await eventually(arrived, "the inbound MMS")
    [message] = (await running.http.get("/v1/inbound")).json()["data"]
    assert (message["channel"], message["subject"], message["body"]) == (
        "mms",
        "Look",
        "My new cat",
    )
    detail = (await running.http.get(f"/v1/messages/{message['id']}")).json()
    [attachment] = detail["media"]
    assert (attachment["content_type"], attachment["name"]) == ("image/jpeg", "cat.jpg")
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(attachment["url"])).content == photo
    # The thread and the inbox show the picture with a link that fetches it.
    threads = (await running.http.get("/v1/threads")).json()
    [thread] = [t for t in threads["data"] if t["contact_number"] == "+358401234562"]
    in_thread = (await running.http.get(f"/v1/threads/{thread['id']}")).json()["messages"]
    [in_inbox] = (await running.http.get("/v1/inbound")).json()["data"][0]["media"]
    async with httpx.AsyncClient() as anonymous:
        for shown in (in_thread[0]["media"][0], in_inbox):
            assert (await anonymous.get(shown["url"])).content == photo


async def test_the_webhook_of_an_inbound_mms_carries_its_files(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(
        tmp_path, database_url, simulator_mms_port=free_port(), webhook_allow_loopback=True
    )
    sink = Sink()
    await sink.start()
    try:
        async with running_service(settings) as running:
            await running.http.post("/v1/senders", json={"address": OUR_NUMBER})
            subscribed = await running.http.post(
                "/v1/webhooks", json={"url": f"{sink.url}/hook", "events": ["message.received"]}
            )
            assert subscribed.status_code == 201, subscribed.text
            photo = await _inject_picture(
                running,
                "+358401234565",
                subject="Receipt",
                text="Here it is",
                name="receipt.jpg",
                size=(100, 60),
            )

            async def posted() -> bool:
                return bool(sink.received)

            await eventually(posted, "the message.received webhook")
            event = json.loads(sink.received[0].body)
            data = event["data"]
            assert (event["type"], data["channel"], data["subject"]) == (
                "message.received",
                "mms",
                "Receipt",
            )
            [attachment] = data["content"]["attachments"]
            assert (attachment["content_type"], attachment["name"]) == ("image/jpeg", "receipt.jpg")
            async with httpx.AsyncClient() as anonymous:
                assert (await anonymous.get(attachment["url"])).content == photo
    finally:
        await sink.stop()


async def test_the_console_thread_shows_an_inbound_mms_s_picture(running: Running) -> None:
    photo = await _inject_picture(
        running,
        "+358401234564",
        subject="Parcel",
        text="Arrived broken",
        name="box.jpg",
        size=(120, 80),
    )

    async def arrived() -> bool:
        return bool((await running.http.get("/v1/threads")).json()["data"])

    await eventually(arrived, "the inbound MMS's thread")
    [thread] = (await running.http.get("/v1/threads")).json()["data"]
    await console_users.create_user(
        running.service.database, running.account.id, "desk@example.com", PASSWORD
    )
    origin = f"http://127.0.0.1:{running.service.http_port}"
    async with httpx.AsyncClient(
        base_url=origin, headers={"Origin": origin, "Accept": "text/html"}
    ) as person:
        await sign_in(person, "desk@example.com")
        page = (await person.get(f"/conversations/{thread['id']}")).text
        assert "Parcel" in page and "Arrived broken" in page
        found = re.search(r'<img class="bubble-image" src="([^"]+)" alt="box.jpg"', page)
        assert found, page
        # The page's own origin serves the picture through the signed link.
        picture = await person.get(html.unescape(found.group(1)))
        assert picture.content == photo
        [received] = (await running.http.get("/v1/inbound")).json()["data"]
        detail = (await person.get(f"/messages/{received['id']}")).text
        assert re.search(r'<img class="bubble-image" src="/v1/media/[^"]+" alt="box.jpg"', detail)


async def test_stop_by_mms_opts_the_number_out_as_by_sms(running: Running) -> None:
    await _mmsc(running).inject("+358401234563", OUR_NUMBER, text="STOP")

    async def opted_out() -> bool:
        answer = await running.http.post(
            "/v1/messages", json={"to": "+358401234563", "from": OUR_NUMBER, "body": "again?"}
        )
        return "error" in answer.json()["messages"][0]

    await eventually(opted_out, "the STOP to opt the number out")


async def test_a_handset_without_mms_gets_an_sms_with_links_when_asked(running: Running) -> None:
    uploaded = await running.http.post(
        "/v1/media", files={"file": ("offer.jpg", samples.jpeg_with_metadata())}
    )
    media_id = uploaded.json()["id"]
    common = {"from": OUR_NUMBER, "body": "20% off today", "subject": "Offer", "media": [media_id]}
    asked = await running.send_one("+358401234568", **common, fallback_sms=True)
    not_asked = await running.send_one("+358401234578", **common)
    for message_id in (asked, not_asked):
        done = await running.wait_for(message_id)
        assert (done["status"], done["error_code"]) == ("undelivered", "MM7_UNRECOGNISED")
    simulator = running.service.simulator
    assert simulator is not None

    async def sms_arrived() -> bool:
        return bool(simulator.inbox("+358401234568"))

    await eventually(sms_arrived, "the SMS that goes instead")
    [sms] = simulator.inbox("+358401234568")
    assert sms.sender == OUR_NUMBER.removeprefix("+")  # international, TON 1, in SMPP
    lines = sms.text.split("\n")
    assert lines[:2] == ["Offer", "20% off today"]
    async with httpx.AsyncClient() as anonymous:
        fetched = await anonymous.get(lines[2])
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg"
    sent = (await running.http.get("/v1/messages", params={"recipient": "+358401234568"})).json()
    channels = sorted(m["channel"] for m in sent["data"])
    assert channels == ["mms", "sms"]
    assert simulator.inbox("+358401234578") == []


async def test_the_account_s_default_sends_the_sms_unless_the_send_says_otherwise(
    running: Running,
) -> None:
    account = await running.http.patch("/v1/account", json={"mms_fallback_sms": True})
    assert account.status_code == 200 and account.json()["mms_fallback_sms"] is True
    assert (await running.http.get("/v1/account")).json()["mms_fallback_sms"] is True
    uploaded = await running.http.post(
        "/v1/media", files={"file": ("offer.jpg", samples.jpeg_with_metadata())}
    )
    media = [uploaded.json()["id"]]
    common = {"from": OUR_NUMBER, "body": "Sale", "subject": "Offer", "media": media}
    declined = await running.send_one("+358401234598", **common, fallback_sms=False)
    await running.wait_for(declined)
    by_default = await running.send_one("+358401234588", **common)
    done = await running.wait_for(by_default)
    assert (done["status"], done["error_code"]) == ("undelivered", "MM7_UNRECOGNISED")
    simulator = running.service.simulator
    assert simulator is not None

    async def sms_arrived() -> bool:
        return bool(simulator.inbox("+358401234588"))

    await eventually(sms_arrived, "the SMS the account's default sends")
    [sms] = simulator.inbox("+358401234588")
    assert sms.text.split("\n")[:2] == ["Offer", "Sale"]
    assert simulator.inbox("+358401234598") == []


async def test_a_file_the_route_cannot_take_is_refused_or_fails_the_mms_with_the_reason(
    running: Running,
) -> None:
    # An MMSC route that takes sounds only, the route of one sender.
    database, transports = running.service.database, running.service.transports
    mms = await routing.get_route(database, "mms")
    await routing.create_route(
        database,
        transports,
        name="sounds-only",
        kind="mm7",
        settings={**mms.settings, **mms.secrets, "content_types": ["audio/mpeg", "audio/amr"]},
        channels=["mms"],
    )
    sender = "+358409990008"
    await routing.add_sender(database, running.account, sender, route_name="sounds-only")
    uploaded = await running.http.post("/v1/media", files={"file": ("p.png", samples.png(60, 40))})
    picture = {"from": sender, "to": "+358401234582", "media": [uploaded.json()["id"]]}
    # Refused when it is sent: nothing is stored that could only fail.
    refused = await running.http.post("/v1/messages", json=picture)
    assert refused.status_code == 415, refused.text
    assert refused.json()["detail"] == (
        "media[0] cannot be sent over route sounds-only, whose MMS are at most 307,200 bytes: "
        "The route takes no image type (JPEG, PNG or GIF)."
    )
    assert (await running.http.get("/v1/messages")).json()["data"] == []

    # Accepted while the route took pictures, then the route changed before it was sent: the
    # message fails with the reason. (Its send_at leaves the dispatcher, which reads routes
    # again every 5 s, ample time to take the change, even on a loaded machine.)
    await running.change_route("sounds-only", settings={"content_types": None})
    send_at = (datetime.now(UTC) + timedelta(seconds=20)).isoformat()
    message_id = await running.send_one(
        "+358401234582", **{"from": sender, "media": picture["media"], "send_at": send_at}
    )
    await running.change_route("sounds-only", settings={"content_types": ["audio/mpeg"]})
    done = await running.wait_for(message_id)
    assert done["status"] == "failed"
    assert done["error_detail"] == "The route takes no image type (JPEG, PNG or GIF).", done
    assert _mmsc(running).inbox("+358401234582") == []


async def test_an_mms_whose_file_is_gone_fails_with_the_reason(running: Running) -> None:
    uploaded = await running.http.post(
        "/v1/media", files={"file": ("menu.png", samples.png(60, 40))}
    )
    media_id = uploaded.json()["id"]
    # Far enough ahead that the file is gone before it, even with two workers sharing the cores.
    send_at = (datetime.now(UTC) + timedelta(seconds=10)).isoformat()
    message_id = await running.send_one(
        "+358401234581", **{"from": OUR_NUMBER, "media": [media_id], "send_at": send_at}
    )
    # Removed before it is sent (by hand here; nothing else removes what a message names).
    async with running.service.database.write() as connection:
        await connection.execute(delete(media_table).where(media_table.c.id == media_id))
    done = await running.wait_for(message_id)
    assert done["status"] == "failed"
    assert media_id in (done["error_detail"] or ""), done


async def test_a_campaign_with_media_sends_an_mms_to_every_target(running: Running) -> None:
    uploaded = await running.http.post(
        "/v1/media", files={"file": ("menu.png", samples.png(90, 60))}
    )
    media_id = uploaded.json()["id"]
    targets = ["+358401234591", "+358401234592"]
    campaign = {"name": "Menu", "from": OUR_NUMBER, "body": "Hei {first_name|there}", "to": targets}
    as_sms = await running.http.post(
        "/v1/campaigns", json={**campaign, "channel": "sms", "media": [media_id]}
    )
    assert as_sms.status_code == 422, as_sms.text
    created = await running.http.post(
        "/v1/campaigns", json={**campaign, "media": [media_id], "subject": "Spring menu"}
    )
    assert created.status_code == 201, created.text
    view = created.json()
    assert (view["channel"], view["subject"]) == ("mms", "Spring menu")
    assert [m["id"] for m in view["media"]] == [media_id]
    mmsc = _mmsc(running)

    async def everyone_has_it() -> bool:
        return all(mmsc.inbox(number) for number in targets)

    await eventually(everyone_has_it, "the campaign's MMS on every handset")
    for number in targets:
        [shown] = mmsc.inbox(number)
        assert (shown.subject, shown.text) == ("Spring menu", "Hei there")
        assert [p.content_type for p in shown.parts if not p.is_text] == ["image/png"]


async def test_the_preview_shows_each_file_after_conversion(running: Running) -> None:
    big = samples.png(1200, 800, noisy=True)
    media_id = (await running.http.post("/v1/media", files={"file": ("p.png", big)})).json()["id"]
    preview = await running.http.post(
        "/v1/messages/preview",
        json={"to": "+358401234561", "from": OUR_NUMBER, "body": "hi", "media": [media_id]},
    )
    assert preview.status_code == 200, preview.text
    [item] = preview.json()["media"]
    assert (item["id"], item["content_type"], item["size"]) == (media_id, "image/png", len(big))
    assert item["sent_content_type"] == "image/jpeg"
    assert item["sent_size"] <= item["max_bytes"] == 300 * 1024
    assert item["route"] == "mms"
    plain = await running.http.post(
        "/v1/messages/preview", json={"to": "+358401234561", "from": OUR_NUMBER, "body": "hi"}
    )
    assert plain.json()["media"] is None


async def test_the_preview_converts_for_the_route_the_sender_takes(running: Running) -> None:
    # A second MMSC route that takes messages of at most 40,000 bytes, the route of one sender.
    database, transports = running.service.database, running.service.transports
    mms = await routing.get_route(database, "mms")
    small_route = await routing.create_route(
        database,
        transports,
        name="small-mms",
        kind="mm7",
        settings={**mms.settings, **mms.secrets, "max_message_bytes": 40_000},
        channels=["mms"],
    )
    small_sender = "+358409990009"
    await routing.add_sender(database, running.account, small_sender, route_name="small-mms")
    big = samples.png(600, 400, noisy=True)
    media_id = (await running.http.post("/v1/media", files={"file": ("p.png", big)})).json()["id"]

    async def fitted(sender: str) -> dict[str, Any]:
        preview = await running.http.post(
            "/v1/messages/preview",
            json={"to": "+358401234562", "from": sender, "body": "hi", "media": [media_id]},
        )
        assert preview.status_code == 200, preview.text
        [item] = preview.json()["media"]
        return cast(dict[str, Any], item)

    small = await fitted(small_sender)
    assert (small["route"], small["max_bytes"]) == ("small-mms", 40_000)
    assert small["sent_size"] <= 40_000
    usual = await fitted(OUR_NUMBER)
    assert (usual["route"], usual["max_bytes"]) == ("mms", 300 * 1024)
    assert usual["sent_size"] > 40_000

    # The send takes that route and sends the file the preview showed.
    async def route_started() -> bool:
        routes = (await running.http.get("/v1/account/routes")).json()
        return {"name": "small-mms", "state": "bound"} in [
            {"name": r["name"], "state": r["state"]} for r in routes
        ]

    await eventually(route_started, "the dispatcher running the new route")
    message_id = await running.send_one(
        "+358401234562", **{"from": small_sender, "body": "hi"}, media=[media_id]
    )
    # (The simulator's MMSC reports to the mms route's endpoint only, so this message stays
    # sent: what counts here is what reached the handset.)
    sent = await running.wait_for(message_id, ["sent"])
    assert sent["parts"][0]["smsc_message_id"].startswith(f"mm7:{small_route.id}:")

    async def on_the_handset() -> bool:
        return bool(_mmsc(running).inbox("+358401234562"))

    await eventually(on_the_handset, "the MMS on the handset")
    [shown] = _mmsc(running).inbox("+358401234562")
    [picture] = [p for p in shown.parts if p.content_type.startswith("image/")]
    assert len(picture.data) == small["sent_size"]
