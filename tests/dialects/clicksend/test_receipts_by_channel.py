"""ClickSend's receipts and histories hold one channel each: a receipt asked for by id through
another channel's path (an SMS or a letter as a fax receipt, a fax as an SMS receipt) is not
found, as ClickSend answers a wrong id, and every channel's history and unread receipts show
its own messages only."""

from __future__ import annotations

from typing import Any

from tests.dialects.clicksend.conftest import ClickSend
from tests.document_samples import pdf_with_pages, postcard_side
from tests.unit.media import samples
from tidings.lifecycle import FINAL_STATUSES

FINAL = frozenset(status.value for status in FINAL_STATUSES)
ADDRESS = {
    "name": "Zoë Quinn",
    "line_1": "200 George Street",
    "city": "Sydney",
    "state": "NSW",
    "postal_code": "2000",
    "country": "AU",
}
NUMBER_FROM = "+358409990002"

# Each channel's history, and its unread receipts where ClickSend has them.
HISTORY = {
    "sms": "/sms/history",
    "mms": "/mms/history",
    "voice": "/voice/history",
    "fax": "/fax/history",
    "letter": "/post/letters/history",
    "postcard": "/post/postcards/history",
}
RECEIPTS = {"sms": "/sms/receipts", "mms": "/mms/receipts", "voice": "/voice/receipts"}
RECEIPTS["fax"] = "/fax/receipts"
# The receipts ClickSend serves one by one (its SDKs read MMS and voice receipts by page only;
# letters and postcards have no receipts).
RECEIPT_BY_ID = {"sms": "/sms/receipts/{}", "fax": "/fax/receipts/{}"}


async def _media(clicksend: ClickSend, name: str, data: bytes, content_type: str) -> str:
    uploaded = await clicksend.running.http.post(
        "/v1/media", files={"file": (name, data, content_type)}
    )
    assert uploaded.status_code == 201, uploaded.text
    media_id: str = uploaded.json()["id"]
    return media_id


async def _one_of_each_channel(clicksend: ClickSend, **common: Any) -> dict[str, str]:
    """A message of every channel, sent through /v1 (each with ``common``'s fields too);
    channel → message id."""
    running = clicksend.running
    picture = await _media(clicksend, "p.png", samples.png(64, 64), "image/png")
    fax = await _media(clicksend, "fax.pdf", pdf_with_pages(["Invoice"]), "application/pdf")
    letter = await _media(clicksend, "l.pdf", pdf_with_pages(["Dear Zoë"]), "application/pdf")
    front = await _media(clicksend, "f.pdf", postcard_side("Front"), "application/pdf")
    back = await _media(clicksend, "b.pdf", postcard_side("Back"), "application/pdf")
    sends: dict[str, dict[str, Any]] = {
        "sms": {"to": "+358401231001"},
        "mms": {"to": "+358401231001", "from": NUMBER_FROM, "subject": "Hi", "media": [picture]},
        "voice": {"to": "+61411111111", "channel": "voice", "body": "Hello there."},
        "fax": {"to": "+61261111111", "channel": "fax", "document": fax, "body": ""},
        "letter": {"channel": "letter", "document": letter, "address": ADDRESS, "body": ""},
        "postcard": {
            "channel": "postcard",
            "document": front,
            "back": back,
            "address": ADDRESS,
            "body": "",
        },
    }
    ids: dict[str, str] = {}
    for channel, fields in sends.items():
        [entry] = (await running.send(**fields, **common))["messages"]
        assert "id" in entry, (channel, entry)
        ids[channel] = entry["id"]
    return ids


async def _ids_at(clicksend: ClickSend, path: str) -> set[str]:
    answer = await clicksend.http.get(path, params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return {item["message_id"] for item in answer.json()["data"]["data"]}


async def test_each_channel_s_receipts_and_history_hold_its_own_messages_only(
    clicksend: ClickSend,
) -> None:
    ids = await _one_of_each_channel(clicksend)
    for own, path in RECEIPT_BY_ID.items():
        # Its own message's receipt, even while pending (the status so far).
        found = await clicksend.http.get(path.format(ids[own]))
        assert found.status_code == 200, found.text
        assert found.json()["data"]["message_id"] == ids[own]
        for channel, message_id in ids.items():
            if channel == own:
                continue
            wrong = await clicksend.http.get(path.format(message_id))
            assert (wrong.status_code, wrong.json()["response_code"]) == (404, "NOT_FOUND"), (
                f"{channel} through {path}: {wrong.text}"
            )
            assert wrong.json()["data"] is None
    for channel, path in HISTORY.items():
        assert await _ids_at(clicksend, path) == {ids[channel]}, path

    for message_id in ids.values():
        await clicksend.running.wait_for(message_id, FINAL)
    for channel, path in RECEIPTS.items():
        assert await _ids_at(clicksend, path) == {ids[channel]}, path


async def test_the_sms_cancels_leave_other_channels_scheduled_messages_alone(
    clicksend: ClickSend,
) -> None:
    """ClickSend's SMS cancel paths cancel SMS: a scheduled fax, letter or call asked for by id
    there is not found, as a wrong id is, and cancel-all leaves it scheduled."""
    ids = await _one_of_each_channel(clicksend, send_at="2096-01-01T09:00:00Z")
    for channel, message_id in ids.items():
        if channel == "sms":
            continue
        wrong = await clicksend.http.put(f"/sms/{message_id}/cancel")
        assert (wrong.status_code, wrong.json()["response_code"]) == (404, "NOT_FOUND"), (
            f"{channel}: {wrong.text}"
        )
    cancelled_all = await clicksend.http.put("/sms/cancel-all")
    assert cancelled_all.json()["data"]["count"] == 1, cancelled_all.text
    statuses = {
        channel: (await clicksend.running.message(message_id))["status"]
        for channel, message_id in ids.items()
    }
    assert statuses == {
        channel: "cancelled" if channel == "sms" else "scheduled" for channel in ids
    }
