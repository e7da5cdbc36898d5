"""The dashboard of a new account counts its day as it happens: messages by channel and status,
the delivery rate, the last hour's chart, and webhook deliveries that gave up."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, sign_in
from tests.ports import free_port

pytestmark = pytest.mark.browser


def test_a_new_accounts_day_is_counted_live(page: Any, console: Console) -> None:
    account = console.cli("accounts", "create", "Florist")
    owner = console.cli(
        "users", "create", "owner@florist.example", "--account", account["id"], "--role", "owner"
    )
    key = console.cli("accounts", "key", account["id"], "--name", "shop")
    sign_in(page, console, owner["email"], owner["password"])
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.locator('[data-figure="sent"]')).to_have_text("0")
    expect(page.locator("[data-live-indicator]")).to_have_text("live")

    with httpx.Client(
        base_url=console.url, headers={"Authorization": f"Bearer {key['secret']}"}, timeout=30
    ) as api:
        # Nothing listens on this port: every delivery to it fails until it gives up.
        api.post(
            "/v1/webhooks",
            json={"url": f"http://127.0.0.1:{free_port()}/hook", "events": ["message.status"]},
        ).raise_for_status()
        # The simulator delivers to numbers ending in 1 and 2 and fails those ending in 0.
        for to in ("+358401000401", "+358401000402", "+358401000400"):
            api.post(
                "/v1/messages", json={"to": to, "from": "Tidings", "body": "Roses are in"}
            ).raise_for_status()

    # Without a reload: the figures follow the messages' statuses.
    expect(page.locator('[data-figure="sent"]')).to_have_text("3")
    expect(page.locator('[data-figure="delivered"]')).to_have_text("2")
    expect(page.locator('[data-figure="rate"]')).to_have_text("66.7 %")
    expect(page.locator('[data-count="sms-delivered"]')).to_have_text("2")
    expect(page.locator('[data-count="sms-undelivered"]')).to_have_text("1")
    expect(page.locator("#chart-caption")).to_contain_text("sent 3, delivered 2")

    # The failed deliveries show once they have given up (a second here).
    failed = page.locator('[data-figure="failed-webhooks"]')
    deadline = time.monotonic() + 30
    while failed.inner_text() == "0" and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()
    assert int(failed.inner_text()) >= 1
