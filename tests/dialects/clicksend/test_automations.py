"""ClickSend automations through both SDK generations and raw HTTP, against a running tidings
whose pushes reach a real HTTP receiver on 127.0.0.1: inbound rules receive an injected MO
message in ClickSend's field names (JSON or form), receipt rules receive the delivery receipt
push, Power Automate's /ms-flow trigger subscribes and unsubscribes, test pushes arrive, and
bad input and other accounts' ids are answered in ClickSend's envelope."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tests.dialects.clicksend.conftest import ClickSend, eventually
from tests.dialects.clicksend.test_sdks import parsed, sdk5_client, sdk6_client
from tests.integration.dispatch.conftest import Running, running_service, service_settings
from tests.integration.events.sink import ReceivedRequest, Sink
from tidings.core import routing

HANDSET = "+358401234567"
LONG_CODE = "+358409999999"
UNDELIVERABLE = "+358401234560"
# Long enough for a push that was going to arrive to have arrived (the outbox polls every 50 ms).
QUIET_SECONDS = 1.0


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(
        tmp_path,
        database_url,
        webhook_allow_loopback=True,
        outbox_poll_seconds=0.05,
        webhook_backoff_base_seconds=0.05,
        webhook_backoff_cap_seconds=0.2,
    )
    async with running_service(settings) as started:
        await routing.add_sender(started.service.database, started.account, LONG_CODE)
        yield started


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    receiver = Sink()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def at(sink: Sink, path: str) -> list[ReceivedRequest]:
    return [request for request in sink.received if request.target == path]


async def arrival(sink: Sink, path: str, count: int = 1) -> list[ReceivedRequest]:
    async def arrived() -> bool:
        return len(at(sink, path)) >= count

    await eventually(arrived, f"{count} push(es) at {path}")
    return at(sink, path)


def form(request: ReceivedRequest) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return {
        name: values[0]
        for name, values in parse_qs(request.body.decode(), keep_blank_values=True).items()
    }


def json_body(request: ReceivedRequest) -> dict[str, Any]:
    assert request.headers["content-type"].startswith("application/json")
    result: dict[str, Any] = json.loads(request.body)
    return result


async def inject(clicksend: ClickSend, text: str, sender: str = HANDSET) -> None:
    simulator = clicksend.running.service.simulator
    assert simulator is not None
    assert await simulator.inject_inbound(sender, LONG_CODE, text, timeout=30) == 1


async def test_sdk6_inbound_automation_pushes_the_mo_message_in_clicksend_fields(
    clicksend: ClickSend, sdk6: ModuleType, sink: Sink
) -> None:
    client = sdk6_client(sdk6, clicksend)
    sms = sdk6.SmsApi(client)
    sent = await clicksend.call(
        sms.send_sms,
        send_sms_request=sdk6.SendSmsRequest(
            messages=[
                sdk6.SendSmsRequestMessagesInner(
                    body="Coming tomorrow?", to=HANDSET, var_from=LONG_CODE, custom_string="visit"
                )
            ]
        ),
    )
    original_id = sent.data.messages[0].message_id
    # 6.x's request model has no webhook_type: JSON, as for ClickSend.
    created = await clicksend.call(
        sms.create_sms_inbound_automation,
        create_sms_inbound_automation_request=sdk6.CreateSmsInboundAutomationRequest(
            dedicated_number="*",
            rule_name="To my app",
            message_search_type=0,
            message_search_term="",
            action="URL",
            action_address=f"{sink.url}/inbound",
            enabled=1,
        ),
    )
    assert created.response_code == "SUCCESS"
    rule_id = created.data.inbound_rule_id
    assert isinstance(rule_id, int) and created.data.action == "URL"

    await inject(clicksend, "yes see you")
    [request] = await arrival(sink, "/inbound")
    push = json_body(request)
    assert (push["from"], push["to"], push["body"]) == (HANDSET, LONG_CODE, "yes see you")
    assert (push["original_message_id"], push["original_body"]) == (original_id, "Coming tomorrow?")
    assert push["custom_string"] == "visit"
    assert push["keyword"] == push["_keyword"] == "YES"
    assert isinstance(push["timestamp"], int) and isinstance(push["user_id"], int)
    inbound = await clicksend.call(sms.view_inbound_sms)
    assert [m.message_id for m in inbound.data.data] == [push["message_id"]]

    listed = await clicksend.call(sms.view_sms_inbound_automations)
    assert [r.inbound_rule_id for r in listed.data.data] == [rule_id]
    viewed = await clicksend.call(sms.view_sms_inbound_automation, str(rule_id))
    assert viewed.data.action_address == f"{sink.url}/inbound"
    # Switched off, it posts nothing; a second rule shows the next message was processed.
    updated = await clicksend.call(
        sms.update_sms_inbound_automation,
        str(rule_id),
        update_sms_inbound_automation_request=sdk6.UpdateSmsInboundAutomationRequest(enabled=0),
    )
    assert updated.data.enabled == 0
    await clicksend.call(
        sms.create_sms_inbound_automation,
        create_sms_inbound_automation_request=sdk6.CreateSmsInboundAutomationRequest(
            dedicated_number=LONG_CODE,
            rule_name="Second",
            message_search_type=2,
            message_search_term="again",
            action="URL",
            action_address=f"{sink.url}/second",
            enabled=1,
        ),
    )
    await inject(clicksend, "Once AGAIN")
    [second] = await arrival(sink, "/second")
    assert json_body(second)["body"] == "Once AGAIN"
    await asyncio.sleep(QUIET_SECONDS)
    assert len(at(sink, "/inbound")) == 1

    deleted = await clicksend.call(sms.delete_sms_inbound_automation, str(rule_id))
    assert deleted.response_code == "SUCCESS"
    missing = await clicksend.http.get(f"/automations/sms/inbound/{rule_id}")
    assert (missing.status_code, missing.json()["response_code"]) == (404, "NOT_FOUND")


async def test_sdk5_inbound_rule_posts_a_form_when_its_term_matches(
    clicksend: ClickSend, sdk5: ModuleType, sink: Sink
) -> None:
    rules = sdk5.InboundSMSRulesApi(sdk5_client(sdk5, clicksend))
    created = parsed(
        await clicksend.call(
            rules.sms_inbound_automation_post,
            sdk5.InboundSMSRule(
                dedicated_number=LONG_CODE,
                rule_name="Joins",
                message_search_type=1,
                message_search_term="JOIN",
                action="URL",
                action_address=f"{sink.url}/joins",
                enabled=1,
                webhook_type="post",
            ),
        )
    )
    rule_id = created["data"]["inbound_rule_id"]
    assert created["data"]["webhook_type"] == "post"

    await inject(clicksend, "hello there")
    await inject(clicksend, "join the club")
    [request] = await arrival(sink, "/joins")
    push = form(request)
    assert (push["from"], push["to"], push["body"]) == (HANDSET, LONG_CODE, "join the club")
    assert push["keyword"] == "JOIN" and push["timestamp"].isdigit()
    assert push["original_message_id"] == ""  # nothing was sent to that number before

    fetched = parsed(await clicksend.call(rules.sms_inbound_automation_get, rule_id))
    assert fetched["data"]["message_search_term"] == "JOIN"
    changed = parsed(
        await clicksend.call(
            rules.sms_inbound_automation_put,
            rule_id,
            sdk5.InboundSMSRule(
                dedicated_number="*",
                rule_name="Everything",
                message_search_type=0,
                message_search_term="",
                action="URL",
                action_address=f"{sink.url}/all",
                enabled=1,
                webhook_type="json",
            ),
        )
    )
    assert (changed["data"]["rule_name"], changed["data"]["webhook_type"]) == ("Everything", "json")
    await inject(clicksend, "anything")
    [moved] = await arrival(sink, "/all")
    assert json_body(moved)["body"] == "anything"
    listed = parsed(await clicksend.call(rules.sms_inbound_automations_get))
    assert [r["inbound_rule_id"] for r in listed["data"]["data"]] == [rule_id]
    # 5.x sends its DELETEs with a {} body.
    await clicksend.call(rules.sms_inbound_automation_delete, rule_id)
    assert parsed(await clicksend.call(rules.sms_inbound_automations_get))["data"]["total"] == 0


async def test_sdk6_receipt_rule_pushes_the_delivery_receipt(
    clicksend: ClickSend, sdk6: ModuleType, sink: Sink
) -> None:
    sms = sdk6.SmsApi(sdk6_client(sdk6, clicksend))
    created = await clicksend.call(
        sms.create_sms_delivery_receipt_rule,
        create_sms_delivery_receipt_rule_request=sdk6.CreateSmsDeliveryReceiptRuleRequest(
            rule_name="Receipts", match_type=0, action="URL", action_address=f"{sink.url}/dlr"
        ),
    )
    assert created.response_code == "SUCCESS"
    sent = await clicksend.call(
        sms.send_sms,
        send_sms_request=sdk6.SendSmsRequest(
            messages=[
                sdk6.SendSmsRequestMessagesInner(
                    body="Your code", to=HANDSET, var_from="Acme", custom_string="order-7"
                )
            ]
        ),
    )
    message_id = sent.data.messages[0].message_id
    [request] = await arrival(sink, "/dlr")
    # ClickSend posts receipts as a form; only the outcome is a receipt, not "sent to network".
    receipt = form(request)
    assert (receipt["message_id"], receipt["custom_string"]) == (message_id, "order-7")
    assert (receipt["status_code"], receipt["status_text"], receipt["error_code"]) == (
        "201",
        "Delivered",
        "4",
    )
    assert receipt["message_type"] == "SMS" and receipt["timestamp_send"].isdigit()
    await asyncio.sleep(QUIET_SECONDS)
    assert len(at(sink, "/dlr")) == 1

    rules = await clicksend.call(sms.view_sms_delivery_receipt_rules)
    assert [r.rule_name for r in rules.data.data] == ["Receipts"]
    rule_id = str(created.data.receipt_rule_id)
    viewed = await clicksend.call(sms.view_sms_delivery_receipt_rule, rule_id)
    assert viewed.data.rule_name == "Receipts"
    await clicksend.call(sms.delete_sms_delivery_receipt_rule, rule_id)
    gone = await clicksend.http.get(f"/automations/sms/receipts/{rule_id}")
    assert gone.json()["response_code"] == "NOT_FOUND"


async def test_sdk5_receipt_rules_match_type_and_update(
    clicksend: ClickSend, sdk5: ModuleType, sink: Sink
) -> None:
    client = sdk5_client(sdk5, clicksend)
    rules = sdk5.SMSDeliveryReceiptRulesApi(client)
    failed_only = parsed(
        await clicksend.call(
            rules.sms_delivery_receipt_automation_post,
            sdk5.DeliveryReceiptRule(
                rule_name="Failures",
                match_type=1,
                action="URL",
                action_address=f"{sink.url}/failed",
                enabled=1,
            ),
        )
    )
    delivered_only = parsed(
        await clicksend.call(
            rules.sms_delivery_receipt_automation_post,
            sdk5.DeliveryReceiptRule(
                rule_name="Successes",
                match_type=2,
                action="URL",
                action_address=f"{sink.url}/ok",
                enabled=1,
            ),
        )
    )
    # JSON instead of the form, through ClickSend's field for it on inbound rules.
    answer = await clicksend.http.put(
        f"/automations/sms/receipts/{delivered_only['data']['receipt_rule_id']}",
        json={"webhook_type": "json"},
    )
    assert answer.json()["data"]["webhook_type"] == "json"
    sms = sdk5.SMSApi(client)
    sent = parsed(
        await clicksend.call(
            sms.sms_send_post,
            sdk5.SmsMessageCollection(
                messages=[sdk5.SmsMessage(body="Hi", to=HANDSET, _from="Acme")]
            ),
        )
    )
    [request] = await arrival(sink, "/ok")
    receipt = json_body(request)
    assert receipt["message_id"] == sent["data"]["messages"][0]["message_id"]
    assert (receipt["status_code"], receipt["error_code"]) == (201, 4)
    await asyncio.sleep(QUIET_SECONDS)
    assert at(sink, "/failed") == []
    # The simulator does not deliver to a number ending in 0.
    await clicksend.call(
        sms.sms_send_post,
        sdk5.SmsMessageCollection(
            messages=[sdk5.SmsMessage(body="Lost", to=UNDELIVERABLE, _from="Acme")]
        ),
    )
    [failure] = await arrival(sink, "/failed")
    failed = form(failure)
    assert (failed["status_code"], failed["status_text"]) == ("301", "Failed")
    assert len(at(sink, "/ok")) == 1

    switched = parsed(
        await clicksend.call(
            rules.sms_delivery_receipt_automation_put,
            delivered_only["data"]["receipt_rule_id"],
            sdk5.DeliveryReceiptRule(
                rule_name="Off",
                match_type=2,
                action="URL",
                action_address=f"{sink.url}/ok",
                enabled=0,
            ),
        )
    )
    assert switched["data"]["enabled"] == 0
    again = parsed(
        await clicksend.call(
            sms.sms_send_post,
            sdk5.SmsMessageCollection(
                messages=[sdk5.SmsMessage(body="Again", to=HANDSET, _from="Acme")]
            ),
        )
    )
    # Delivered first, so the quiet time below is the switched-off rule's, not a slow delivery.
    await clicksend.running.wait_for(again["data"]["messages"][0]["message_id"], {"delivered"})
    await asyncio.sleep(QUIET_SECONDS * 2)
    assert len(at(sink, "/ok")) == 1
    listed = parsed(await clicksend.call(rules.sms_delivery_receipt_automations_get))
    assert {r["rule_name"] for r in listed["data"]["data"]} == {"Failures", "Off"}
    await clicksend.call(
        rules.sms_delivery_receipt_automation_delete, failed_only["data"]["receipt_rule_id"]
    )
    assert (
        parsed(await clicksend.call(rules.sms_delivery_receipt_automations_get))["data"]["total"]
        == 1
    )


async def test_power_automate_subscribes_gets_events_and_unsubscribes(
    clicksend: ClickSend, sink: Sink
) -> None:
    # The connector's constants (CONTRACTS.md §4.1) and Power Automate's callback URL.
    body = {
        "message_search_type": 0,
        "message_search_term": "*",
        "action_address": f"{sink.url}/flow",
        "dedicated_number": "*",
        "rule_name": "Power-Automate",
        "webhook_type": "json",
        "action": "URL",
        "enabled": 1,
    }
    subscribed = await clicksend.http.post("/ms-flow/automations/sms/inbound", json=body)
    assert subscribed.status_code == 201, subscribed.text
    location = subscribed.headers["location"]
    assert location.startswith(clicksend.host)

    await inject(clicksend, "Hello flow")
    [request] = await arrival(sink, "/flow")
    assert json_body(request)["body"] == "Hello flow"

    # Power Automate deletes with the connection's Basic auth; without it, nothing happens.
    async with httpx.AsyncClient() as anonymous_client:
        anonymous = await anonymous_client.delete(location)
    assert anonymous.status_code == 401
    removed = await clicksend.http.delete(location)
    assert (removed.status_code, removed.json()["response_code"]) == (200, "SUCCESS")
    await inject(clicksend, "Anyone there?")
    await asyncio.sleep(QUIET_SECONDS)
    assert len(at(sink, "/flow")) == 1
    again = await clicksend.http.delete(location)
    assert again.status_code == 404


async def test_test_pushes_reach_the_url(
    clicksend: ClickSend, sdk6: ModuleType, sink: Sink
) -> None:
    sms = sdk6.SmsApi(sdk6_client(sdk6, clicksend))
    answer = await clicksend.call(
        sms.create_test_sms_receipt,
        create_test_sms_receipt_request=sdk6.CreateTestSmsReceiptRequest(
            url=f"{sink.url}/test-dlr"
        ),
    )
    assert answer.response_code == "SUCCESS"
    [receipt] = await arrival(sink, "/test-dlr")
    assert form(receipt)["status_text"] == "Delivered"
    inbound = await clicksend.call(
        sms.create_test_inbound_sms,
        create_test_inbound_sms_request=sdk6.CreateTestInboundSmsRequest(
            url=f"{sink.url}/test-in", webhook_type="json"
        ),
    )
    assert inbound.response_code == "SUCCESS"
    [push] = await arrival(sink, "/test-in")
    assert set(json_body(push)) >= {"timestamp", "from", "body", "to", "message_id", "keyword"}
    refused = await clicksend.http.post(
        "/sms/receipts", json={"url": "http://169.254.169.254/latest/meta-data"}
    )
    assert (refused.status_code, refused.json()["response_code"]) == (400, "BAD_REQUEST")


async def test_bad_input_and_other_accounts_rules(clicksend: ClickSend, sink: Sink) -> None:
    http = clicksend.http
    missing = await http.post("/automations/sms/inbound", json={"rule_name": "x", "action": "URL"})
    assert (missing.status_code, missing.json()["response_code"]) == (
        400,
        "MISSING_REQUIRED_FIELDS",
    )
    rule = {
        "dedicated_number": "*",
        "rule_name": "Mine",
        "message_search_type": 0,
        "message_search_term": "",
        "action": "URL",
        "action_address": f"{sink.url}/mine",
        "enabled": 1,
    }
    for wrong in (
        {"message_search_type": "often"},
        {"message_search_type": 7},
        {"action": "EMAIL_USER"},
        {"webhook_type": "xml"},
        {"action_address": "ftp://example.com/"},
        {"dedicated_number": "+15550001111"},  # not one of the account's numbers
    ):
        answer = await http.post("/automations/sms/inbound", json={**rule, **wrong})
        assert (answer.status_code, answer.json()["response_code"]) == (400, "BAD_REQUEST"), wrong
        assert answer.json()["http_code"] == 400
    bad_receipt = await http.post(
        "/automations/sms/receipts",
        json={"rule_name": "r", "match_type": 9, "action": "URL", "action_address": sink.url},
    )
    assert bad_receipt.json()["response_code"] == "BAD_REQUEST"
    unknown = await http.get("/automations/sms/inbound/987654")
    assert (unknown.status_code, unknown.json()["response_code"]) == (404, "NOT_FOUND")

    mine = (await http.post("/automations/sms/inbound", json=rule)).json()["data"]
    receipt = (
        await http.post(
            "/automations/sms/receipts",
            json={"rule_name": "r", "match_type": 0, "action": "URL", "action_address": sink.url},
        )
    ).json()["data"]
    user, secret = await clicksend.other_account()
    async with httpx.AsyncClient(base_url=f"{clicksend.host}/v3", auth=(user, secret)) as other:
        for path in (
            f"/automations/sms/inbound/{mine['inbound_rule_id']}",
            f"/ms-flow/automations/sms/inbound/{mine['inbound_rule_id']}",
            f"/automations/sms/receipts/{receipt['receipt_rule_id']}",
        ):
            assert (await other.get(path)).status_code in (404, 405)
            assert (await other.put(path, json={"rule_name": "theirs"})).status_code in (404, 405)
            deleted = await other.delete(path)
            assert (deleted.status_code, deleted.json()["response_code"]) == (404, "NOT_FOUND")
        for path in ("/automations/sms/inbound", "/automations/sms/receipts"):
            listed = (await other.get(path)).json()
            assert listed["data"]["total"] == 0
    still = await http.get(f"/automations/sms/inbound/{mine['inbound_rule_id']}")
    assert still.json()["data"]["rule_name"] == "Mine"
    async with httpx.AsyncClient(base_url=f"{clicksend.host}/v3", auth=(user, "nope")) as wrong:
        denied = await wrong.get("/automations/sms/inbound")
        assert (denied.status_code, denied.json()["response_code"]) == (401, "UNAUTHORIZED")


async def test_remove_opted_out_contacts_through_both_sdks(
    clicksend: ClickSend, sdk6: ModuleType, sdk5: ModuleType
) -> None:
    lists = sdk6.ListsApi(sdk6_client(sdk6, clicksend))

    async def new_list(name: str) -> str:
        created = await clicksend.call(
            lists.create_list, create_list_request=sdk6.CreateListRequest(list_name=name)
        )
        return str(created.data.list_id)

    async def add(list_id: str, phone: str) -> None:
        await clicksend.call(
            lists.create_new_contact,
            list_id,
            create_new_contact_request=sdk6.CreateNewContactRequest(
                phone_number=phone, first_name="N"
            ),
        )

    customers, opt_outs = await new_list("Customers"), await new_list("Opt-outs")
    stays, listed_out, texted_stop = "+358401110001", "+358401110002", "+358401110003"
    for phone in (stays, listed_out, texted_stop):
        await add(customers, phone)
    await add(opt_outs, listed_out)
    # STOP opts the number out account-wide in the registry.
    await inject(clicksend, "STOP", sender=texted_stop)

    removed = await clicksend.call(lists.remove_opted_out_contacts, customers, opt_outs)
    assert removed.data.deleted == 2
    members = await clicksend.call(lists.view_list_contacts, customers)
    assert [c.phone_number for c in members.data.data] == [stays]

    # 5.x names the same call after its path; nothing is left to remove.
    contacts5 = sdk5.ContactApi(sdk5_client(sdk5, clicksend))
    again = parsed(
        await clicksend.call(
            contacts5.lists_remove_opted_out_contacts_by_list_id_and_opt_out_list_id_put,
            int(customers),
            int(opt_outs),
        )
    )
    assert again["data"]["deleted"] == 0
    user, secret = await clicksend.other_account()
    async with httpx.AsyncClient(base_url=f"{clicksend.host}/v3", auth=(user, secret)) as other:
        theirs = await other.put(f"/lists/{customers}/remove-opted-out-contacts/{opt_outs}")
        assert (theirs.status_code, theirs.json()["response_code"]) == (404, "NOT_FOUND")


async def test_native_rules_keep_their_shape_and_may_choose_clicksends(
    clicksend: ClickSend, sink: Sink
) -> None:
    native = clicksend.running.http
    rule = {
        "rule_name": "Native",
        "dedicated_number": LONG_CODE,
        "message_search_type": 0,
        "action": "URL",
        "action_address": f"{sink.url}/native",
    }
    created = await native.post("/v1/inbound-rules", json=rule)
    assert created.status_code == 201, created.text
    assert created.json()["payload_format"] == "native"
    shaped = await native.post(
        "/v1/inbound-rules",
        json={**rule, "action_address": f"{sink.url}/shaped", "payload_format": "clicksend"},
    )
    assert shaped.json()["payload_format"] == "clicksend"
    await inject(clicksend, "Both")
    [plain] = await arrival(sink, "/native")
    [pushed] = await arrival(sink, "/shaped")
    assert json_body(plain)["rule_id"] == created.json()["id"]
    assert "rule_id" not in json_body(pushed)
    assert isinstance(json_body(pushed)["timestamp"], int)
    bad = await native.post("/v1/inbound-rules", json={**rule, "payload_format": "xml"})
    assert bad.status_code == 422


async def test_sdk6_auto_reply_rule_answers_from_the_receiving_number(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    sms = sdk6.SmsApi(sdk6_client(sdk6, clicksend))
    # 6.x's model carries the reply text in body; action_address stays empty.
    created = await clicksend.call(
        sms.create_sms_inbound_automation,
        create_sms_inbound_automation_request=sdk6.CreateSmsInboundAutomationRequest(
            dedicated_number=LONG_CODE,
            rule_name="Hours",
            message_search_type=2,
            message_search_term="open",
            action="AUTO_REPLY",
            body="We are open 9-17.",
            enabled=1,
        ),
    )
    assert created.data.action_address == "We are open 9-17."
    await inject(clicksend, "Are you open today?")
    simulator = clicksend.running.service.simulator
    assert simulator is not None

    async def replied() -> bool:
        return any(
            m.text == "We are open 9-17." and m.sender.lstrip("+") == LONG_CODE.lstrip("+")
            for m in simulator.inbox(HANDSET)
        )

    await eventually(replied, "the auto-reply in the handset's inbox")
