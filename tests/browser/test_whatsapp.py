"""WhatsApp from Compose: of the templates submitted through /v1, only those WhatsApp approved
are offered, their values (body, link ending, a media header's file) filled in and what the
handset will show previewed; sent, delivered and shown on the phone. A message of one's own to
someone who has not written in 24 hours is refused with the reason."""

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
from tests.unit.media import samples

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


def _offered(page: Any, console: Console, option: str) -> None:
    """Compose's WhatsApp form, once the template's approval came (Meta's review comes by
    webhook a moment after the submission)."""
    picker = page.get_by_label("Template", exact=True)
    deadline = time.monotonic() + EXPECT_TIMEOUT_MS / 1000
    while True:
        page.goto(f"{console.url}/compose?channel=whatsapp")
        if picker.locator("option", has_text=option).count() or time.monotonic() > deadline:
            break
        time.sleep(0.2)


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
    # Not a dead end for someone trying tidings: the hint leads to the simulator's phones,
    # and a WhatsApp reply from the phone opens the window.
    hint = page.locator("#compose-error-hint")
    expect(hint).to_contain_text("reply from it by WhatsApp")
    hint.get_by_role("link", name="Simulator").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Simulator")
    page.goto(f"{console.url}/simulator/phones/358401000641")
    page.get_by_label("To (one of your numbers)").fill(WHATSAPP_BUSINESS)
    page.get_by_label("WhatsApp").check()
    page.get_by_label("Message", exact=True).fill("Yes, on my way")
    page.get_by_role("button", name="Send from phone").click()
    expect(page.locator(".notice")).to_contain_text("Sent")
    page.goto(f"{console.url}/compose?channel=whatsapp")
    page.get_by_label("To", exact=True).fill("+358401000641")
    page.get_by_label("From", exact=True).fill(WHATSAPP_BUSINESS)
    page.get_by_label("Message (without a template)").fill("Are you coming?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 WhatsApp message(s)")


def test_a_template_with_a_picture_header_takes_its_picture_in_compose(
    page: Any, console: Console
) -> None:
    with console.api() as api:
        example = api.post("/v1/media", files={"file": ("example.png", samples.png(40, 30))})
        assert example.status_code == 201, example.text
    _submit_template(
        console,
        name="cake_photo_ready",
        header={"format": "IMAGE", "example": example.json()["id"]},
        body="Hi {{1}}, your cake is ready.",
        footer="Acme Bakery",
    )
    sign_in(page, console)
    option = f"cake_photo_ready (en_US) · from {WHATSAPP_BUSINESS} · image header"
    _offered(page, console, option)
    picker = page.get_by_label("Template", exact=True)
    page.get_by_label("To", exact=True).fill("+358401000651")
    picker.select_option(label=option)
    # Only the chosen template's values are shown (other tests' templates are on the page).
    values = page.locator("fieldset[data-template-parameters]:visible")
    expect(values).to_have_count(1)
    # The picture can be one already in the media store (the example is one)...
    chosen = values.get_by_label("Or a image already uploaded")
    expect(chosen.locator("option", has_text="example.png (image/png)")).to_have_count(1)
    chosen.select_option(label="example.png (image/png)")
    header_preview = page.locator("[data-whatsapp-header-preview]")
    expect(header_preview.get_by_role("img")).to_have_attribute(
        "alt", "The header picture: example.png (image/png)"
    )
    # ...or one uploaded now, which the preview shows instead.
    chosen.select_option(label="None")
    expect(header_preview).to_contain_text("The header's image is still to be given.")
    photo = samples.png(64, 48, noisy=True)
    values.get_by_label("Header image to upload").set_input_files(
        files=[{"name": "cake.png", "mimeType": "image/png", "buffer": photo}]
    )
    picture = header_preview.get_by_role("img")
    expect(picture).to_have_attribute("alt", "The header picture: cake.png")
    page.wait_for_function(
        "() => document.querySelector('[data-whatsapp-header-preview] img').naturalWidth === 64"
    )
    values.get_by_label("Value of {{1}}").fill("Aino")
    expect(page.locator("[data-whatsapp-preview]")).to_have_text(
        "The handset shows: Hi Aino, your cake is ready."
    )
    assert serious_accessibility_violations(page) == []
    snap(page, "compose-whatsapp-image-header")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 WhatsApp message(s)")
    expect(page.locator("[data-message-id] [data-status]")).to_have_text("delivered")

    page.goto(f"{console.url}/simulator/phones/358401000651")
    bubble = page.locator('[data-channel="whatsapp"]')
    expect(bubble).to_contain_text("Hi Aino, your cake is ready.")
    expect(bubble).to_contain_text("template cake_photo_ready")
    shown = bubble.locator("img.bubble-image")
    expect(shown).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('[data-channel=whatsapp] img.bubble-image')"
        ".naturalWidth === 64"
    )


def test_a_picture_header_without_its_picture_is_refused_in_compose(
    page: Any, console: Console
) -> None:
    with console.api() as api:
        example = api.post("/v1/media", files={"file": ("sample.png", samples.png(30, 30))})
        assert example.status_code == 201, example.text
    _submit_template(
        console,
        name="parcel_photo",
        header={"format": "IMAGE", "example": example.json()["id"]},
        body="Your parcel is here.",
    )
    sign_in(page, console)
    option = f"parcel_photo (en_US) · from {WHATSAPP_BUSINESS} · image header"
    _offered(page, console, option)
    page.get_by_label("To", exact=True).fill("+358401000661")
    page.get_by_label("Template", exact=True).select_option(label=option)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "the template's header is a image: upload one or choose one"
    )
