"""SmartDialog's AttachmentUri sends an MMS (never dropped): the file is taken once, when the
message is accepted, and reaches the handset through the embedded MMSC."""

from __future__ import annotations

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed
from tests.dialects.smartdialog.test_bad_input import send_headers
from tests.integration.dispatch.conftest import Running, eventually
from tests.unit.media import samples

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
