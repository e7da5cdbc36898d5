"""WhatsApp from Compose: of the templates submitted through /v1, only those WhatsApp approved
are offered, their values (body, link ending) filled in and the text the handset will show
previewed; sent, delivered and shown on the phone. A message of one's own to someone who has
not written in 24 hours is refused with the reason."""

from __future__ import annotations

import time
from typing import Any

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


def _submit_template(console: Console, **template: Any) -> None:
    """A template submitted for Meta's review through /v1 (the simulated reviewer approves it
    a moment later, by webhook; one named "reject_..." it rejects)."""
    with console.api() as api:
        made = api.post(
            "/v1/whatsapp/templates",
            json={
                "from": WHATSAPP_BUSINESS,
                "language": "en_US",
                "category": "UTILITY",
                **template,
            },
        )
        assert made.status_code == 201, made.text


def test_send_an_approved_template_with_its_values_from_compose(
    page: Any, console: Console
) -> None:
    _submit_template(
        console,
        name="table_ready",
        body="Hi {{1}}, your table for {{2}} is ready.",
        footer="Acme Bistro",
        buttons=[{"type": "URL", "text": "Menu", "url": "https://acme.example/menu/{{1}}"}],
    )
    _submit_template(console, name="reject_tables", body="Tables {{1}}")
    sign_in(page, console)
    picker = page.get_by_label("Template", exact=True)
    # Meta's review comes by webhook a moment after the submission.
    deadline = time.monotonic() + EXPECT_TIMEOUT_MS / 1000
    while True:
        page.goto(f"{console.url}/compose?channel=whatsapp")
        if picker.locator("option", has_text="table_ready").count() or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(0.2)
    expect(picker.locator("option")).to_have_text(
        ["None: a message of my own", f"table_ready (en_US) · from {WHATSAPP_BUSINESS}"]
    )

    page.get_by_label("To", exact=True).fill("+358401000631")
    picker.select_option(label=f"table_ready (en_US) · from {WHATSAPP_BUSINESS}")
    expect(page.get_by_label("From", exact=True)).to_have_value(WHATSAPP_BUSINESS)
    expect(page.get_by_label("Message (without a template)")).to_be_hidden()
    page.get_by_label("Value of {{1}}").fill("Aino")
    page.get_by_label("Value of {{2}}").fill("two")
    page.get_by_label("End of the link of “Menu”").fill("tonight")
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
    expect(bubble).to_contain_text("Acme Bistro")
    expect(bubble.get_by_role("listitem")).to_have_text("Menu (https://acme.example/menu/tonight)")


def test_a_message_of_ones_own_outside_the_window_is_refused(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/compose?channel=whatsapp")
    page.get_by_label("To", exact=True).fill("+358401000641")
    page.get_by_label("From", exact=True).fill(WHATSAPP_BUSINESS)
    page.get_by_label("Message (without a template)").fill("Are you coming?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("24-hour customer-service window")
    expect(page.get_by_label("Message (without a template)")).to_have_value("Are you coming?")
