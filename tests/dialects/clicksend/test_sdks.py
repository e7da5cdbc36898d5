"""Both generations of the official ClickSend SDK, unmodified, against a running tidings:
send and read the delivery receipt, create a list, add a contact, send to the list, and find
the messages in the history. 6.x validates every answer with strict pydantic models, so these
flows also check every field type; 5.x answers with ``str(dict)``, parsed back here."""

from __future__ import annotations

import ast
import asyncio
import json
from types import ModuleType
from typing import Any

from tests.dialects.clicksend.conftest import ClickSend, eventually
from tidings.core import routing

HANDSET = "+358401234567"
OTHER_HANDSET = "+358401234568"
LONG_CODE = "+358409999999"


def sdk6_client(sdk6: ModuleType, clicksend: ClickSend) -> Any:
    # 6.x puts /v3 in its paths: the host is the bare service address.
    configuration = sdk6.Configuration(
        host=clicksend.host, username=clicksend.username, password=clicksend.api_key
    )
    return sdk6.ApiClient(configuration)


def sdk5_client(sdk5: ModuleType, clicksend: ClickSend) -> Any:
    configuration = sdk5.Configuration()
    configuration.host = f"{clicksend.host}/v3"
    configuration.username = clicksend.username
    configuration.password = clicksend.api_key
    return sdk5.ApiClient(configuration)


def parsed(answer: str) -> dict[str, Any]:
    result: dict[str, Any] = ast.literal_eval(answer)
    return result


async def test_sdk6_send_and_receipt(clicksend: ClickSend, sdk6: ModuleType) -> None:
    sms = sdk6.SmsApi(sdk6_client(sdk6, clicksend))
    request = sdk6.SendSmsRequest(
        messages=[
            sdk6.SendSmsRequestMessagesInner(
                body="Test message", to=HANDSET, var_from="Acme", custom_string="ref-123"
            )
        ]
    )
    sent = await clicksend.call(sms.send_sms, send_sms_request=request)
    assert (sent.http_code, sent.response_code) == (200, "SUCCESS")
    [message] = sent.data.messages
    assert (message.status, message.to, message.custom_string) == ("SUCCESS", HANDSET, "ref-123")
    assert sent.data.queued_count == 1

    async def delivered() -> bool:
        receipt = await clicksend.call(sms.view_specific_sms_receipt, message.message_id)
        return bool(receipt.data.status_code == 201)

    await eventually(delivered, "the receipt to say delivered")
    receipts = await clicksend.call(sms.view_sms_receipts)
    assert [r.message_id for r in receipts.data.data] == [message.message_id]
    assert receipts.data.data[0].custom_string == "ref-123"
    await clicksend.call(sms.mark_sms_receipt_as_read)
    assert (await clicksend.call(sms.view_sms_receipts)).data.total == 0

    account = await clicksend.call(sdk6.ManagementApi(sms.api_client).view_account_details)
    assert account.data.balance and account.data.currency.currency_name_short == "EUR"


async def test_sdk6_list_contact_send_to_list_and_history(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    client = sdk6_client(sdk6, clicksend)
    lists, sms = sdk6.ListsApi(client), sdk6.SmsApi(client)
    created = await clicksend.call(
        lists.create_list, create_list_request=sdk6.CreateListRequest(list_name="Customers")
    )
    list_id = created.data.list_id
    assert isinstance(list_id, int) and created.data.list_name == "Customers"
    for phone, name in ((HANDSET, "Aino"), (OTHER_HANDSET, "Eero")):
        contact = await clicksend.call(
            lists.create_new_contact,
            str(list_id),
            create_new_contact_request=sdk6.CreateNewContactRequest(
                phone_number=phone, first_name=name, last_name="K"
            ),
        )
        assert (contact.data.list_id, contact.data.phone_number) == (list_id, phone)
    members = await clicksend.call(lists.view_list_contacts, str(list_id))
    assert sorted(c.first_name for c in members.data.data) == ["Aino", "Eero"]
    viewed = await clicksend.call(lists.view_lists)
    assert [(entry.list_id, entry.contacts_count) for entry in viewed.data.data] == [(list_id, 2)]

    request = sdk6.SendSmsRequest(
        messages=[sdk6.SendSmsRequestMessagesInner(body="For the list", list_id=str(list_id))]
    )
    sent = await clicksend.call(sms.send_sms, send_sms_request=request)
    assert sorted(m.to for m in sent.data.messages) == [HANDSET, OTHER_HANDSET]
    assert {m.list_id for m in sent.data.messages} == {str(list_id)}
    assert all(m.contact_id for m in sent.data.messages)
    sent_ids = {m.message_id for m in sent.data.messages}

    history = await clicksend.call(sms.view_sms_history)
    assert {m.message_id for m in history.data.data} == sent_ids
    assert {m.body for m in history.data.data} == {"For the list"}


async def test_sdk5_send_and_receipt(clicksend: ClickSend, sdk5: ModuleType) -> None:
    sms = sdk5.SMSApi(sdk5_client(sdk5, clicksend))
    messages = sdk5.SmsMessageCollection(
        messages=[
            sdk5.SmsMessage(
                source="python-sdk-test",
                body="Test message",
                to=HANDSET,
                _from="Acme",
                custom_string="ref-5",
            )
        ]
    )
    sent = parsed(await clicksend.call(sms.sms_send_post, messages))
    assert sent["response_code"] == "SUCCESS"
    [message] = sent["data"]["messages"]
    assert (message["status"], message["to"]) == ("SUCCESS", HANDSET)

    async def delivered() -> bool:
        receipt = parsed(
            await clicksend.call(sms.sms_receipts_by_message_id_get, message["message_id"])
        )
        return bool(receipt["data"]["status_code"] == 201)

    await eventually(delivered, "the receipt to say delivered")
    history = parsed(await clicksend.call(sms.sms_history_get))
    assert [m["message_id"] for m in history["data"]["data"]] == [message["message_id"]]
    assert history["data"]["data"][0]["status"] == "Delivered"


async def test_sdk5_list_contact_send_to_list_and_delete(
    clicksend: ClickSend, sdk5: ModuleType
) -> None:
    client = sdk5_client(sdk5, clicksend)
    lists_api, contacts_api = sdk5.ContactListApi(client), sdk5.ContactApi(client)
    created = parsed(await clicksend.call(lists_api.lists_post, sdk5.ContactList(list_name="VIP")))
    list_id = created["data"]["list_id"]
    contact = parsed(
        await clicksend.call(
            contacts_api.lists_contacts_by_list_id_post,
            sdk5.Contact(phone_number=HANDSET, custom_1="gold", first_name="Aino"),
            list_id,
        )
    )
    assert (contact["data"]["list_id"], contact["data"]["custom_1"]) == (list_id, "gold")

    sms = sdk5.SMSApi(client)
    to_list = sdk5.SmsMessageCollection(
        messages=[sdk5.SmsMessage(body="For VIPs", list_id=list_id, _from="Acme")]
    )
    sent = parsed(await clicksend.call(sms.sms_send_post, to_list))
    [message] = sent["data"]["messages"]
    assert (message["to"], message["list_id"]) == (HANDSET, str(list_id))
    history = parsed(await clicksend.call(sms.sms_history_get))
    assert [m["message_id"] for m in history["data"]["data"]] == [message["message_id"]]

    # 5.x sends its DELETEs with a {} body.
    await clicksend.call(
        contacts_api.lists_contacts_by_list_id_and_contact_id_delete,
        list_id,
        contact["data"]["contact_id"],
    )
    await clicksend.call(lists_api.lists_by_list_id_delete, list_id)
    remaining = parsed(await clicksend.call(lists_api.lists_get))
    assert remaining["data"]["total"] == 0


async def test_sdk6_replies_lists_and_contacts_parse_strictly(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    """The other SMS, list and contact calls of 6.x: each answer passes its strict model."""
    running = clicksend.running
    simulator = running.service.simulator
    assert simulator is not None
    await routing.add_sender(running.service.database, running.account, LONG_CODE)
    client = sdk6_client(sdk6, clicksend)
    sms, lists = sdk6.SmsApi(client), sdk6.ListsApi(client)
    contacts = sdk6.ContactsApi(client)

    priced = await clicksend.call(
        sms.calculate_sms_price,
        calculate_sms_price_request=sdk6.CalculateSmsPriceRequest(
            messages=[sdk6.CalculateSmsPriceRequestMessagesInner(body="x" * 200, to=HANDSET)]
        ),
    )
    assert priced.data.messages[0].message_parts == 2

    message = sdk6.SendSmsRequestMessagesInner(
        body="Shall we meet?", to=HANDSET, var_from=LONG_CODE, custom_string="meet"
    )
    sent = await clicksend.call(
        sms.send_sms, send_sms_request=sdk6.SendSmsRequest(messages=[message])
    )
    original_id = sent.data.messages[0].message_id
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Yes, at noon", timeout=30) == 1
    inbound = await clicksend.call(sms.view_inbound_sms)
    [reply] = inbound.data.data
    assert (reply.body, reply.original_message_id, reply.original_body) == (
        "Yes, at noon",
        original_id,
        "Shall we meet?",
    )
    assert reply.custom_string == "meet"
    # 6.x looks a reply up by the id of the message it answers.
    found = await clicksend.call(sms.view_a_specific_inbound_sms_message, original_id)
    assert found.data.message_id == reply.message_id
    await clicksend.call(sms.mark_specific_inbound_sms_message_as_read, reply.message_id)
    assert (await clicksend.call(sms.view_inbound_sms)).data.total == 0
    await clicksend.call(sms.mark_inbound_sms_as_read)

    later = sdk6.SendSmsRequestMessagesInner(body="Later", to=HANDSET, schedule=4_000_000_000)
    for _ in range(2):
        scheduled = await clicksend.call(
            sms.send_sms, send_sms_request=sdk6.SendSmsRequest(messages=[later])
        )
    await clicksend.call(sms.cancel_sms, scheduled.data.messages[0].message_id)
    assert (await clicksend.call(sms.cancel_all_sms)).data.count == 1
    exported = await clicksend.call(sms.export_sms_history, filename="all.csv")
    assert exported.data.url.startswith(clicksend.host)

    first = await clicksend.call(
        lists.create_list, create_list_request=sdk6.CreateListRequest(list_name="A")
    )
    second = await clicksend.call(
        lists.create_list, create_list_request=sdk6.CreateListRequest(list_name="B")
    )
    a, b = str(first.data.list_id), str(second.data.list_id)
    renamed = await clicksend.call(
        lists.update_list, a, create_list_request=sdk6.CreateListRequest(list_name="A2")
    )
    assert renamed.data.list_name == "A2"
    assert (await clicksend.call(lists.view_specific_list, a)).data.list_name == "A2"
    contact = await clicksend.call(
        lists.create_new_contact,
        a,
        create_new_contact_request=sdk6.CreateNewContactRequest(
            phone_number=HANDSET, first_name="Aino", custom_2="x"
        ),
    )
    contact_id = str(contact.data.contact_id)
    updated = await clicksend.call(
        contacts.update_contact,
        a,
        contact_id,
        create_new_contact_request=sdk6.CreateNewContactRequest(last_name="Virtanen"),
    )
    assert (updated.data.first_name, updated.data.last_name) == ("Aino", "Virtanen")
    fetched = await clicksend.call(contacts.get_specific_contact, a, contact_id)
    assert fetched.data.custom_2 == "x"
    copied = await clicksend.call(lists.copy_contact_to_list, a, contact_id, b)
    assert copied.data.list_id == second.data.list_id
    # The copy is the second list's own contact, under its own id.
    assert copied.data.contact_id != contact.data.contact_id
    await clicksend.call(contacts.delete_contact, b, str(copied.data.contact_id))
    moved = await clicksend.call(lists.transfer_contact_to_list, a, contact_id, b)
    assert moved.data.list_id == second.data.list_id
    deduplicated = await clicksend.call(lists.remove_duplicate_contacts, b)
    assert deduplicated.response_code == "SUCCESS"
    await clicksend.call(lists.delete_list, a)
    remaining = await clicksend.call(lists.view_lists)
    assert [(entry.list_name, entry.contacts_count) for entry in remaining.data.data] == [("B", 1)]

    missing = await asyncio.to_thread(_status_of_missing_list, lists, a)
    assert missing == 404


def _status_of_missing_list(lists: Any, list_id: str) -> int:
    try:
        lists.view_specific_list(list_id)
    except Exception as error:  # the SDK's NotFoundException
        status: int = error.status  # type: ignore[attr-defined]
        return status
    return 200


async def test_sdk5_inbound_receipts_account_and_bad_credentials(
    clicksend: ClickSend, sdk5: ModuleType
) -> None:
    running = clicksend.running
    simulator = running.service.simulator
    assert simulator is not None
    await routing.add_sender(running.service.database, running.account, LONG_CODE)
    client = sdk5_client(sdk5, clicksend)
    sms = sdk5.SMSApi(client)
    outgoing = sdk5.SmsMessageCollection(
        messages=[sdk5.SmsMessage(body="Ping", to=HANDSET, _from=LONG_CODE)]
    )
    sent = parsed(await clicksend.call(sms.sms_send_post, outgoing))
    message_id = sent["data"]["messages"][0]["message_id"]
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Pong", timeout=30) == 1

    inbound = parsed(await clicksend.call(sms.sms_inbound_get))
    [reply] = inbound["data"]["data"]
    assert (reply["body"], reply["original_message_id"]) == ("Pong", message_id)
    await clicksend.call(sms.sms_inbound_read_put, date_before=sdk5.DateBefore(date_before=4e9))
    assert parsed(await clicksend.call(sms.sms_inbound_get))["data"]["total"] == 0

    async def receipt_listed() -> bool:
        receipts = parsed(await clicksend.call(sms.sms_receipts_get))
        return [r["message_id"] for r in receipts["data"]["data"]] == [message_id]

    await eventually(receipt_listed, "the receipt in the unread receipts")
    await clicksend.call(sms.sms_receipts_read_put)
    assert parsed(await clicksend.call(sms.sms_receipts_get))["data"]["total"] == 0

    account = parsed(await clicksend.call(sdk5.AccountApi(client).account_get))
    assert account["response_code"] == "SUCCESS" and account["data"]["balance"]

    wrong = sdk5.Configuration()
    wrong.host = f"{clicksend.host}/v3"
    wrong.username, wrong.password = clicksend.username, "tdk_not_the_secret"
    failure = await asyncio.to_thread(
        _failure_of, sdk5.AccountApi(sdk5.ApiClient(wrong)).account_get
    )
    assert failure.status == 401
    assert parsed_json(failure.body)["response_code"] == "UNAUTHORIZED"


def _failure_of(call: Any) -> Any:
    try:
        call()
    except Exception as error:  # the SDK's ApiException
        return error
    raise AssertionError("the call succeeded")


def parsed_json(body: bytes | str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(body)
    return result
