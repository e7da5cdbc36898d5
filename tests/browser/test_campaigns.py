"""Campaigns: a draft created, started, its progress followed to completion and its messages
found in the log by the campaign filter; a scheduled one cancelled before it sends."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap

pytestmark = pytest.mark.browser


def test_a_draft_started_runs_to_completion_live(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Campaigns").click()
    page.get_by_label("Name").fill("Opening night")
    page.get_by_label("From", exact=True).fill("Tidings")
    page.get_by_label("Numbers").fill("+358401000091, +358401000092, +358401000090")
    page.get_by_label("Message", exact=True).fill("Doors open at 7")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator("[data-campaign-status]")).to_have_text("draft")
    page.get_by_role("button", name="Start").click()
    # Two numbers are delivered; one ending in 0 fails, as the simulator's default rules say.
    expect(page.locator("[data-campaign-status]")).to_have_text("completed")
    expect(page.locator('[data-figure="delivered"]')).to_have_text("2")
    expect(page.locator('[data-figure="failed"]')).to_have_text("1")
    snap(page, "campaign")
    assert serious_accessibility_violations(page) == []

    # The log's campaign filter finds its three messages and no others.
    page.goto(f"{console.url}/messages")
    page.get_by_label("Campaign").select_option(label="Opening night")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody [data-message-id]")
    expect(rows).to_have_count(3)
    for number in ("+358401000090", "+358401000091", "+358401000092"):
        expect(rows.filter(has_text=number)).to_have_count(1)
    expect(page.get_by_label("Campaign")).to_have_value(re.compile(".+"))


def test_a_scheduled_campaign_cancelled_sends_nothing(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/campaigns")
    page.get_by_label("Name").fill("Tomorrow's offer")
    page.get_by_label("From", exact=True).fill("Tidings")
    page.get_by_label("Numbers").fill("+358401000621, +358401000622")
    page.get_by_label("Message", exact=True).fill("Half price until noon")
    tomorrow = datetime.now() + timedelta(days=1)
    page.get_by_label("Send at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Create and start").click()
    expect(page.locator("[data-campaign-status]")).to_have_text("scheduled")

    page.get_by_role("button", name="Cancel campaign").click()
    expect(page.get_by_role("status").filter(has_text="Cancelled")).to_be_visible()
    expect(page.locator("[data-campaign-status]")).to_have_text("cancelled")
    expect(page.get_by_role("button", name="Cancel campaign")).to_have_count(0)
    expect(page.locator('[data-figure="sent"]')).to_have_text("0")
    assert serious_accessibility_violations(page) == []

    # Nothing reached the numbers: the log has no message of the campaign.
    page.get_by_role("link", name="Its messages").click()
    expect(page.locator("tbody [data-message-id]")).to_have_count(0)
