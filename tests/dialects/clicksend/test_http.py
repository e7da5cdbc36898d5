"""The ClickSend dialect over plain HTTP: the envelope, errors in ClickSend's shape, ids, paging,
read marks, cancelling, and that nothing of one account is visible to another."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.clicksend.conftest import ClickSend, eventually
from tidings.core import accounts, routing

HANDSET = "+358401234567"
LONG_CODE = "+358409999999"


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["http_code"], body["response_code"]) == (200, "SUCCESS"), body
    return body["data"]


def refused(response: httpx.Response, http_code: int, response_code: str) -> dict[str, Any]:
    assert response.status_code == http_code, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"http_code", "response_code", "response_msg", "data"}
    assert (body["http_code"], body["response_code"]) == (http_code, response_code), body
    assert body["response_msg"]
    return body


async def send(clicksend: ClickSend, *, from_: str = "Acme", **message: Any) -> dict[str, Any]:
    payload = {"body": "Hello from tidings", "from": from_, **message}
    data: dict[str, Any] = ok(await clicksend.http.post("/sms/send", json={"messages": [payload]}))
    return data


async def test_bad_credentials_get_clicksends_401_envelope(clicksend: ClickSend) -> None:
    body = {"messages": [{"body": "x", "to": HANDSET}]}
    async with httpx.AsyncClient(base_url=f"{clicksend.host}/v3") as anonymous:
        refused(await anonymous.post("/sms/send", json=body), 401, "UNAUTHORIZED")
        wrong = await anonymous.get("/account", auth=(clicksend.username, "tdk_wrong_secret"))
        refused(wrong, 401, "UNAUTHORIZED")
        assert wrong.headers["www-authenticate"].startswith("Basic")
    # Nothing was sent.
    assert ok(await clicksend.http.get("/sms/history"))["total"] == 0


async def test_send_answers_per_message_and_the_history_pages(clicksend: ClickSend) -> None:
    messages = [
        {"body": f"Message {n}", "to": f"+35840123450{n}", "from": "Acme"} for n in range(3)
    ]
    messages.append({"body": "Nobody", "to": "12", "from": "Acme"})
    data = ok(await clicksend.http.post("/sms/send", json={"messages": messages}))
    assert (data["total_count"], data["queued_count"]) == (4, 3)
    statuses = [m["status"] for m in data["messages"]]
    assert statuses == ["SUCCESS", "SUCCESS", "SUCCESS", "INVALID_RECIPIENT"]
    assert data["messages"][3]["message_id"] is None
    assert all(isinstance(m["message_id"], str) for m in data["messages"][:3])
    assert data["_currency"]["currency_name_short"] == "EUR"

    first = ok(await clicksend.http.get("/sms/history", params={"page": 1, "limit": 2}))
    assert (first["total"], first["per_page"], first["current_page"], first["last_page"]) == (
        3,
        2,
        1,
        2,
    )
    assert (first["from"], first["to"]) == (1, 2)
    assert first["prev_page_url"] is None and "page=2" in first["next_page_url"]
    second = ok(await clicksend.http.get("/sms/history", params={"page": 2, "limit": 2}))
    seen = [m["message_id"] for m in first["data"] + second["data"]]
    assert sorted(seen) == sorted(m["message_id"] for m in data["messages"][:3])
    # History types as the SDK models them: codes as strings, ids of the caller as integers.
    item = second["data"][0]
    assert isinstance(item["status_code"], str) and isinstance(item["user_id"], int)

    later = ok(await clicksend.http.get("/sms/history", params={"date_from": 4_000_000_000}))
    assert later["total"] == 0


async def test_missing_fields_and_wrong_types_are_bad_requests(clicksend: ClickSend) -> None:
    refused(await clicksend.http.post("/sms/send", json={}), 400, "MISSING_REQUIRED_FIELDS")
    missing_body = {"messages": [{"to": HANDSET}]}
    body = refused(
        await clicksend.http.post("/sms/send", json=missing_body), 400, "MISSING_REQUIRED_FIELDS"
    )
    assert "body" in body["response_msg"]
    wrong = {"messages": [{"to": HANDSET, "body": "x", "list_id": "not a number"}]}
    refused(await clicksend.http.post("/sms/send", json=wrong), 400, "BAD_REQUEST")
    refused(await clicksend.http.post("/lists", json={"list_name": 5}), 400, "BAD_REQUEST")
    refused(await clicksend.http.get("/lists/abc"), 400, "BAD_REQUEST")
    refused(await clicksend.http.get("/sms/history", params={"page": 0}), 400, "BAD_REQUEST")
    not_json = await clicksend.http.post(
        "/sms/send", content=b"{", headers={"content-type": "application/json"}
    )
    refused(not_json, 400, "BAD_REQUEST")
    refused(await clicksend.http.get("/no/such/thing"), 404, "NOT_FOUND")


async def test_unknown_and_foreign_ids_are_not_found(clicksend: ClickSend) -> None:
    created = ok(await clicksend.http.post("/lists", json={"list_name": "Mine"}))
    list_id = created["list_id"]
    assert isinstance(list_id, int)
    contact = ok(
        await clicksend.http.post(
            f"/lists/{list_id}/contacts",
            json={"phone_number": HANDSET, "first_name": "Aino", "last_name": "K"},
        )
    )
    message_id = (await send(clicksend, to=HANDSET))["messages"][0]["message_id"]

    refused(await clicksend.http.get("/lists/999999"), 404, "NOT_FOUND")
    unknown_list = {"messages": [{"body": "x", "list_id": 999999}]}
    refused(await clicksend.http.post("/sms/send", json=unknown_list), 404, "NOT_FOUND")

    username, api_key = await clicksend.other_account()
    async with httpx.AsyncClient(
        base_url=f"{clicksend.host}/v3", auth=(username, api_key)
    ) as other:
        for path in (
            f"/lists/{list_id}",
            f"/lists/{list_id}/contacts",
            f"/lists/{list_id}/contacts/{contact['contact_id']}",
            f"/sms/inbound/{message_id}",
        ):
            refused(await other.get(path), 404, "NOT_FOUND")
        refused(await other.delete(f"/lists/{list_id}"), 404, "NOT_FOUND")
        refused(await other.put(f"/sms/{message_id}/cancel"), 404, "NOT_FOUND")
        to_list = {"messages": [{"body": "x", "list_id": list_id}]}
        refused(await other.post("/sms/send", json=to_list), 404, "NOT_FOUND")
        # Its own views are empty.
        assert ok(await other.get("/lists"))["total"] == 0
        assert ok(await other.get("/sms/history"))["total"] == 0
        assert ok(await other.get("/search/contacts-lists", params={"q": "Mine"}))["total"] == 0
        # Its own list gets a different number; the first account's list is untouched.
        theirs = ok(await other.post("/lists", json={"list_name": "Mine"}))
        assert theirs["list_id"] != list_id
    assert ok(await clicksend.http.get(f"/lists/{list_id}"))["_contacts_count"] == 1


async def test_lists_and_contacts(clicksend: ClickSend) -> None:
    first = ok(await clicksend.http.post("/lists", json={"list_name": "Customers"}))
    second = ok(await clicksend.http.post("/lists", json={"list_name": "VIP"}))
    refused(await clicksend.http.post("/lists", json={"list_name": "VIP"}), 400, "ALREADY_EXISTS")
    renamed = ok(
        await clicksend.http.put(f"/lists/{second['list_id']}", json={"list_name": "Gold"})
    )
    assert (renamed["list_id"], renamed["list_name"]) == (second["list_id"], "Gold")

    base = f"/lists/{first['list_id']}/contacts"
    contact = ok(
        await clicksend.http.post(
            base,
            json={
                "phone_number": "0401234567",
                "first_name": "Aino",
                "last_name": "Koskinen",
                "custom_1": "gold",
                "address_city": "Turku",
            },
        )
    )
    assert contact["phone_number"] == HANDSET  # normalised in the account's region (FI)
    assert (contact["list_id"], contact["custom_1"], contact["address_city"]) == (
        first["list_id"],
        "gold",
        "Turku",
    )
    contact_id = contact["contact_id"]
    path = f"{base}/{contact_id}"
    updated = ok(await clicksend.http.put(path, json={"last_name": "Virtanen"}))
    assert (updated["last_name"], updated["first_name"], updated["custom_1"]) == (
        "Virtanen",
        "Aino",
        "gold",
    )
    assert ok(await clicksend.http.get(path))["last_name"] == "Virtanen"

    # A copy is a new contact of the target list, with its own id and the same names.
    copied = ok(await clicksend.http.put(f"{path}/copy/{second['list_id']}"))
    assert copied["list_id"] == second["list_id"] and copied["contact_id"] != contact_id
    assert (copied["first_name"], copied["last_name"], copied["custom_1"]) == (
        "Aino",
        "Virtanen",
        "gold",
    )
    assert ok(await clicksend.http.get(base))["total"] == 1
    assert ok(await clicksend.http.get(f"/lists/{second['list_id']}/contacts"))["total"] == 1
    copy_path = f"/lists/{second['list_id']}/contacts/{copied['contact_id']}"
    # Each list's contact id is its own: the first list's is not in the second list.
    refused(
        await clicksend.http.get(f"/lists/{second['list_id']}/contacts/{contact_id}"),
        404,
        "NOT_FOUND",
    )

    ok(await clicksend.http.delete(copy_path))
    refused(await clicksend.http.get(copy_path), 404, "NOT_FOUND")
    assert ok(await clicksend.http.get(path))["first_name"] == "Aino"
    moved = ok(await clicksend.http.put(f"{path}/transfer/{second['list_id']}"))
    assert moved["list_id"] == second["list_id"]
    assert (moved["first_name"], moved["last_name"]) == ("Aino", "Virtanen")
    assert ok(await clicksend.http.get(base))["total"] == 0
    refused(await clicksend.http.get(path), 404, "NOT_FOUND")

    found = ok(await clicksend.http.get("/search/contacts-lists", params={"q": "Gol"}))
    assert [(i["id"], i["name"], i["contacts_count"]) for i in found["data"]] == [
        (second["list_id"], "Gold", 1)
    ]
    listed = ok(await clicksend.http.get("/lists"))
    assert {item["list_id"] for item in listed["data"]} == {first["list_id"], second["list_id"]}
    # 5.x sends DELETE with a {} body.
    deleted = await clicksend.http.request(
        "DELETE",
        f"/lists/{first['list_id']}",
        content=b"{}",
        headers={"content-type": "application/json"},
    )
    ok(deleted)
    refused(await clicksend.http.get(f"/lists/{first['list_id']}"), 404, "NOT_FOUND")


async def test_each_list_holds_its_own_contacts(clicksend: ClickSend) -> None:
    """The same number in two lists is two ClickSend contacts, each with its list's names; a send
    to a list fills placeholders with that list's names."""
    customers = ok(await clicksend.http.post("/lists", json={"list_name": "Customers"}))
    staff = ok(await clicksend.http.post("/lists", json={"list_name": "Staff"}))
    in_customers = f"/lists/{customers['list_id']}/contacts"
    in_staff = f"/lists/{staff['list_id']}/contacts"
    customer = ok(
        await clicksend.http.post(
            in_customers,
            json={
                "phone_number": HANDSET,
                "first_name": "Aino",
                "last_name": "Koskinen",
                "custom_1": "gold",
            },
        )
    )
    colleague = ok(
        await clicksend.http.post(
            in_staff, json={"phone_number": HANDSET, "first_name": "A.", "last_name": "Virtanen"}
        )
    )
    assert colleague["contact_id"] != customer["contact_id"]
    assert (colleague["first_name"], colleague["custom_1"]) == ("A.", None)
    staff_path = f"{in_staff}/{colleague['contact_id']}"
    ok(await clicksend.http.put(staff_path, json={"first_name": "Anni", "custom_1": "desk 4"}))

    customer_path = f"{in_customers}/{customer['contact_id']}"
    shown = ok(await clicksend.http.get(customer_path))
    assert (shown["first_name"], shown["last_name"], shown["custom_1"]) == (
        "Aino",
        "Koskinen",
        "gold",
    )
    [listed] = ok(await clicksend.http.get(in_customers))["data"]
    assert (listed["contact_id"], listed["first_name"]) == (customer["contact_id"], "Aino")
    [listed] = ok(await clicksend.http.get(in_staff))["data"]
    assert (listed["contact_id"], listed["first_name"], listed["custom_1"]) == (
        colleague["contact_id"],
        "Anni",
        "desk 4",
    )

    # A send to each list greets the contact by that list's name.
    for contact_list in (customers, staff):
        [sent] = (await send(clicksend, list_id=contact_list["list_id"], body="Hei {first_name}"))[
            "messages"
        ]
        assert sent["status"] == "SUCCESS", sent
    history = ok(await clicksend.http.get("/sms/history"))["data"]
    assert sorted(m["body"] for m in history) == ["Hei Aino", "Hei Anni"]

    # Removing it from the staff list leaves the customer as it was.
    ok(await clicksend.http.delete(staff_path))
    refused(await clicksend.http.get(staff_path), 404, "NOT_FOUND")
    assert ok(await clicksend.http.get(customer_path))["first_name"] == "Aino"
    assert ok(await clicksend.http.get(in_staff))["total"] == 0


async def test_scheduled_messages_cancel_one_and_all(clicksend: ClickSend) -> None:
    later = 4_000_000_000
    one = (await send(clicksend, to=HANDSET, schedule=later))["messages"][0]
    assert one["schedule"] == later
    two = (await send(clicksend, to="+358401234568", schedule=later))["messages"][0]
    three = (await send(clicksend, to="+358401234569", schedule=later))["messages"][0]
    cancelled = ok(await clicksend.http.put(f"/sms/{one['message_id']}/cancel"))
    assert cancelled["message_id"] == one["message_id"]
    refused(await clicksend.http.put(f"/sms/{one['message_id']}/cancel"), 400, "BAD_REQUEST")
    assert ok(await clicksend.http.put("/sms/cancel-all"))["count"] == 2
    history = ok(await clicksend.http.get("/sms/history"))["data"]
    assert {m["message_id"]: m["status"] for m in history} == {
        one["message_id"]: "Cancelled",
        two["message_id"]: "Cancelled",
        three["message_id"]: "Cancelled",
    }


async def test_price_stores_nothing(clicksend: ClickSend) -> None:
    long_body = "x" * 200  # two GSM parts
    data = ok(
        await clicksend.http.post(
            "/sms/price", json={"messages": [{"body": long_body, "to": HANDSET}]}
        )
    )
    [message] = data["messages"]
    assert (message["message_parts"], message["message_price"]) == (2, "0.1000")
    assert data["total_price"] == 0.1
    assert ok(await clicksend.http.get("/sms/history"))["total"] == 0


async def test_receipts_and_inbound_stay_unread_until_marked(clicksend: ClickSend) -> None:
    running = clicksend.running
    simulator = running.service.simulator
    assert simulator is not None
    await routing.add_sender(running.service.database, running.account, LONG_CODE)
    first = (await send(clicksend, to=HANDSET, custom_string="ref-1"))["messages"][0]["message_id"]

    async def receipts() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = ok(await clicksend.http.get("/sms/receipts"))["data"]
        return items

    async def has_receipt() -> bool:
        return len(await receipts()) == 1

    await eventually(has_receipt, "the delivery receipt")
    [receipt] = await receipts()
    assert (receipt["message_id"], receipt["status_code"], receipt["status_text"]) == (
        first,
        201,
        "Delivered",
    )
    assert receipt["custom_string"] == "ref-1"
    assert ok(await clicksend.http.get(f"/sms/receipts/{first}"))["status_code"] == 201
    ok(await clicksend.http.put("/sms/receipts-read", json={}))
    assert await receipts() == []
    # Still readable one by one after being marked.
    assert ok(await clicksend.http.get(f"/sms/receipts/{first}"))["message_id"] == first

    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Stop sending", timeout=30) == 1
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Yes please", timeout=30) == 1
    inbound = ok(await clicksend.http.get("/sms/inbound"))["data"]
    assert [(m["from"], m["to"], m["body"]) for m in inbound] == [
        (HANDSET, LONG_CODE, "Stop sending"),
        (HANDSET, LONG_CODE, "Yes please"),
    ]
    one = ok(await clicksend.http.get(f"/sms/inbound/{inbound[0]['message_id']}"))
    assert one["body"] == "Stop sending"
    ok(await clicksend.http.put(f"/sms/inbound-read/{inbound[0]['message_id']}"))
    assert [m["body"] for m in ok(await clicksend.http.get("/sms/inbound"))["data"]] == [
        "Yes please"
    ]
    ok(await clicksend.http.put("/sms/inbound-read", json={"date_before": 4_000_000_000}))
    assert ok(await clicksend.http.get("/sms/inbound"))["total"] == 0
    # An outbound message is not an inbound one.
    refused(await clicksend.http.get(f"/sms/inbound/{first}"), 404, "NOT_FOUND")


async def test_account_and_history_export(clicksend: ClickSend) -> None:
    account = ok(await clicksend.http.get("/account"))
    assert isinstance(account["user_id"], int) and isinstance(account["balance"], str)
    assert account["username"] == "Acme"
    message_id = (await send(clicksend, to=HANDSET))["messages"][0]["message_id"]
    url = ok(await clicksend.http.get("/sms/history/export", params={"filename": "h.csv"}))["url"]
    assert url.startswith(clicksend.host)
    async with httpx.AsyncClient() as plain:
        refused(await plain.get(url), 401, "UNAUTHORIZED")
        download = await plain.get(url, auth=(clicksend.username, clicksend.api_key))
    assert download.status_code == 200
    lines = download.text.strip().splitlines()
    assert lines[0].startswith("message_id,")
    assert len(lines) == 2 and lines[1].startswith(message_id)


async def test_a_throttled_account_gets_clicksends_429(clicksend: ClickSend) -> None:
    database = clicksend.running.service.database
    slow = await accounts.create_account(database, "Slow", region="FI", rate_limit="2/minute")
    key = await accounts.create_api_key(database, slow.id)
    async with httpx.AsyncClient(
        base_url=f"{clicksend.host}/v3", auth=(key.key.id, key.secret)
    ) as http:
        for _ in range(2):
            ok(await http.get("/account"))
        throttled = await http.get("/account")
    refused(throttled, 429, "TOO_MANY_REQUESTS")
    assert int(throttled.headers["retry-after"]) >= 1


async def test_too_many_messages_in_one_request_are_refused(clicksend: ClickSend) -> None:
    messages = [{"body": "x", "to": HANDSET}] * 1001
    refused(await clicksend.http.post("/sms/send", json={"messages": messages}), 400, "BAD_REQUEST")
    assert ok(await clicksend.http.get("/sms/history"))["total"] == 0


async def test_history_filters_and_order(clicksend: ClickSend) -> None:
    first = (await send(clicksend, to=HANDSET, body="one"))["messages"][0]["message_id"]
    second = (await send(clicksend, to="+358401234568", body="two", from_="Other"))["messages"][0][
        "message_id"
    ]
    later = (await send(clicksend, to=HANDSET, body="three", schedule=4_000_000_000))["messages"][
        0
    ]["message_id"]

    async def history(**params: Any) -> list[str]:
        data = ok(await clicksend.http.get("/sms/history", params=params))
        return [m["message_id"] for m in data["data"]]

    assert await history() == [first, second, later]  # ClickSend's default: oldest first
    assert await history(order_by="date:desc") == [later, second, first]
    assert await history(q="to:0401234567") == [first, later]  # in the account's region
    assert await history(q="status:Scheduled") == [later]
    assert await history(q=f"message_id:{second}") == [second]
    assert await history(q="from:Other") == [second]
    refused(
        await clicksend.http.get("/sms/history", params={"q": "colour:red"}), 400, "BAD_REQUEST"
    )
    refused(
        await clicksend.http.get("/sms/history", params={"order_by": "body:asc"}),
        400,
        "BAD_REQUEST",
    )


async def test_lists_and_their_contacts_page_by_number(clicksend: ClickSend) -> None:
    numbers = [
        ok(await clicksend.http.post("/lists", json={"list_name": f"List {n}"}))["list_id"]
        for n in range(3)
    ]
    page = ok(await clicksend.http.get("/lists", params={"page": 2, "limit": 2}))
    assert (page["total"], page["last_page"], page["from"], page["to"]) == (3, 2, 3, 3)
    assert [item["list_id"] for item in page["data"]] == [numbers[2]]
    base = f"/lists/{numbers[0]}/contacts"
    for n in range(3):
        ok(await clicksend.http.post(base, json={"phone_number": f"+35840123456{n}"}))
    first = ok(await clicksend.http.get(base, params={"limit": 2}))
    second = ok(await clicksend.http.get(base, params={"limit": 2, "page": 2}))
    assert (first["total"], len(first["data"]), len(second["data"])) == (3, 2, 1)
    phones = [c["phone_number"] for c in first["data"] + second["data"]]
    assert phones == [f"+35840123456{n}" for n in range(3)]
    beyond = ok(await clicksend.http.get(base, params={"limit": 2, "page": 3}))
    assert beyond["data"] == [] and beyond["from"] is None


async def test_send_to_one_contact_by_its_id(clicksend: ClickSend) -> None:
    list_id = ok(await clicksend.http.post("/lists", json={"list_name": "One"}))["list_id"]
    contact = ok(
        await clicksend.http.post(f"/lists/{list_id}/contacts", json={"phone_number": HANDSET})
    )
    [message] = (await send(clicksend, contact_id=contact["contact_id"]))["messages"]
    assert (message["to"], message["contact_id"], message["status"]) == (
        HANDSET,
        str(contact["contact_id"]),
        "SUCCESS",
    )
    unknown = {"messages": [{"body": "x", "contact_id": 987654}]}
    refused(await clicksend.http.post("/sms/send", json=unknown), 404, "NOT_FOUND")
    username, api_key = await clicksend.other_account()
    async with httpx.AsyncClient(
        base_url=f"{clicksend.host}/v3", auth=(username, api_key)
    ) as other:
        foreign = {"messages": [{"body": "x", "contact_id": contact["contact_id"]}]}
        refused(await other.post("/sms/send", json=foreign), 404, "NOT_FOUND")


async def test_times_beyond_the_calendar_are_bad_requests(clicksend: ClickSend) -> None:
    huge = 10**20
    refused(
        await clicksend.http.get("/sms/history", params={"date_from": huge}), 400, "BAD_REQUEST"
    )
    refused(
        await clicksend.http.put("/sms/receipts-read", json={"date_before": 1e300}),
        400,
        "BAD_REQUEST",
    )
    far = {"messages": [{"body": "x", "to": HANDSET, "schedule": huge}]}
    [message] = ok(await clicksend.http.post("/sms/send", json=far))["messages"]
    assert (message["status"], message["message_id"]) == ("INVALID_SCHEDULE", None)


async def test_refused_messages_carry_clicksends_status(clicksend: ClickSend) -> None:
    messages = [
        {"body": "", "to": HANDSET},
        {"body": "x", "to": HANDSET, "from": "A sender name far too long"},
        {"body": "x"},
        {"body": "fine", "to": HANDSET},
    ]
    data = ok(await clicksend.http.post("/sms/send", json={"messages": messages}))
    assert [m["status"] for m in data["messages"]] == [
        "EMPTY_MESSAGE",
        "INVALID_SENDER_ID",
        "INVALID_RECIPIENT",
        "SUCCESS",
    ]
    assert data["queued_count"] == 1
    assert ok(await clicksend.http.get("/sms/history"))["total"] == 1


async def test_channels_not_served_are_not_found(clicksend: ClickSend) -> None:
    # MMS campaigns are not served (MMS, voice, fax, post and uploads are: test_mms.py,
    # test_voice.py, test_documents_send.py, test_uploads.py).
    for path in ("/mms-campaigns/send",):
        body = refused(await clicksend.http.post(path, json={}), 404, "NOT_FOUND")
        assert path in body["response_msg"]


async def test_a_message_without_a_sender_goes_out_under_the_accounts_default(
    clicksend: ClickSend,
) -> None:
    # The connector's Send SMS has no sender field; an account that sends only from
    # registered senders can still use it.
    database = clicksend.running.service.database
    account = await accounts.create_account(
        database, "Strict", region="FI", restrict_to_registered_senders=True
    )
    key = await accounts.create_api_key(database, account.id)
    async with httpx.AsyncClient(
        base_url=f"{clicksend.host}/v3", auth=(key.key.id, key.secret)
    ) as http:
        no_sender = {"messages": [{"body": "x", "to": HANDSET}]}
        [refused_message] = ok(await http.post("/sms/send", json=no_sender))["messages"]
        assert refused_message["status"] == "INVALID_SENDER_ID"
        await routing.add_sender(database, account, LONG_CODE)
        [first] = ok(await http.post("/sms/send", json=no_sender))["messages"]
        assert (first["status"], first["from"]) == ("SUCCESS", LONG_CODE)
        await routing.add_sender(database, account, "Acme", default=True)
        [chosen] = ok(await http.post("/sms/send", json=no_sender))["messages"]
        assert (chosen["status"], chosen["from"]) == ("SUCCESS", "Acme")
        history = ok(await http.get("/sms/history"))["data"]
        assert sorted(m["from"] for m in history) == sorted(["Acme", LONG_CODE])


async def test_a_body_longer_than_1224_characters_is_refused_as_clicksend_does(
    clicksend: ClickSend,
) -> None:
    longest = {"body": "a" * 1224, "to": HANDSET, "from": "Acme"}
    [fits] = ok(await clicksend.http.post("/sms/send", json={"messages": [longest]}))["messages"]
    assert (fits["status"], fits["message_parts"]) == ("SUCCESS", 8)
    too_long = {**longest, "body": "a" * 1225}
    for path in ("/sms/send", "/sms/price"):
        body = refused(
            await clicksend.http.post(path, json={"messages": [too_long]}), 400, "BAD_REQUEST"
        )
        assert "1224" in body["response_msg"] and "messages.0.body" in body["response_msg"]
    assert ok(await clicksend.http.get("/sms/history"))["total"] == 1
