"""ClickSend's Send MMS through both SDK generations, unmodified: an upload's ``_url`` as the
media file, the message delivered by the embedded MMSC with its subject and picture."""

from __future__ import annotations

import base64
from types import ModuleType

from tests.dialects.clicksend.conftest import ClickSend, eventually
from tests.dialects.clicksend.test_sdks import parsed, sdk5_client, sdk6_client
from tests.unit.media import samples

FROM = "+358409990002"


def _mmsc_inbox(clicksend: ClickSend, number: str) -> list:  # type: ignore[type-arg]
    simulator = clicksend.running.service.simulator
    assert simulator is not None and simulator.mmsc is not None
    return simulator.mmsc.inbox(number)


async def _upload(clicksend: ClickSend) -> str:
    photo = samples.png(900, 600, noisy=True)
    answer = await clicksend.http.post(
        "/uploads?convert=mms", json={"content": base64.b64encode(photo).decode()}
    )
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["data"]["_url"]
    return url


async def test_sdk6_sends_an_mms_with_an_uploaded_picture(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    media_url = await _upload(clicksend)
    mms = sdk6.MmsApi(sdk6_client(sdk6, clicksend))
    request = sdk6.SendMmsRequest(
        media_file=media_url,
        messages=[
            sdk6.SendMmsRequestMessagesInner(
                to="+358401230001", body="Our new shop", subject="Opening", var_from=FROM
            )
        ],
    )
    sent = await clicksend.call(mms.send_mms, send_mms_request=request)
    assert (sent.http_code, sent.response_code) == (200, "SUCCESS")
    [message] = sent.data.messages
    assert message.status == "SUCCESS" and message.subject == "Opening"

    async def delivered() -> bool:
        return bool(_mmsc_inbox(clicksend, "+358401230001"))

    await eventually(delivered, "the MMS on the handset")
    [shown] = _mmsc_inbox(clicksend, "+358401230001")
    assert (shown.subject, shown.text) == ("Opening", "Our new shop")
    assert any(p.content_type == "image/jpeg" for p in shown.parts)


async def test_sdk5_sends_and_prices_mms(clicksend: ClickSend, sdk5: ModuleType) -> None:
    media_url = await _upload(clicksend)
    mms = sdk5.MMSApi(sdk5_client(sdk5, clicksend))
    collection = sdk5.MmsMessageCollection(
        media_file=media_url,
        messages=[
            sdk5.MmsMessage(
                to="+358401230002", body="Hello", subject="Hi", _from=FROM, source="sdk"
            ),
            sdk5.MmsMessage(to="+358401230003", body="No subject", subject="", _from=FROM),
        ],
    )
    priced = parsed(await clicksend.call(mms.mms_price_post, collection))
    assert priced["response_code"] == "SUCCESS"
    sent = parsed(await clicksend.call(mms.mms_send_post, collection))
    statuses = [m["status"] for m in sent["data"]["messages"]]
    assert statuses == ["SUCCESS", "SUBJECT_REQUIRED"]
    assert sent["data"]["messages"][0]["_media_file_url"].startswith("http")

    async def delivered() -> bool:
        return bool(_mmsc_inbox(clicksend, "+358401230002"))

    await eventually(delivered, "the MMS on the handset")


async def test_an_mms_needs_a_usable_media_file(clicksend: ClickSend) -> None:
    message = {"to": "+358401230004", "body": "x", "subject": "y", "from": FROM}
    missing = await clicksend.http.post("/mms/send", json={"messages": [message]})
    assert missing.json()["response_code"] == "MISSING_REQUIRED_FIELDS"
    local = await clicksend.http.post(
        "/mms/send", json={"media_file": "http://127.0.0.1:9/x.jpg", "messages": [message]}
    )
    assert local.json()["response_code"] == "INVALID_MEDIA_FILE"
    long_subject = {**message, "subject": "s" * 21}
    media_url = await _upload(clicksend)
    answer = await clicksend.http.post(
        "/mms/send", json={"media_file": media_url, "messages": [long_subject]}
    )
    assert answer.json()["data"]["messages"][0]["status"] == "BAD_REQUEST"
