"""ClickSend SMS campaigns through both SDK generations, against a running tidings: a campaign
to a list reaches the list's handsets, a scheduled one is updated and cancelled before it
starts, a price stores nothing, and refusals come in ClickSend's envelope."""

from __future__ import annotations

import asyncio
import json
import time
from types import ModuleType
from typing import Any

import httpx

from tests.dialects.clicksend.conftest import ClickSend, eventually
from tests.dialects.clicksend.test_sdks import parsed, sdk5_client, sdk6_client

HANDSET = "+358401234567"
OTHER_HANDSET = "+358401234568"


def _failure_of(call: Any, *args: Any) -> Any:
    try:
        call(*args)
    except Exception as error:  # the SDK's ApiException
        return error
    raise AssertionError("the call succeeded")


def _envelope(body: bytes | str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(body)
    assert set(result) == {"http_code", "response_code", "response_msg", "data"}
    return result


async def _list_with_contacts(clicksend: ClickSend, name: str, phones: list[str]) -> int:
    created = (await clicksend.http.post("/lists", json={"list_name": name})).json()
    list_id: int = created["data"]["list_id"]
    for phone in phones:
        answer = await clicksend.http.post(
            f"/lists/{list_id}/contacts", json={"phone_number": phone}
        )
        assert answer.status_code == 200, answer.text
    return list_id


def _received(clicksend: ClickSend, phone: str, text: str) -> list[Any]:
    simulator = clicksend.running.service.simulator
    assert simulator is not None
    return [m for m in simulator.inbox(phone) if m.text == text]


async def test_sdk6_campaign_to_a_list_reaches_its_handsets(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    list_id = await _list_with_contacts(clicksend, "Customers", [HANDSET, OTHER_HANDSET])
    api = sdk6.SmsCampaignsApi(sdk6_client(sdk6, clicksend))
    request = sdk6.SendSmsCampaignRequest(
        list_id=list_id, name="Spring sale", var_from="Acme", body="Sale today", senders=[]
    )
    sent = await clicksend.call(api.send_sms_campaign, send_sms_campaign_request=request)
    assert (sent.http_code, sent.response_code) == (200, "SUCCESS")
    campaign = sent.data
    assert isinstance(campaign.sms_campaign_id, int)
    assert (campaign.list_id, campaign.name, campaign.var_from, campaign.body) == (
        list_id,
        "Spring sale",
        "Acme",
        "Sale today",
    )
    assert campaign.list_name == "Customers"

    async def delivered() -> bool:
        return all(_received(clicksend, phone, "Sale today") for phone in (HANDSET, OTHER_HANDSET))

    await eventually(delivered, "the campaign in both handsets' inboxes")

    async def sent_status() -> bool:
        viewed = await clicksend.call(api.view_specific_sms_campaign, str(campaign.sms_campaign_id))
        return bool(viewed.data.status == "Sent")

    await eventually(sent_status, "the campaign to be Sent")
    viewed = await clicksend.call(api.view_specific_sms_campaign, str(campaign.sms_campaign_id))
    assert viewed.data.total_count == 2
    listed = await clicksend.call(api.view_sms_campaigns)
    assert listed.data.total == 1
    assert [(c.sms_campaign_id, c.status) for c in listed.data.data] == [
        (campaign.sms_campaign_id, "Sent")
    ]
    # Each handset got it once.
    assert [len(_received(clicksend, p, "Sale today")) for p in (HANDSET, OTHER_HANDSET)] == [1, 1]


async def test_sdk6_scheduled_campaign_is_updated_and_cancelled(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    list_id = await _list_with_contacts(clicksend, "Later", [HANDSET])
    api = sdk6.SmsCampaignsApi(sdk6_client(sdk6, clicksend))
    later = int(time.time()) + 3600
    request = sdk6.SendSmsCampaignRequest(
        list_id=list_id, name="Later", var_from="Acme", body="First", senders=[], schedule=later
    )
    sent = await clicksend.call(api.send_sms_campaign, send_sms_campaign_request=request)
    number = str(sent.data.sms_campaign_id)
    assert (sent.data.status, sent.data.schedule) == ("Scheduled", later)

    change = sdk6.CalculateSmsCampaignPriceRequest(
        list_id=str(list_id), name="Later, renamed", var_from="Acme", body="Second"
    )
    updated = await clicksend.call(
        api.update_sms_campaign, number, calculate_sms_campaign_price_request=change
    )
    assert (updated.data.name, updated.data.body, updated.data.status) == (
        "Later, renamed",
        "Second",
        "Scheduled",
    )
    assert updated.data.schedule == later
    viewed = await clicksend.call(api.view_specific_sms_campaign, number)
    assert viewed.data.body == "Second"

    cancelled = await clicksend.call(api.cancel_sms_campaign, number)
    assert cancelled.data.status == "Cancelled"
    # Once cancelled it changes no more, and cancelling again is refused.
    for call, args in (
        (api.update_sms_campaign, (number, None, change)),
        (api.cancel_sms_campaign, (number,)),
    ):
        failure = await asyncio.to_thread(_failure_of, call, *args)
        assert failure.status == 400
        assert _envelope(failure.body)["response_code"] == "BAD_REQUEST"
    assert (await clicksend.call(api.view_specific_sms_campaign, number)).data.body == "Second"
    assert not _received(clicksend, HANDSET, "Second")


async def test_sdk6_price_stores_nothing(clicksend: ClickSend, sdk6: ModuleType) -> None:
    list_id = await _list_with_contacts(clicksend, "Priced", [HANDSET, OTHER_HANDSET])
    api = sdk6.SmsCampaignsApi(sdk6_client(sdk6, clicksend))
    price_per_part = clicksend.running.service.settings.price_per_part
    # 200 GSM characters: two parts to each of two contacts.
    request = sdk6.CalculateSmsCampaignPriceRequest(
        list_id=str(list_id), name="Priced", var_from="Acme", body="x" * 200
    )
    priced = await clicksend.call(
        api.calculate_sms_campaign_price, calculate_sms_campaign_price_request=request
    )
    assert priced.data.total_count == 2
    assert float(priced.data.total_price) == float(price_per_part * 4)
    assert priced.data.currency.currency_name_short == clicksend.running.service.settings.currency
    assert (await clicksend.call(api.view_sms_campaigns)).data.total == 0
    await asyncio.sleep(0.5)
    assert not _received(clicksend, HANDSET, "x" * 200)


async def test_sdk5_campaign_flow(clicksend: ClickSend, sdk5: ModuleType) -> None:
    list_id = await _list_with_contacts(clicksend, "Five", [HANDSET])
    api = sdk5.SmsCampaignApi(sdk5_client(sdk5, clicksend))
    later = int(time.time()) + 3600
    scheduled = parsed(
        await clicksend.call(
            api.sms_campaigns_send_post,
            sdk5.SmsCampaign(
                list_id=list_id, name="Five", body="Later", _from="Acme", schedule=later
            ),
        )
    )
    number = scheduled["data"]["sms_campaign_id"]
    assert scheduled["data"]["status"] == "Scheduled"
    updated = parsed(
        await clicksend.call(
            api.sms_campaigns_by_sms_campaign_id_put,
            number,
            sdk5.SmsCampaign(
                list_id=list_id, name="Five", body="Now", _from="Acme", schedule=later
            ),
        )
    )
    assert (updated["data"]["body"], updated["data"]["status"]) == ("Now", "Scheduled")
    cancelled = parsed(
        await clicksend.call(api.sms_campaigns_cancel_by_sms_campaign_id_put, number)
    )
    assert cancelled["data"]["status"] == "Cancelled"

    # 5.x sends schedule 0 unless told otherwise: now.
    sent = parsed(
        await clicksend.call(
            api.sms_campaigns_send_post,
            sdk5.SmsCampaign(list_id=list_id, name="Five now", body="Hello five", _from="Acme"),
        )
    )
    assert sent["data"]["status"] in {"Sending", "Sent"}

    async def delivered() -> bool:
        return bool(_received(clicksend, HANDSET, "Hello five"))

    await eventually(delivered, "the campaign in the handset's inbox")
    viewed = parsed(
        await clicksend.call(
            api.sms_campaign_by_sms_campaign_id_get, sent["data"]["sms_campaign_id"]
        )
    )
    assert viewed["data"]["list_id"] == list_id
    listed = parsed(await clicksend.call(api.sms_campaigns_get))
    assert [c["name"] for c in listed["data"]["data"]] == ["Five now", "Five"]
    priced = parsed(
        await clicksend.call(
            api.sms_campaigns_price_post,
            sdk5.SmsCampaign(list_id=list_id, name="P", body="Hi", _from="Acme"),
        )
    )
    assert priced["data"]["total_count"] == 1
    assert parsed(await clicksend.call(api.sms_campaigns_get))["data"]["total"] == 2


async def test_bad_input_and_another_accounts_ids(clicksend: ClickSend) -> None:
    list_id = await _list_with_contacts(clicksend, "Mine", [HANDSET])
    missing = await clicksend.http.post("/sms-campaigns/send", json={"list_id": list_id})
    assert _envelope(missing.content)["response_code"] == "MISSING_REQUIRED_FIELDS"
    assert missing.status_code == 400
    empty = await clicksend.http.post(
        "/sms-campaigns/send", json={"list_id": list_id, "name": "E", "body": ""}
    )
    assert (empty.status_code, _envelope(empty.content)["response_code"]) == (400, "EMPTY_MESSAGE")
    no_list = await clicksend.http.post(
        "/sms-campaigns/send", json={"list_id": 999999, "name": "N", "body": "Hi"}
    )
    assert (no_list.status_code, _envelope(no_list.content)["response_code"]) == (404, "NOT_FOUND")
    created = await clicksend.http.post(
        "/sms-campaigns/send",
        json={"list_id": list_id, "name": "Mine", "body": "Hi", "schedule": int(time.time()) + 600},
    )
    number = _envelope(created.content)["data"]["sms_campaign_id"]

    username, api_key = await clicksend.other_account()
    async with httpx.AsyncClient(
        base_url=clicksend.http.base_url, auth=(username, api_key), timeout=30.0
    ) as other:
        for method, path, body in (
            ("GET", f"/sms-campaigns/{number}", None),
            ("PUT", f"/sms-campaigns/{number}", {"body": "Theirs"}),
            ("PUT", f"/sms-campaigns/{number}/cancel", None),
            ("POST", "/sms-campaigns/send", {"list_id": list_id, "name": "T", "body": "Hi"}),
            ("POST", "/sms-campaigns/price", {"list_id": list_id, "name": "T", "body": "Hi"}),
        ):
            answer = await other.request(method, path, json=body)
            assert answer.status_code == 404, (path, answer.text)
            assert _envelope(answer.content)["response_code"] == "NOT_FOUND"
        listed = (await other.get("/sms-campaigns")).json()
        assert listed["data"]["total"] == 0
    mine = (await clicksend.http.get(f"/sms-campaigns/{number}")).json()
    assert (mine["data"]["body"], mine["data"]["status"]) == ("Hi", "Scheduled")


async def test_an_update_to_schedule_zero_sends_now_and_a_sent_campaign_stays(
    clicksend: ClickSend,
) -> None:
    list_id = await _list_with_contacts(clicksend, "Soon", [HANDSET])
    created = await clicksend.http.post(
        "/sms-campaigns/send",
        json={
            "list_id": list_id,
            "name": "Soon",
            "body": "Wait",
            "schedule": int(time.time()) + 600,
        },
    )
    number = _envelope(created.content)["data"]["sms_campaign_id"]
    moved = await clicksend.http.put(
        f"/sms-campaigns/{number}", json={"body": "Now instead", "schedule": 0}
    )
    assert _envelope(moved.content)["data"]["status"] in {"Sending", "Sent"}

    async def delivered() -> bool:
        return bool(_received(clicksend, HANDSET, "Now instead"))

    await eventually(delivered, "the moved campaign in the handset's inbox")
    late = await clicksend.http.put(f"/sms-campaigns/{number}", json={"body": "Too late"})
    assert (late.status_code, _envelope(late.content)["response_code"]) == (400, "BAD_REQUEST")
    shown = _envelope((await clicksend.http.get(f"/sms-campaigns/{number}")).content)["data"]
    assert shown["body"] == "Now instead"
    assert not _received(clicksend, HANDSET, "Wait")
