"""ClickSend post and fax: return addresses through both SDK generations, unmodified (5.x
PostReturnAddressApi, 6.x AddressesApi); prices of faxes, letters and postcards."""

from __future__ import annotations

from types import ModuleType

import httpx

from tests.dialects.clicksend.conftest import ClickSend
from tests.dialects.clicksend.test_sdks import parsed, sdk5_client, sdk6_client
from tests.document_samples import pdf_with_pages, postcard_side


async def test_sdk5_return_address_crud(clicksend: ClickSend, sdk5: ModuleType) -> None:
    api = sdk5.PostReturnAddressApi(sdk5_client(sdk5, clicksend))
    address = sdk5.Address(
        address_name="Acme Pty Ltd",
        address_line_1="1 Example Lane",
        address_city="Melbourne",
        address_state="VIC",
        address_postal_code="3000",
        address_country="AU",
    )
    created = parsed(await clicksend.call(api.post_return_addresses_post, address))
    assert (created["http_code"], created["response_code"]) == (200, "SUCCESS")
    number = created["data"]["return_address_id"]
    assert isinstance(number, int) and isinstance(created["data"]["user_id"], int)
    assert created["data"]["address_city"] == "Melbourne"

    listed = parsed(await clicksend.call(api.post_return_addresses_get, page=1, limit=15))
    assert [a["return_address_id"] for a in listed["data"]["data"]] == [number]
    assert listed["data"]["total"] == 1

    address.address_line_2 = "Suite 4"
    updated = parsed(
        await clicksend.call(api.post_return_addresses_by_return_address_id_put, number, address)
    )
    assert updated["data"]["address_line_2"] == "Suite 4"
    one = parsed(await clicksend.call(api.post_return_addresses_by_return_address_id_get, number))
    assert one["data"]["address_line_2"] == "Suite 4"

    deleted = parsed(
        await clicksend.call(api.post_return_addresses_by_return_address_id_delete, number)
    )
    assert deleted["data"] == []
    missing = await clicksend.http.get(f"/post/return-addresses/{number}")
    assert missing.json()["response_code"] == "NOT_FOUND"


async def test_sdk6_return_address_crud(clicksend: ClickSend, sdk6: ModuleType) -> None:
    api = sdk6.AddressesApi(sdk6_client(sdk6, clicksend))
    created = await clicksend.call(
        api.create_return_address,
        create_return_address_request=sdk6.CreateReturnAddressRequest(
            address_name="Acme Pty Ltd",
            address_line_1="1 Example Lane",
            address_city="Melbourne",
            address_postal_code="3000",
            address_country="AU",
        ),
    )
    assert created.response_code == "SUCCESS"
    number = created.data.return_address_id
    assert created.data.address_state == ""

    updated = await clicksend.call(
        api.update_return_address,
        str(number),
        update_return_address_request=sdk6.UpdateReturnAddressRequest(address_state="VIC"),
    )
    assert (updated.data.address_state, updated.data.address_city) == ("VIC", "Melbourne")
    listed = await clicksend.call(api.view_your_return_addresses)
    assert [a.return_address_id for a in listed.data.data] == [number]
    one = await clicksend.call(api.view_specific_return_address, str(number))
    assert one.data.address_postal_code == "3000"
    deleted = await clicksend.call(api.delete_return_address, str(number))
    assert deleted.data == []


async def test_a_return_address_missing_fields_or_of_another_account_is_refused(
    clicksend: ClickSend,
) -> None:
    missing = await clicksend.http.post(
        "/post/return-addresses", json={"address_name": "Acme", "address_country": "AU"}
    )
    assert (missing.status_code, missing.json()["response_code"]) == (
        400,
        "MISSING_REQUIRED_FIELDS",
    )
    bad = await clicksend.http.post(
        "/post/return-addresses",
        json={
            "address_name": "Acme",
            "address_line_1": "1 Lane",
            "address_city": "Melbourne",
            "address_postal_code": "3000",
            "address_country": "ZZ",
        },
    )
    assert (bad.status_code, bad.json()["response_code"]) == (400, "BAD_REQUEST")
    created = await clicksend.http.post(
        "/post/return-addresses",
        json={
            "address_name": "Acme",
            "address_line_1": "1 Lane",
            "address_city": "Melbourne",
            "address_postal_code": "3000",
            "address_country": "AU",
        },
    )
    number = created.json()["data"]["return_address_id"]
    other_user, other_key = await clicksend.other_account()
    seen = await clicksend.http.get(
        f"/post/return-addresses/{number}", auth=(other_user, other_key)
    )
    assert seen.json()["response_code"] == "NOT_FOUND"


# Prices of faxes, letters and postcards ------------------------------------------------------


async def upload(clicksend: ClickSend, data: bytes, name: str = "doc.pdf") -> str:
    """The media id of ``data`` kept in the media store (POST /v1/media)."""
    host = clicksend.host
    async with httpx.AsyncClient(base_url=host, auth=clicksend.http.auth, timeout=30) as http:
        kept = await http.post("/v1/media", files={"file": (name, data, "application/pdf")})
    assert kept.status_code == 201, kept.text
    media_id: str = kept.json()["id"]
    return media_id


async def return_address(clicksend: ClickSend) -> int:
    created = await clicksend.http.post(
        "/post/return-addresses",
        json={
            "address_name": "Acme Pty Ltd",
            "address_line_1": "1 Example Lane",
            "address_city": "Melbourne",
            "address_state": "VIC",
            "address_postal_code": "3000",
            "address_country": "AU",
        },
    )
    number: int = created.json()["data"]["return_address_id"]
    return number


RECIPIENT = {
    "address_name": "Zoë Quinn",
    "address_line_1": "200 George Street",
    "address_city": "Sydney",
    "address_state": "NSW",
    "address_postal_code": "2000",
    "address_country": "AU",
}


async def test_a_fax_is_priced_per_page_and_per_number(clicksend: ClickSend) -> None:
    file = await upload(clicksend, pdf_with_pages(["one", "two", "three"]))
    priced = await clicksend.http.post(
        "/fax/price",
        json={
            "file_url": file,
            "messages": [
                {"to": "+61261111111", "custom_string": "a"},
                {"to": "0261111112", "country": "AU"},
                {"to": "not a number"},
            ],
        },
    )
    body = priced.json()
    assert body["response_code"] == "SUCCESS", body
    data = body["data"]
    assert [m["status"] for m in data["messages"]] == ["SUCCESS", "SUCCESS", "INVALID_RECIPIENT"]
    assert data["messages"][1]["to"] == "+61261111112"
    assert [m["message_pages"] for m in data["messages"]] == [3, 3, 0]
    assert data["messages"][0]["message_price"] == "0.3000"
    assert (data["total_price"], data["total_count"], data["queued_count"]) == (0.6, 3, 2)


async def test_a_landscape_or_broken_fax_refuses_the_request(clicksend: ClickSend) -> None:
    file = await upload(clicksend, pdf_with_pages(["wide"], (842, 595)))
    refused = await clicksend.http.post(
        "/fax/price", json={"file_url": file, "messages": [{"to": "+61261111111"}]}
    )
    body = refused.json()
    assert (refused.status_code, body["response_code"]) == (400, "INVALID_MEDIA_FILE")
    assert "landscape" in body["response_msg"]


async def test_a_letter_is_priced_per_printed_page_with_its_options(clicksend: ClickSend) -> None:
    file = await upload(clicksend, pdf_with_pages(["one", "two"]))
    back = await return_address(clicksend)
    priced = await clicksend.http.post(
        "/post/letters/price",
        json={
            "file_url": file,
            "template_used": 0,
            "duplex": 1,
            "colour": 1,
            "priority_post": 1,
            "recipients": [
                {**RECIPIENT, "return_address_id": back},
                {**RECIPIENT, "return_address_id": back + 1000},
                {**RECIPIENT, "address_country": "Australia", "return_address_id": back},
            ],
        },
    )
    data = priced.json()["data"]
    statuses = [r["status"] for r in data["recipients"]]
    assert statuses == ["SUCCESS", "INVALID_RETURN_ADDRESS", "INVALID_RECIPIENT"]
    first = data["recipients"][0]
    # Two pages, an address sheet and its blank back (duplex): four printed pages in colour,
    # at 1.20, and priority post at 1.00.
    assert (first["post_pages"], first["post_price"]) == (4, "5.8000")
    assert first["_return_address"]["address_city"] == "Melbourne"
    assert (first["colour"], first["duplex"], first["priority_post"]) == (1, 1, 1)
    assert (data["total_count"], data["queued_count"]) == (3, 1)


async def test_a_postcard_is_priced_per_card(clicksend: ClickSend) -> None:
    front = await upload(clicksend, postcard_side("front"), "front.pdf")
    back = await upload(clicksend, postcard_side("back"), "back.pdf")
    priced = await clicksend.http.post(
        "/post/postcards/price", json={"file_urls": [front, back], "recipients": [RECIPIENT]}
    )
    data = priced.json()["data"]
    assert [(r["status"], r["post_pages"], r["post_price"]) for r in data["recipients"]] == [
        ("SUCCESS", 2, "1.5000")
    ]
    one_side = await clicksend.http.post(
        "/post/postcards/price", json={"file_urls": [front], "recipients": [RECIPIENT]}
    )
    assert one_side.json()["response_code"] == "INVALID_MEDIA_FILE"


async def test_a_file_of_another_account_is_not_found(clicksend: ClickSend) -> None:
    file = await upload(clicksend, pdf_with_pages(["mine"]))
    other_user, other_key = await clicksend.other_account()
    refused = await clicksend.http.post(
        "/fax/price",
        json={"file_url": file, "messages": [{"to": "+61261111111"}]},
        auth=(other_user, other_key),
    )
    assert refused.json()["response_code"] == "NOT_FOUND"
