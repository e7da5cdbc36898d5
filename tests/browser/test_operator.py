"""The operator's page: routes with binds and a live submit rate, accounts suspended and
reactivated, the service's health."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap

pytestmark = pytest.mark.browser


def test_routes_rates_accounts_and_health(page: Any, console: Console) -> None:
    tenant = console.cli("accounts", "create", "Suspendable")
    key = console.cli("accounts", "key", tenant["id"])
    sign_in(page, console)
    page.get_by_role("navigation", name="Console").get_by_role(
        "link", name="Routes & accounts"
    ).click()
    expect(page.get_by_role("heading", name="Health", exact=True)).to_be_visible()
    expect(page.locator('[data-figure="database"]')).to_have_text("ready")
    route = page.locator('[data-route="simulator"]')
    expect(route).to_contain_text("1 / 1")  # the simulator route's one bind is up

    with console.api() as api:
        api.post(
            "/v1/messages",
            json={
                "to": [f"+3584010002{n:02d}" for n in range(1, 41)],
                "from": "Tidings",
                "body": "rate",
            },
        ).raise_for_status()
    # The page re-reads itself: the route's rate shows the submits that just went out.
    expect(route.locator("[data-tps]")).not_to_have_text(re.compile(r"^(–|0\.0)"))
    snap(page, "operator")
    assert serious_accessibility_violations(page) == []

    row = page.locator(f'[data-account-id="{tenant["id"]}"]')
    row.get_by_role("button", name=re.compile("Suspend")).click()
    expect(page.locator(f'[data-account-id="{tenant["id"]}"]')).to_contain_text("suspended")
    headers = {"Authorization": f"Bearer {key['secret']}"}
    assert httpx.get(f"{console.url}/v1/account", headers=headers).status_code == 403
    page.locator(f'[data-account-id="{tenant["id"]}"]').get_by_role(
        "button", name=re.compile("Reactivate")
    ).click()
    expect(page.locator(f'[data-account-id="{tenant["id"]}"]')).to_contain_text("active")
    assert httpx.get(f"{console.url}/v1/account", headers=headers).is_success


def test_inbound_nobody_owns_is_listed_and_given_to_an_account(page: Any, console: Console) -> None:
    shop = console.cli("accounts", "create", "Corner shop")
    sign_in(page, console)
    # A subscriber texts a number no account registered.
    page.goto(f"{console.url}/simulator/phones/358401000501")
    page.get_by_label("To (one of your numbers)").fill("+358405559901")
    page.get_by_label("Message", exact=True).fill("Do you deliver on Sundays?")
    page.get_by_role("button", name="Send from phone").click()

    page.goto(f"{console.url}/operator")
    row = page.locator("[data-unrouted-id]").filter(has_text="Do you deliver on Sundays?")
    expect(row).to_contain_text("+358405559901")
    assert serious_accessibility_violations(page) == []
    row.get_by_label(re.compile("Account to give the message")).select_option(shop["id"])
    row.get_by_role("button", name=re.compile("Assign")).click()
    expect(page.get_by_role("status").filter(has_text="went to Corner shop")).to_be_visible()
    expect(
        page.locator("[data-unrouted-id]").filter(has_text="Do you deliver on Sundays?")
    ).to_have_count(0)

    # The shop received it as if it had just arrived.
    owner = console.cli(
        "users", "create", "owner@corner.example", "--account", shop["id"], "--role", "owner"
    )
    shop_page = page.context.browser.new_context().new_page()
    try:
        sign_in(shop_page, console, owner["email"], owner["password"])
        shop_page.goto(f"{console.url}/messages?direction=in")
        expect(shop_page.locator("tbody [data-message-id]").first).to_contain_text(
            "Do you deliver on Sundays?"
        )
    finally:
        shop_page.context.close()
