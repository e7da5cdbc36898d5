"""The simulator's phones: a sent message on its phone, live; WhatsApp messages as the handset
shows them, and a WhatsApp reply from it; a STOP sent from the phone opts the number out, and
the next send to it is refused; outcome rules and chaos changed from the page."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import (
    EXPECT_TIMEOUT_MS,
    Console,
    serious_accessibility_violations,
    sign_in,
    snap,
)

pytestmark = pytest.mark.browser

OUR_NUMBER = "+358409990001"


def _register_our_number(console: Console) -> None:
    with console.api() as api:
        answer = api.post("/v1/senders", json={"address": OUR_NUMBER})
        assert answer.status_code in (201, 409), answer.text


def test_a_sent_message_appears_on_its_phone_live(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Simulator").click()
    expect(page.get_by_role("heading", name="Simulator", level=1)).to_be_visible()
    with console.api() as api:
        api.post(
            "/v1/messages",
            json={"to": "+358401000031", "from": "Tidings", "body": "Your parcel is here"},
        ).raise_for_status()
    phone = page.locator('[data-phone="358401000031"]')
    expect(phone).to_contain_text("Your parcel is here")
    expect(phone).to_contain_text("Tidings")
    snap(page, "simulator")
    phone.get_by_role("link", name=re.compile("Open")).click()
    expect(page.get_by_role("heading", name=re.compile(r"Phone \+358401000031"))).to_be_visible()
    expect(page.locator(".phone-screen")).to_contain_text("Your parcel is here")
    snap(page, "simulator-phone")
    assert serious_accessibility_violations(page) == []


def test_stop_from_the_phone_opts_out_and_refuses_the_next_send(
    page: Any, console: Console
) -> None:
    _register_our_number(console)
    sign_in(page, console)
    page.goto(f"{console.url}/compose")
    page.get_by_label("To", exact=True).fill("+358401000041")
    page.get_by_label("From", exact=True).fill(OUR_NUMBER)
    page.get_by_label("Message", exact=True).fill("Sale starts tomorrow")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-message-id] [data-status]")).to_have_text("delivered")

    page.goto(f"{console.url}/simulator/phones/358401000041")
    screen = page.locator(".phone-screen")
    expect(screen).to_contain_text("Sale starts tomorrow")
    expect(page.get_by_label("To (one of your numbers)")).to_have_value(OUR_NUMBER)
    page.get_by_role("button", name="Send STOP").click()
    expect(page.get_by_role("status").filter(has_text="Sent 'STOP'")).to_be_visible()

    # The STOP arrived as an inbound message of the account...
    page.goto(f"{console.url}/messages?direction=in&number=%2B358401000041")
    expect(page.locator("tbody [data-message-id]").first).to_contain_text("STOP")
    # ...the number is on the account's opt-out list...
    page.goto(f"{console.url}/compliance")
    expect(page.locator('[data-list="optouts"] [data-phone="+358401000041"]')).to_be_visible()
    snap(page, "compliance")
    # ...and the next send to the number is refused as opted out.
    page.goto(f"{console.url}/compose")
    page.get_by_label("To", exact=True).fill("+358401000041")
    page.get_by_label("From", exact=True).fill(OUR_NUMBER)
    page.get_by_label("Message", exact=True).fill("Last chance!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("1 recipient(s) refused")
    expect(page.locator("tbody")).to_contain_text("opted_out")


def test_outcome_rules_change_what_receipts_say(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/simulator/settings")
    page.get_by_label("Numbers starting with").fill("35840100005")
    page.get_by_label("Receipt", exact=True).select_option("EXPIRED")
    page.get_by_label("Error code").fill("27")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status").filter(has_text="Rule added")).to_be_visible()
    with console.api() as api:
        rules = api.get("/v1/simulator/rules").json()["rules"]
        assert rules[0] == {
            "state": "EXPIRED",
            "err": 27,
            "prefix": "35840100005",
            "suffix": None,
            "probability": None,
        }
        sent = api.post(
            "/v1/messages", json={"to": "+358401000051", "from": "Tidings", "body": "expire me"}
        ).json()["messages"][0]
    page.goto(f"{console.url}/messages/{sent['id']}")
    expect(page.locator("[data-status]").first).to_have_text("expired")
    snap(page, "simulator-settings")
    page.goto(f"{console.url}/simulator/settings")
    page.get_by_role("button", name="Remove rule 1").click()
    with console.api() as api:
        assert api.get("/v1/simulator/rules").json()["rules"][0]["state"] == "UNDELIV"


def test_a_reply_from_a_phone_is_a_conversation_answered_from_the_inbox(
    page: Any, console: Console
) -> None:
    _register_our_number(console)
    sign_in(page, console)
    page.goto(f"{console.url}/simulator/phones/358401000081")
    page.get_by_label("To (one of your numbers)").fill(OUR_NUMBER)
    page.get_by_label("Message", exact=True).fill("Is the shop open today?")
    page.get_by_role("button", name="Send from phone").click()

    page.goto(f"{console.url}/conversations")
    thread = page.locator("[data-thread-id]").filter(has_text="+358401000081")
    expect(thread.locator("[data-unread]")).to_contain_text("1")
    thread.get_by_role("link").click()
    expect(page.locator(".conversation-messages")).to_contain_text("Is the shop open today?")
    expect(thread.locator("[data-unread]")).to_have_count(0)
    page.get_by_label(re.compile("Reply from")).fill("Yes, until eight.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".conversation-messages")).to_contain_text("Yes, until eight.")
    expect(page.locator(".bubble-ours [data-status]").last).to_have_text("delivered")
    snap(page, "conversation")
    page.goto(f"{console.url}/simulator/phones/358401000081")
    expect(page.locator(".phone-screen")).to_contain_text("Yes, until eight.")


WHATSAPP_BUSINESS = "+358409990100"  # the embedded Cloud API's demo business number


def test_whatsapp_text_buttons_and_a_picture_show_as_bubbles_on_the_phone(
    page: Any, console: Console
) -> None:
    handset = "+358401000601"
    with console.api() as api:
        # The handset writes first: free-form messages go within 24 hours of its last one.
        api.post(
            "/v1/simulator/whatsapp/inbound",
            json={"from": handset, "to": WHATSAPP_BUSINESS, "text": "Do you have croissants?"},
        ).raise_for_status()
        uploaded = api.post(
            "/v1/media", files={"file": ("bun.png", _png(), "image/png")}
        ).raise_for_status()
        whatsapp = {"to": handset, "from": WHATSAPP_BUSINESS, "channel": "whatsapp"}
        sends = [
            {**whatsapp, "body": "Yes, fresh at eight."},
            {
                **whatsapp,
                "body": "Shall we keep two for you?",
                "buttons": [
                    {"id": "keep", "title": "Keep two"},
                    {"id": "no", "title": "No thanks"},
                ],
            },
            {**whatsapp, "body": "Today's batch", "media": [uploaded.json()["id"]]},
        ]
        for body in sends:
            _send_once_the_window_is_open(api, body)

    sign_in(page, console)
    page.goto(f"{console.url}/simulator/phones/{handset.removeprefix('+')}")
    bubbles = page.locator('[data-channel="whatsapp"]')
    expect(bubbles).to_have_count(3)
    expect(bubbles.filter(has_text="Yes, fresh at eight.")).to_contain_text(WHATSAPP_BUSINESS)
    buttons = bubbles.filter(has_text="Shall we keep two").get_by_role("listitem")
    expect(buttons).to_have_text(["Keep two", "No thanks"])
    picture = bubbles.filter(has_text="Today's batch").get_by_role("img")
    expect(picture).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    # What the handset sent is the business's inbound message, not a bubble it received.
    expect(page.locator(".phone-screen")).not_to_contain_text("Do you have croissants?")
    assert serious_accessibility_violations(page) == []
    snap(page, "simulator-whatsapp")

    # A reply from the phone goes on WhatsApp, to the business number it heard from, and is
    # the account's inbound WhatsApp message.
    expect(page.get_by_role("radio", name="WhatsApp")).to_be_checked()
    expect(page.get_by_label("To (one of your numbers)")).to_have_value(WHATSAPP_BUSINESS)
    page.get_by_label("Message", exact=True).fill("Keep two, please")
    page.get_by_role("button", name="Send from phone").click()
    page.goto(f"{console.url}/messages?direction=in&channel=whatsapp&number=%2B358401000601")
    expect(page.locator("tbody [data-message-id]").first).to_contain_text("Keep two, please")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 140, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def _send_once_the_window_is_open(api: Any, body: dict[str, Any]) -> None:
    """The handset's message reaches the service by webhook; until it is stored, a free-form
    send is refused as outside the 24-hour window."""
    deadline = time.monotonic() + EXPECT_TIMEOUT_MS / 1000
    while True:
        answer = api.post("/v1/messages", json=body)
        if answer.status_code != 422 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert answer.status_code in (200, 201, 202), answer.text


def test_chaos_refusing_every_submit_holds_a_message_until_it_is_turned_off(
    page: Any, console: Console
) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/simulator/settings")
    page.get_by_label("Refuse this share of submits").fill("1")
    page.get_by_label("Refusing with").select_option(label="ESME_RSYSERR")
    page.get_by_role("button", name="Save chaos").click()
    try:
        expect(page.get_by_role("status").filter(has_text="Chaos on.")).to_be_visible()
        expect(page.locator("#chaos-heading").locator("..")).to_contain_text("Status: on")
        with console.api() as api:
            assert api.get("/v1/simulator/chaos").json()["reject_fraction"] == 1.0
            sent = api.post(
                "/v1/messages", json={"to": "+358401000611", "from": "Tidings", "body": "Patience"}
            ).json()["messages"][0]
        # The SMSC refuses it; the service keeps it queued and tries again.
        page.goto(f"{console.url}/messages/{sent['id']}")
        expect(page.locator("main")).to_contain_text("SMSC answered ESME_RSYSERR; retrying")
        expect(page.locator("[data-status]").first).not_to_have_text("delivered")
    finally:
        page.goto(f"{console.url}/simulator/settings")
        page.get_by_label("Refuse this share of submits").fill("0")
        page.get_by_role("button", name="Save chaos").click()
        expect(page.get_by_role("status").filter(has_text="Chaos off.")).to_be_visible()
    page.goto(f"{console.url}/messages/{sent['id']}")
    # Chaos off, the next attempt goes through.
    expect(page.locator("[data-status]").first).to_have_text("delivered")
