"""Fax, letter and postcard from Compose: the pages seen before sending as the fax gateway and
the printer will get them, then sent and delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap
from tests.document_samples import pdf_with_pages, postcard_side

pytestmark = pytest.mark.browser


def _natural_width(image: Any) -> int:
    return int(image.evaluate("img => img.complete ? img.naturalWidth : 0"))


def test_preview_a_faxs_pages_then_send_it(page: Any, console: Console, tmp_path: Path) -> None:
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(pdf_with_pages(["Invoice 17", "Terms", "Thank you"]))
    sign_in(page, console)
    page.goto(f"{console.url}/compose")
    page.get_by_role("navigation", name="Channel").get_by_role("link", name="Fax").click()
    page.get_by_label("To", exact=True).fill("+61261110500")
    page.get_by_label("From", exact=True).fill("Acme")
    page.get_by_label("PDF to fax").set_input_files(str(invoice))
    page.get_by_role("button", name="Preview pages").click()
    expect(page.locator("[data-document-preview-output]")).to_have_text("3 pages")
    pages = page.locator("[data-document-pages] img")
    expect(pages).to_have_count(3)
    expect(pages.first).to_have_attribute("alt", "Page 1 of 3")
    assert _natural_width(pages.first) > 100
    assert serious_accessibility_violations(page) == []
    snap(page, "compose-fax")

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 Fax message(s)")
    expect(page.locator("[data-message-id] [data-status]")).to_have_text("delivered")

    # The fax machine at the number printed every page.
    page.goto(f"{console.url}/simulator/phones/61261110500")
    fax = page.locator('[data-channel="fax"]')
    expect(fax).to_contain_text("3 of 3 page(s)")
    printed = fax.get_by_role("img")
    expect(printed).to_have_count(3)
    expect(printed.nth(2)).to_have_attribute("alt", "Page 3 of the fax")
    printed.nth(2).scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=printed.nth(2).element_handle()
    )
    # The gateway's mail address is not offered as a number to reply to.
    expect(page.get_by_label("To (one of your numbers)")).to_have_value("")
    snap(page, "simulator-fax")


def test_preview_a_letter_with_its_address_then_send_it(
    page: Any, console: Console, tmp_path: Path
) -> None:
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(pdf_with_pages(["Dear Zoë", "Yours, Acme"]))
    sign_in(page, console)
    page.goto(f"{console.url}/compose?channel=letter")
    # A letter goes to its address: no numbers to give.
    expect(page.get_by_label("To", exact=True)).to_have_count(0)
    page.get_by_label("From", exact=True).fill("Acme")
    page.get_by_label("Name", exact=True).fill("Zoë Quinn")
    page.get_by_label("Street address").fill("200 George Street")
    page.get_by_label("Postal code").fill("2000")
    page.get_by_label("City").fill("Sydney")
    page.get_by_label("State or region").fill("NSW")
    page.get_by_label("Country code").fill("AU")
    page.get_by_label("Letter (PDF)").set_input_files(str(letter))

    # Without room in the window field, an address sheet goes first: three pages.
    page.get_by_role("button", name="Preview pages").click()
    expect(page.locator("[data-document-preview-output]")).to_have_text("3 pages")
    expect(page.locator("[data-document-pages] img")).to_have_count(3)
    # With the first page's window field free, the letter keeps its two pages.
    page.get_by_label("The first page leaves the window field free").check()
    page.get_by_role("button", name="Preview pages").click()
    expect(page.locator("[data-document-preview-output]")).to_have_text("2 pages")
    assert _natural_width(page.locator("[data-document-pages] img").first) > 100
    assert serious_accessibility_violations(page) == []
    snap(page, "compose-letter")

    page.get_by_role("button", name="Send").click()
    row = page.locator("[data-message-id]")
    expect(row).to_contain_text("Zoë Quinn")
    expect(row.locator("[data-status]")).to_have_text("delivered")

    # Printed, it lands in the mailbox of the address its envelope window shows.
    page.goto(f"{console.url}/simulator")
    page.get_by_role("link", name="Mail room").click()
    mailbox = page.locator(".mailbox").filter(has_text="Zoë Quinn")
    expect(mailbox.get_by_role("heading")).to_contain_text("200 George Street")
    printed = mailbox.locator(".letter").first.get_by_role("img")
    expect(printed).to_have_count(2)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=printed.nth(1).element_handle()
    )
    snap(page, "simulator-mail")


def test_a_letter_to_an_address_that_cannot_be_printed_is_refused_with_the_form_kept(
    page: Any, console: Console, tmp_path: Path
) -> None:
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(pdf_with_pages(["Hello"]))
    sign_in(page, console)
    page.goto(f"{console.url}/compose?channel=letter")
    page.get_by_label("From", exact=True).fill("Acme")
    page.get_by_label("Name", exact=True).fill("Nobody")
    page.get_by_label("Letter (PDF)").set_input_files(str(letter))
    page.get_by_role("button", name="Preview pages").click()
    expect(page.locator("[data-document-preview-output]")).not_to_have_text("Rendering the pages…")
    expect(page.locator("[data-document-pages] img")).to_have_count(0)
    page.locator("#address_line_1").evaluate("field => field.removeAttribute('required')")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Nobody")


def test_a_postcard_with_a_return_address_from_compose(
    page: Any, console: Console, tmp_path: Path
) -> None:
    front, back = tmp_path / "front.pdf", tmp_path / "back.pdf"
    front.write_bytes(postcard_side("Greetings from Turku"))
    back.write_bytes(postcard_side("See you soon"))
    sign_in(page, console)
    # The return address is saved once, then picked in Compose.
    page.goto(f"{console.url}/compose?channel=postcard")
    page.get_by_role("link", name="Manage return addresses").click()
    page.get_by_label("Name").fill("Acme Postcards")
    page.get_by_label("Street address").fill("Linnankatu 1")
    page.get_by_label("Postal code").fill("20100")
    page.get_by_label("City").fill("Turku")
    page.get_by_label("Country code").fill("FI")
    page.get_by_role("button", name="Add return address").click()
    expect(page.get_by_role("status")).to_contain_text("Acme Postcards added")
    expect(page.locator("[data-return-address]")).to_contain_text("Linnankatu 1")
    assert serious_accessibility_violations(page) == []

    page.goto(f"{console.url}/compose")
    page.get_by_role("navigation", name="Channel").get_by_role("link", name="Postcard").click()
    expect(page.get_by_label("To", exact=True)).to_have_count(0)
    page.get_by_label("From", exact=True).fill("Acme")
    page.get_by_label("Name", exact=True).fill("Veera Virtanen")
    page.get_by_label("Street address").fill("Aleksanterinkatu 5")
    page.get_by_label("Postal code").fill("00100")
    page.get_by_label("City").fill("Helsinki")
    page.get_by_label("Country code").fill("FI")
    page.get_by_label("Return address").select_option(
        label="Acme Postcards, Linnankatu 1, 20100 Turku FI"
    )
    page.get_by_label("Front (PDF)").set_input_files(str(front))
    page.get_by_label("Back (PDF)").set_input_files(str(back))
    page.get_by_role("button", name="Preview pages").click()
    expect(page.locator("[data-document-preview-output]")).to_have_text("2 pages")
    sides = page.locator("[data-document-pages] img")
    expect(sides).to_have_count(2)
    assert _natural_width(sides.nth(1)) > 400
    assert serious_accessibility_violations(page) == []
    snap(page, "compose-postcard")

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 Postcard message(s)")
    row = page.locator("[data-message-id]")
    expect(row).to_contain_text("Veera Virtanen")
    expect(row.locator("[data-status]")).to_have_text("delivered")

    # The card reaches the recipient's mailbox, not the return address's.
    page.goto(f"{console.url}/simulator/mail")
    mailbox = page.locator(".mailbox").filter(has_text="Veera Virtanen")
    expect(mailbox.get_by_role("heading")).to_contain_text("Aleksanterinkatu 5")
    expect(mailbox.locator(".letter").first.get_by_role("img")).to_have_count(2)
