"""ClickSend Send Fax, Send Letter and Send Postcard through the 5.x SDK, unmodified (FAXApi,
PostLetterApi, PostPostcardApi; 6.x has no fax or post API): each good recipient becomes a
message that the running service sends to the simulators' fax gateway and printer."""

from __future__ import annotations

import csv
import io
from types import ModuleType

import httpx

from tests.dialects.clicksend.conftest import ClickSend
from tests.dialects.clicksend.test_post import RECIPIENT, return_address, upload
from tests.dialects.clicksend.test_sdks import parsed, sdk5_client
from tests.document_samples import pdf_with_pages, postcard_side

FINAL = frozenset({"delivered", "failed", "busy", "no_answer", "rejected"})


async def test_sdk5_sends_a_fax_to_each_number(clicksend: ClickSend, sdk5: ModuleType) -> None:
    file = await upload(clicksend, pdf_with_pages(["Invoice", "Terms"]))
    api = sdk5.FAXApi(sdk5_client(sdk5, clicksend))
    faxes = sdk5.FaxMessageCollection(
        file_url=file,
        messages=[
            sdk5.FaxMessage(to="+61261111111", custom_string="inv-1"),
            sdk5.FaxMessage(to="+61261110001"),
            sdk5.FaxMessage(to="not a number"),
        ],
    )
    answer = parsed(await clicksend.call(api.fax_send_post, faxes))
    assert (answer["http_code"], answer["response_code"]) == (200, "SUCCESS")
    data = answer["data"]
    statuses = [m["status"] for m in data["messages"]]
    assert statuses == ["SUCCESS", "SUCCESS", "INVALID_RECIPIENT"]
    assert (data["total_count"], data["queued_count"], data["total_price"]) == (3, 2, 0.4)
    first, busy, _ = data["messages"]
    assert first["message_pages"] == 2 and first["custom_string"] == "inv-1"
    assert first["message_id"] and isinstance(first["date_added"], int)

    delivered = await clicksend.running.wait_for(first["message_id"], FINAL)
    assert (delivered["status"], delivered["channel"]) == ("delivered", "fax")
    assert delivered["customer_data"] == "inv-1"
    # The number's line was busy: the gateway's report says so.
    assert (await clicksend.running.wait_for(busy["message_id"], FINAL))["status"] == "busy"

    history = parsed(await clicksend.call(api.fax_history_get, date_from=0))
    rows = {row["message_id"]: row for row in history["data"]["data"]}
    assert rows[first["message_id"]]["status"] == "Delivered"
    assert rows[first["message_id"]]["message_pages"] == 2
    assert rows[first["message_id"]]["pages_sent"] == 2
    assert rows[busy["message_id"]]["status"] != "Delivered"
    receipts = parsed(await clicksend.call(api.fax_receipts_get))
    kinds = {r["message_id"]: r["message_type"] for r in receipts["data"]["data"]}
    assert kinds.get(first["message_id"]) == "fax", receipts
    one = parsed(await clicksend.call(api.fax_receipts_by_message_id_get, first["message_id"]))
    assert (one["data"]["message_id"], one["data"]["pages_sent"]) == (first["message_id"], 2)
    await clicksend.call(api.fax_receipts_read_put, date_before=sdk5.DateBefore(date_before=4e9))
    assert parsed(await clicksend.call(api.fax_receipts_get))["data"]["total"] == 0


async def test_sdk5_sends_a_letter_to_each_address(clicksend: ClickSend, sdk5: ModuleType) -> None:
    file = await upload(clicksend, pdf_with_pages(["Dear Zoë", "Yours"]))
    back = await return_address(clicksend)
    api = sdk5.PostLetterApi(sdk5_client(sdk5, clicksend))
    letter = sdk5.PostLetter(
        file_url=file,
        colour=1,
        duplex=0,
        recipients=[
            sdk5.PostRecipient(**RECIPIENT, return_address_id=back),
            sdk5.PostRecipient(
                **{**RECIPIENT, "address_country": "Australia"}, return_address_id=back
            ),
        ],
    )
    answer = parsed(await clicksend.call(api.post_letters_send_post, letter))
    data = answer["data"]
    assert [r["status"] for r in data["recipients"]] == ["SUCCESS", "INVALID_RECIPIENT"]
    sent = data["recipients"][0]
    # Two pages and an address sheet, in colour.
    assert (sent["post_pages"], sent["colour"], sent["_return_address"]["address_city"]) == (
        3,
        1,
        "Melbourne",
    )
    done = await clicksend.running.wait_for(sent["message_id"], FINAL)
    assert (done["status"], done["channel"]) == ("delivered", "letter")
    simulator = clicksend.running.service.simulator
    assert simulator is not None and simulator.printer is not None
    [job] = [job for job in simulator.printer.jobs() if job.name == sent["message_id"]]
    assert (job.print_color_mode, job.pages, job.address[0]) == ("color", 3, "Zoë Quinn")
    history = parsed(await clicksend.call(api.post_letters_history_get))
    [row] = history["data"]["data"]
    assert (row["message_id"], row["address_city"], row["post_pages"], row["colour"]) == (
        sent["message_id"],
        "Sydney",
        3,
        1,
    )
    exported = parsed(await clicksend.call(api.post_letters_export_get, "letters.csv"))
    async with httpx.AsyncClient(auth=clicksend.http.auth, timeout=30) as http:
        csv_file = await http.get(exported["data"]["url"])
    assert csv_file.status_code == 200, csv_file.text
    [header, line] = list(csv.reader(io.StringIO(csv_file.text)))
    row = dict(zip(header, line, strict=True))
    assert (row["message_id"], row["address_city"], row["post_pages"]) == (
        sent["message_id"],
        "Sydney",
        "3",
    )


async def test_sdk5_sends_a_postcard(clicksend: ClickSend, sdk5: ModuleType) -> None:
    front = await upload(clicksend, postcard_side("Greetings"), "front.pdf")
    back = await upload(clicksend, postcard_side("Wish you were here"), "back.pdf")
    sender = await return_address(clicksend)
    api = sdk5.PostPostcardApi(sdk5_client(sdk5, clicksend))
    card = sdk5.PostPostcard(
        file_urls=[front, back],
        recipients=[sdk5.PostRecipient(**RECIPIENT, return_address_id=sender)],
    )
    answer = parsed(await clicksend.call(api.post_postcards_send_post, card))
    [sent] = answer["data"]["recipients"]
    assert (sent["status"], sent["post_pages"], sent["post_price"]) == ("SUCCESS", 2, "1.5000")
    done = await clicksend.running.wait_for(sent["message_id"], FINAL)
    assert (done["status"], done["channel"]) == ("delivered", "postcard")
    history = parsed(await clicksend.call(api.post_postcards_history_get))
    assert [row["message_id"] for row in history["data"]["data"]] == [sent["message_id"]]
