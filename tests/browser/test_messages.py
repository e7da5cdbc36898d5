"""Compose an SMS, watch it become delivered, and read it in the log and on its detail page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap

pytestmark = pytest.mark.browser

# Bodies whose plans differ: GSM 7-bit, an extension character, two parts, and UCS-2.
BODIES = (
    "Hei maailma",
    # Brackets, not braces: {…} is a placeholder the preview refuses without a value.
    "Price: 5€ [ok]",
    "x" * 161,
    "Hyvää päivää 👋",
)


def test_the_counter_agrees_with_the_preview_api(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/compose")
    counter = page.locator("[data-counter-output]")
    with console.api() as api:
        for body in BODIES:
            page.get_by_label("Message", exact=True).fill(body)
            expected = api.post(
                "/v1/messages/preview",
                json={"to": "+358401000001", "from": "Tidings", "body": body},
            ).json()["messages"][0]
            expect(counter).to_have_attribute("data-encoding", expected["encoding"])
            expect(counter).to_have_attribute("data-parts", str(expected["parts"]))
            label = "1 part" if expected["parts"] == 1 else f"{expected['parts']} parts"
            expect(counter).to_contain_text(label)


def test_send_from_compose_and_watch_it_delivered(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Compose").click()
    page.get_by_label("To", exact=True).fill("+358401000011")
    page.get_by_label("From", exact=True).fill("Tidings")
    page.get_by_label("Message", exact=True).fill("Your table for two is ready")
    expect(page.locator("[data-counter-output]")).to_contain_text("GSM-7 · 1 part")
    snap(page, "compose")
    page.get_by_role("button", name="Send").click()

    row = page.locator("[data-message-id]").first
    expect(row).to_contain_text("+358401000011")
    # The status changes on this page, from the live stream, without a reload.
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(row.locator("[data-status]")).to_have_text("delivered")
    assert navigations == []

    row.get_by_role("link", name="details").click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("queued")
    expect(timeline).to_contain_text("delivered")
    expect(page.get_by_role("heading", name="Parts")).to_be_visible()
    snap(page, "message-detail")

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Messages").click()
    page.get_by_label("Number").fill("+358401000011")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"number=%2B358401000011"))
    rows = page.locator("tbody [data-message-id]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-status]")).to_have_text("delivered")
    snap(page, "messages")


def test_a_message_appears_in_the_log_and_turns_undelivered_live(
    page: Any, console: Console
) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/messages?direction=out")
    # Sent through the API while the log is open: the simulator fails numbers ending in 0.
    with console.api() as api:
        sent = api.post(
            "/v1/messages", json={"to": "+358401000020", "from": "Tidings", "body": "live"}
        ).json()["messages"][0]
    row = page.locator(f'[data-message-id="{sent["id"]}"]')
    expect(row).to_be_visible()
    expect(row.locator("[data-status]")).to_have_text("undelivered")
    page.goto(f"{console.url}/messages/{sent['id']}")
    # The receipt's raw error, as the carrier gave it, on the message and its part.
    with console.api() as api:
        detail = api.get(f"/v1/messages/{sent['id']}").json()
    raw = detail["parts"][0]["error_code"]
    assert raw
    expect(page.get_by_text("Error", exact=True)).to_be_visible()
    expect(page.locator('td[data-label="Receipt error"]')).to_have_text(raw)


def test_compose_says_what_is_wrong_and_keeps_the_text(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/compose")
    page.get_by_label("From", exact=True).fill("Tidings")
    page.get_by_label("Message", exact=True).fill("Nobody to send to")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("at least one")
    expect(page.get_by_label("Message", exact=True)).to_have_value("Nobody to send to")
    assert serious_accessibility_violations(page) == []
