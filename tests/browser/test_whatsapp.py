"""WhatsApp from Compose: only templates WhatsApp approved are offered, their values filled in
and the text the handset will show previewed; sent, delivered and shown on the phone. A message
of one's own to someone who has not written in 24 hours is refused with the reason."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    EXPECT_TIMEOUT_MS,
    Console,
    serious_accessibility_violations,
    sign_in,
    snap,
)
from tests.browser.test_simulator import WHATSAPP_BUSINESS

pytestmark = pytest.mark.browser

# SmartDialog's Power Automate connector: templates are made through it (OAuth2 sign-in with
# the account's API key), submitted to the WhatsApp Business Account for Meta's review.
CONNECTOR = "/api-integrations/v1"
REDIRECT = "https://global.consent.azure-apim.net/redirect"
SCOPE = "offline_access https://arenafi.onmicrosoft.com/smartdialog-integrations-api/WhatsApp"


def _connector_token(console: Console) -> str:
    key_id = json.loads((console.data_dir / "demo-credentials.json").read_text())["key_id"]
    params = {
        "response_type": "code",
        "client_id": key_id,
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "compose",
    }
    with httpx.Client(base_url=console.url, timeout=10.0) as http:
        approved = http.post(
            "/oauth2/authorize",
            data={**params, "key_id": key_id, "secret": console.api_secret, "decision": "allow"},
        )
        assert approved.status_code == 302, approved.text
        code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
        tokens = http.post(
            "/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": key_id,
                "client_secret": console.api_secret,
            },
        )
        assert tokens.status_code == 200, tokens.text
        return str(tokens.json()["access_token"])


def _submit_template(console: Console, token: str, name: str, text: str) -> None:
    with httpx.Client(base_url=console.url, timeout=10.0) as http:
        made = http.post(
            f"{CONNECTOR}/whatsapp/templates/{console.account_id}/{WHATSAPP_BUSINESS}",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "DisplayName": name,
                "RawContent": text,
                "Category": "Utility",
                "Language": "en_US",
            },
        )
        assert made.status_code == 204, made.text


def test_send_an_approved_template_with_its_values_from_compose(
    page: Any, console: Console
) -> None:
    token = _connector_token(console)
    _submit_template(console, token, "Table ready", "Hi {{1}}, your table for {{2}} is ready.")
    # The simulated reviewer rejects a name starting with "reject": never offered.
    _submit_template(console, token, "Reject tables", "Tables {{1}}")
    sign_in(page, console)
    picker = page.get_by_label("Template", exact=True)
    # Meta's review comes by webhook a moment after the submission.
    deadline = time.monotonic() + EXPECT_TIMEOUT_MS / 1000
    while True:
        page.goto(f"{console.url}/compose?channel=whatsapp")
        if picker.locator("option", has_text="Table ready").count() or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(0.2)
    expect(picker.locator("option")).to_have_text(
        ["None: a message of my own", f"Table ready (en_US) · from {WHATSAPP_BUSINESS}"]
    )

    page.get_by_label("To", exact=True).fill("+358401000631")
    picker.select_option(label=f"Table ready (en_US) · from {WHATSAPP_BUSINESS}")
    expect(page.get_by_label("From", exact=True)).to_have_value(WHATSAPP_BUSINESS)
    expect(page.get_by_label("Message (without a template)")).to_be_hidden()
    page.get_by_label("Value of {{1}}").fill("Aino")
    page.get_by_label("Value of {{2}}").fill("two")
    preview = page.locator("[data-whatsapp-preview]")
    expect(preview).to_have_text("The handset shows: Hi Aino, your table for two is ready.")
    assert serious_accessibility_violations(page) == []
    snap(page, "compose-whatsapp")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 WhatsApp message(s)")
    expect(page.locator("[data-message-id] [data-status]")).to_have_text("delivered")

    page.goto(f"{console.url}/simulator/phones/358401000631")
    bubble = page.locator('[data-channel="whatsapp"]')
    expect(bubble).to_contain_text("Hi Aino, your table for two is ready.")
    expect(bubble).to_contain_text("template table_ready")


def test_a_message_of_ones_own_outside_the_window_is_refused(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/compose?channel=whatsapp")
    page.get_by_label("To", exact=True).fill("+358401000641")
    page.get_by_label("From", exact=True).fill(WHATSAPP_BUSINESS)
    page.get_by_label("Message (without a template)").fill("Are you coming?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("24-hour customer-service window")
    expect(page.get_by_label("Message (without a template)")).to_have_value("Are you coming?")
