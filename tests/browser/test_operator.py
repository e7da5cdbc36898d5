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
