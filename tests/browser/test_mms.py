"""MMS from Compose to a phone: a picture and a subject, delivered, shown on the message's page
and on the handset."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap

pytestmark = pytest.mark.browser


def test_send_an_mms_and_see_its_picture_on_the_phone(
    page: Any, console: Console, tmp_path: Path
) -> None:
    picture = tmp_path / "cake.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (220, 40, 90)).save(buffer, format="PNG")
    picture.write_bytes(buffer.getvalue())
    sign_in(page, console)
    page.goto(f"{console.url}/compose")
    page.get_by_role("navigation", name="Channel").get_by_role("link", name="MMS").click()
    page.get_by_label("To", exact=True).fill("+358401000101")
    page.get_by_label("From", exact=True).fill("Tidings")
    page.get_by_label("Subject").fill("Happy birthday")
    page.get_by_label("Pictures, sounds or video").set_input_files(str(picture))
    page.get_by_label("Message", exact=True).fill("A cake for you")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-message-id] [data-status]")).to_have_text("delivered")
    message_id = page.locator("[data-message-id]").first.get_attribute("data-message-id")

    # The message's page shows the picture it carried, fetched through its signed link.
    page.goto(f"{console.url}/messages/{message_id}")
    sent_picture = page.locator(".message-media img")
    expect(sent_picture).to_be_visible()
    assert sent_picture.evaluate("img => img.naturalWidth") > 0
    assert serious_accessibility_violations(page) == []

    page.goto(f"{console.url}/simulator/phones/358401000101")
    bubble = page.locator('[data-channel="mms"]')
    expect(bubble).to_contain_text("Happy birthday")
    expect(bubble).to_contain_text("A cake for you")
    image = bubble.locator("img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") > 0
    snap(page, "simulator-mms")
