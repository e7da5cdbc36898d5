"""Contacts through TrueDialog's operations: create, update, search by phone or email (the
connector's GET and the SDK's POST), with the delivery health counters core keeps."""

from __future__ import annotations

from tests.dialects.truedialog.conftest import HANDSET, TrueDialog
from tidings.core.contacts import DeliveryOutcome, record_delivery_outcome


async def test_create_update_and_search(truedialog: TrueDialog) -> None:
    base = f"/api/v2.1/account/{truedialog.account_id}"
    created = await truedialog.http.post(
        f"{base}/contact",
        json={"PhoneNumber": "040 1234567", "Email": "aino@example.com", "FirstName": "Aino"},
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    # A national number is stored in E.164 with the account's region.
    assert (contact["phoneNumber"], contact["email"], contact["firstName"]) == (
        HANDSET,
        "aino@example.com",
        "Aino",
    )
    assert (contact["accountId"], contact["statusId"]) == (truedialog.account_id, 0)

    updated = await truedialog.http.put(
        f"{base}/contact/{contact['id']}", json={"LastName": "Virtanen"}
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["firstName"], updated.json()["lastName"]) == ("Aino", "Virtanen")
    assert updated.json()["id"] == contact["id"]

    by_phone = await truedialog.http.get(f"{base}/contact-search/{HANDSET}")
    by_email = await truedialog.http.get(f"{base}/contact-search/aino@example.com")
    posted = await truedialog.http.post(f"{base}/contact-search", json={"PhoneNumber": HANDSET})
    for response in (by_phone, by_email, posted):
        assert response.status_code == 200, response.text
        [found] = response.json()
        assert (found["id"], found["lastName"]) == (contact["id"], "Virtanen")
    nobody = await truedialog.http.get(f"{base}/contact-search/+358409876543")
    assert nobody.json() == []
    not_a_number = await truedialog.http.get(f"{base}/contact-search/12ab")
    assert not_a_number.status_code == 400
    assert not_a_number.json()["Message"] == "The request is invalid."

    duplicate = await truedialog.http.post(f"{base}/contact", json={"PhoneNumber": HANDSET})
    assert duplicate.status_code == 409
    no_phone = await truedialog.http.post(f"{base}/contact", json={"Email": "x@example.com"})
    assert no_phone.status_code == 400
    assert "request.PhoneNumber" in no_phone.json()["ModelState"]


async def test_error_counts_are_rendered(truedialog: TrueDialog) -> None:
    base = f"/api/v2.1/account/{truedialog.account_id}"
    created = await truedialog.http.post(f"{base}/contact", json={"PhoneNumber": HANDSET})
    database = truedialog.running.service.database
    async with database.write() as connection:
        account_id = truedialog.running.account.id
        for outcome in (DeliveryOutcome.HARD_FAILURE, DeliveryOutcome.SOFT_FAILURE):
            await record_delivery_outcome(
                connection, account_id, HANDSET, outcome, error="0x0000000B"
            )
        await record_delivery_outcome(
            connection, account_id, HANDSET, DeliveryOutcome.SOFT_FAILURE, error="0x00000058"
        )
    updated = await truedialog.http.put(f"{base}/contact/{created.json()['id']}", json={})
    contact = updated.json()
    assert (contact["phoneHardErrorCount"], contact["phoneSoftErrorCount"]) == (1, 2)
    assert (contact["phoneTotalHardErrorCount"], contact["phoneTotalSoftErrorCount"]) == (1, 2)
    assert contact["phoneLastSoftError"] == "0x00000058"
    assert contact["phoneHardErrorSince"] is not None
