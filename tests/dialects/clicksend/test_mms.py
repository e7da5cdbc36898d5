"""ClickSend's MMS through both SDK generations, unmodified: Send MMS with an upload's ``_url``
as the media file, the message delivered by the embedded MMSC with its subject and picture;
the MMS history and the MMS receipts, kept apart from the SMS ones."""

from __future__ import annotations

import base64
import csv
import io
from types import ModuleType

import httpx

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
    # Over the size limit of the route the message takes: refused, naming the route.
    await clicksend.running.change_route("mms", settings={"max_media_bytes": 20_000})
    over = await clicksend.http.post(
        "/mms/send", json={"media_file": media_url, "messages": [message]}
    )
    assert over.json()["response_code"] == "INVALID_MEDIA_FILE"
    assert "20,000" in over.json()["response_msg"] and "route mms" in over.json()["response_msg"]


async def test_an_mms_body_has_clicksend_s_mms_limits(clicksend: ClickSend) -> None:
    media_url = await _upload(clicksend)

    async def price(body: str) -> httpx.Response:
        message = {"to": "+358401230005", "body": body, "subject": "Menu", "from": FROM}
        return await clicksend.http.post(
            "/mms/price", json={"media_file": media_url, "messages": [message]}
        )

    # Longer than an SMS may be (1224), within ClickSend's 1500 for an MMS.
    [fits] = (await price("a" * 1500)).json()["data"]["messages"]
    assert fits["status"] == "SUCCESS"
    [unicode_fits] = (await price("你好" * 250)).json()["data"]["messages"]
    assert unicode_fits["status"] == "SUCCESS"
    for body, limit in (("a" * 1501, "1500"), ("你好" * 250 + "a", "500")):
        answer = await price(body)
        assert (answer.status_code, answer.json()["response_code"]) == (400, "BAD_REQUEST")
        assert limit in answer.json()["response_msg"]
        assert "messages.0.body" in answer.json()["response_msg"]


async def _delivered_mms_and_sms(clicksend: ClickSend, handset: str) -> tuple[str, str]:
    """An MMS and an SMS to ``handset``, both delivered; their message ids."""
    media_url = await _upload(clicksend)
    message = {"to": handset, "body": "Our shop", "subject": "Opening", "from": FROM}
    sent = await clicksend.http.post(
        "/mms/send", json={"media_file": media_url, "messages": [message]}
    )
    mms_id = sent.json()["data"]["messages"][0]["message_id"]
    sms = await clicksend.http.post(
        "/sms/send", json={"messages": [{"to": handset, "body": "Plain", "from": FROM}]}
    )
    sms_id = sms.json()["data"]["messages"][0]["message_id"]

    # (ClickSend serves SMS receipts one by one, not MMS ones: an MMS's id is not found there.)
    for message_id in (mms_id, sms_id):
        await clicksend.running.wait_for(message_id, {"delivered"})
    return mms_id, sms_id


async def test_sdk6_reads_the_mms_history_apart_from_sms(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    mms_id, sms_id = await _delivered_mms_and_sms(clicksend, "+358401230005")
    client = sdk6_client(sdk6, clicksend)
    history = await clicksend.call(sdk6.MmsApi(client).view_mms_history, limit=50)
    assert (history.http_code, history.response_code) == (200, "SUCCESS")
    [shown] = history.data.data
    assert (shown.message_id, shown.subject, shown.body) == (mms_id, "Opening", "Our shop")
    assert shown.status == "Delivered" and shown.var_from == FROM
    # The media file's URL is signed: it is fetched without credentials.
    assert shown.media_file_url is not None
    async with httpx.AsyncClient() as anyone:
        picture = await anyone.get(shown.media_file_url)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    sms_history = await clicksend.call(sdk6.SmsApi(client).view_sms_history)
    assert [m.message_id for m in sms_history.data.data] == [sms_id]

    exported = await clicksend.call(sdk6.MmsApi(client).export_mms_history, filename="m.csv")
    csv_file = await clicksend.http.get(exported.data.url.removeprefix(f"{clicksend.host}/v3"))
    rows = list(csv.DictReader(io.StringIO(csv_file.text)))
    assert [(r["message_id"], r["subject"]) for r in rows] == [(mms_id, "Opening")]


async def test_sdk5_polls_mms_receipts_and_history(clicksend: ClickSend, sdk5: ModuleType) -> None:
    mms_id, sms_id = await _delivered_mms_and_sms(clicksend, "+358401230006")
    mms = sdk5.MMSApi(sdk5_client(sdk5, clicksend))
    receipts = parsed(await clicksend.call(mms.mms_receipts_get))
    [receipt] = receipts["data"]["data"]
    assert (receipt["message_id"], receipt["status_code"]) == (mms_id, 201)
    assert receipt["message_type"] == "MMS"
    await clicksend.call(mms.mms_receipts_read_put, date_before=sdk5.DateBefore(date_before=4e9))
    assert parsed(await clicksend.call(mms.mms_receipts_get))["data"]["total"] == 0
    # Marking MMS receipts read leaves the SMS receipts unread, and the other way round.
    sms_receipts = parsed(await clicksend.call(sdk5.SMSApi(mms.api_client).sms_receipts_get))
    assert [r["message_id"] for r in sms_receipts["data"]["data"]] == [sms_id]

    history = parsed(await clicksend.call(mms.mms_history_get, page=1, limit=15))
    [shown] = history["data"]["data"]
    assert (shown["message_id"], shown["subject"]) == (mms_id, "Opening")
    assert shown["_media_file_url"].startswith("http")
    later = parsed(await clicksend.call(mms.mms_history_get, date_from=4_000_000_000))
    assert later["data"]["total"] == 0
    exported = parsed(await clicksend.call(mms.mms_history_export_get, "mms.csv"))
    assert exported["data"]["url"].startswith(clicksend.host)
