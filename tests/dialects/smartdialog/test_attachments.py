"""SmartDialog's AttachmentUri sends an MMS (never dropped): the file is taken once, when the
message is accepted, and reaches the handset through the embedded MMSC."""

from __future__ import annotations

import json

import httpx

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed
from tests.dialects.smartdialog.test_bad_input import send_headers
from tests.integration.dispatch.conftest import Running, eventually
from tests.integration.events.sink import Sink
from tests.unit.media import samples
from tidings.simulator.mmsc import Attachment

HANDSET = "+358401112229"


async def test_an_attachment_uri_sends_an_mms(running: Running, signed: Signed) -> None:
    photo = samples.jpeg_with_metadata(160, 120)
    uploaded = await running.http.post("/v1/media", files={"file": ("pic.jpg", photo)})
    assert uploaded.status_code == 201, uploaded.text
    sent = await signed.http.post(
        f"{BASE}/messages",
        headers=send_headers(signed),
        json={
            "Sender": LONG_CODE,
            "Content": "See the picture",
            "Recipients": [{"Address": HANDSET}],
            "AttachmentUri": uploaded.json()["url"],
        },
    )
    assert sent.status_code == 200, sent.text
    simulator = running.service.simulator
    assert simulator is not None and simulator.mmsc is not None
    mmsc = simulator.mmsc

    async def arrived() -> bool:
        return bool(mmsc.inbox(HANDSET))

    await eventually(arrived, "the MMS on the handset")
    [shown] = mmsc.inbox(HANDSET)
    assert shown.text == "See the picture"
    assert [p.content_type for p in shown.parts if p.content_type.startswith("image/")] == [
        "image/jpeg"
    ]
    listed = (await running.http.get("/v1/messages", params={"recipient": HANDSET})).json()
    assert [m["channel"] for m in listed["data"]] == ["mms"]


async def test_an_attachment_that_cannot_be_had_refuses_the_message(signed: Signed) -> None:
    refused = await signed.http.post(
        f"{BASE}/messages",
        headers=send_headers(signed),
        json={
            "Sender": LONG_CODE,
            "Content": "x",
            "Recipients": [{"Address": HANDSET}],
            "AttachmentUri": "http://127.0.0.1:9/missing.jpg",
        },
    )
    assert refused.status_code == 400, refused.text
    assert "media" in refused.text.lower()


async def test_the_new_message_trigger_carries_an_mms_s_attachments(
    running: Running, signed: Signed
) -> None:
    sink = Sink()
    await sink.start()
    try:
        subscribe = await signed.http.post(
            f"{BASE}/service/{signed.two_way.id}/pipelines/actions",
            headers={**signed.auth, "Customer": signed.account.id},
            json={
                "name": "PowerAutomate (Auto Created Webhook)",
                "actionType": "HttpRequest",
                "description": "PowerAutomate auto-created webhook.",
                "options": {"endpointUrl": f"{sink.url}/flow", "httpVerb": "POST"},
            },
        )
        assert subscribe.status_code == 201, subscribe.text
        simulator = running.service.simulator
        assert simulator is not None and simulator.mmsc is not None
        photo = samples.jpeg_with_metadata(90, 60)
        await simulator.mmsc.inject(
            HANDSET,
            LONG_CODE,
            subject="Pic",
            text="Here",
            attachments=[Attachment("image/jpeg", photo, "me.jpg")],
        )

        async def called() -> bool:
            return bool(sink.received)

        await eventually(called, "the New Message callback")
        event = json.loads(sink.received[0].body)
        assert (event["protocol"], event["content"]) == ("MMS", "Here")
        [attachment] = event["attachments"]
        assert (attachment["name"], attachment["mimeType"]) == ("me.jpg", "image/jpeg")
        async with httpx.AsyncClient() as anonymous:
            fetched = await anonymous.get(attachment["resourceLocation"])
        assert fetched.content == photo
    finally:
        await sink.stop()
