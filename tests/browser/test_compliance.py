"""Compliance set in the console changes what subscribers get: the STOP, START and HELP texts,
a keyword's reply and an inbound rule answer messages sent from the simulator's phones, and a
blocked number is refused by the next send."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, sign_in
from tests.browser.test_simulator import OUR_NUMBER, _register_our_number

pytestmark = pytest.mark.browser


def _text_from_phone(page: Any, console: Console, phone: str, text: str) -> Any:
    page.goto(f"{console.url}/simulator/phones/{phone}")
    page.get_by_label("To (one of your numbers)").fill(OUR_NUMBER)
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send from phone").click()
    return page.locator(".phone-screen")


def test_help_text_keyword_and_rule_answer_the_phones_and_a_block_refuses(
    page: Any, console: Console
) -> None:
    _register_our_number(console)
    sign_in(page, console)
    page.goto(f"{console.url}/compliance")
    page.get_by_label("Reply to STOP").fill("You will get no more. Text START to come back.")
    page.get_by_label("Reply to START").fill("Welcome back to Tidings demo.")
    page.get_by_label("Reply to HELP").fill("Tidings demo: reply STOP to stop.")
    page.get_by_role("button", name="Save texts").click()
    expect(page.get_by_label("Reply to HELP")).to_have_value("Tidings demo: reply STOP to stop.")
    expect(page.get_by_label("Reply to STOP")).to_have_value(
        "You will get no more. Text START to come back."
    )

    page.get_by_role("textbox", name="Keyword", exact=True).fill("TACO")
    page.get_by_label("Sent to (your number)").fill(OUR_NUMBER)
    page.get_by_label("Reply", exact=True).fill("Taco Tuesday is on.")
    page.get_by_role("button", name="Add keyword").click()

    page.get_by_role("textbox", name="Name", exact=True).fill("Opening hours")
    page.get_by_label("When the message").select_option("1")
    page.get_by_label("Text", exact=True).fill("hours")
    page.get_by_label("Then").select_option("AUTO_REPLY")
    page.get_by_label("Reply text or URL").fill("Open 9 to 17, Monday to Friday.")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#rules-heading").locator("..")).to_contain_text("Opening hours")

    page.get_by_label("Number to block").fill("+358401000098")
    page.get_by_role("button", name="Block").click()
    expect(page.locator('[data-list="blocklist"] [data-phone="+358401000098"]')).to_be_visible()

    # Each answer arrives on the phone that asked, from the number it texted.
    expect(_text_from_phone(page, console, "358401000096", "HELP")).to_contain_text(
        "Tidings demo: reply STOP to stop."
    )
    expect(_text_from_phone(page, console, "358401000095", "STOP")).to_contain_text(
        "You will get no more. Text START to come back."
    )
    # Once, in a full CI run with two workers, START's welcome took longer than 15 s to show
    # on the phone (the cause is not known; the other runs passed).
    expect(_text_from_phone(page, console, "358401000095", "START")).to_contain_text(
        "Welcome back to Tidings demo.", timeout=30_000
    )
    expect(_text_from_phone(page, console, "358401000097", "taco")).to_contain_text(
        "Taco Tuesday is on."
    )
    expect(_text_from_phone(page, console, "358401000099", "hours please")).to_contain_text(
        "Open 9 to 17, Monday to Friday."
    )

    page.goto(f"{console.url}/compose")
    page.get_by_label("To", exact=True).fill("+358401000098")
    page.get_by_label("From", exact=True).fill(OUR_NUMBER)
    page.get_by_label("Message", exact=True).fill("Are you there?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("1 recipient(s) refused")
    expect(page.locator("tbody")).to_contain_text("blocked")
