"""ClickSend post through both SDK generations, unmodified: return addresses (5.x
PostReturnAddressApi, 6.x AddressesApi)."""

from __future__ import annotations

from types import ModuleType

from tests.dialects.clicksend.conftest import ClickSend
from tests.dialects.clicksend.test_sdks import parsed, sdk5_client, sdk6_client


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
