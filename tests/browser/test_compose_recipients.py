"""Compose to a contact picked by name and to a list's members, at a time: each recipient is
scheduled for it, the contact written as "Name <number>"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, sign_in

pytestmark = pytest.mark.browser


def test_a_contact_picked_by_name_and_a_list_scheduled_for_tomorrow(
    page: Any, console: Console
) -> None:
    with console.api() as api:
        picked = api.post(
            "/v1/contacts",
            json={"phone": "+358401000306", "first_name": "Saimi", "last_name": "Sorsa"},
        )
        picked.raise_for_status()
        member = api.post("/v1/contacts", json={"phone": "+358401000307", "first_name": "Otto"})
        member.raise_for_status()
        crew = api.post("/v1/lists", json={"name": "Kitchen crew"}).json()
        api.post(
            f"/v1/lists/{crew['id']}/members", json={"contact_ids": [member.json()["id"]]}
        ).raise_for_status()
        zone = api.get("/v1/account").json()["timezone"]

    sign_in(page, console)
    page.goto(f"{console.url}/compose")
    picker = page.get_by_label("Add a contact")
    picker.fill("Saimi")
    expect(page.locator("#contact-suggestions option")).to_have_count(1)
    picker.fill("Saimi Sorsa <+358401000306>")  # as picking the suggestion does
    expect(page.get_by_label("To", exact=True)).to_have_value("Saimi Sorsa <+358401000306>")
    expect(picker).to_have_value("")

    page.get_by_role("group", name="Lists").get_by_label("Kitchen crew").check()
    page.get_by_label("From", exact=True).fill("Tidings")
    page.get_by_label("Message", exact=True).fill("Staff meeting at nine")
    tomorrow = datetime.now(ZoneInfo(zone)).replace(second=0, microsecond=0) + timedelta(days=1)
    page.get_by_label("Send at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Send").click()

    rows = page.locator("[data-message-id]")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="+358401000306").locator("[data-status]")).to_have_text("scheduled")
    expect(rows.filter(has_text="+358401000307").locator("[data-status]")).to_have_text("scheduled")
    with console.api() as api:
        message_id = rows.first.get_attribute("data-message-id")
        sent = api.get(f"/v1/messages/{message_id}").json()
    assert datetime.fromisoformat(sent["send_at"]) == tomorrow
