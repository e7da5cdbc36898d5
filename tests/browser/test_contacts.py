"""Contacts: a CSV import with a bad row (progress, then a report naming the row), the list it
filled, and the export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap

pytestmark = pytest.mark.browser

CSV = (
    "phone,first_name,last_name,email,favourite\r\n"
    "+358401000071,Aino,Aalto,aino@example.com,coffee\r\n"
    "not a number,Bad,Row,bad@example.com,tea\r\n"
    "0401000072,Eero,Saarinen,,juice\r\n"
)


def test_import_a_csv_with_a_bad_row_then_export(
    page: Any, console: Console, tmp_path: Path
) -> None:
    upload = tmp_path / "customers.csv"
    upload.write_text(CSV, encoding="utf-8")
    sign_in(page, console)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Contacts").click()
    page.get_by_label("New list name").fill("Customers")
    page.get_by_role("button", name="Create list").click()
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_label("Also add to list").select_option(label="Customers")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Import of customers.csv")).to_be_visible()
    expect(page.locator("progress")).to_have_attribute("value", "100")
    expect(page.locator('[data-figure="created"]')).to_have_text("2")
    expect(page.locator('[data-figure="failed"]')).to_have_text("1")
    error = page.locator("[data-row-error]")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("3")  # the header is row 1
    expect(error).to_contain_text("phone")
    snap(page, "contacts-import")
    assert serious_accessibility_violations(page) == []

    page.goto(f"{console.url}/contacts")
    page.get_by_label("List", exact=True).select_option(label="Customers (2)")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("[data-contact-id]")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Eero Saarinen")).to_contain_text("+358401000072")
    snap(page, "contacts")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    lines = exported.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("phone,")
    assert any("+358401000071" in line and "Aino" in line for line in lines)
    assert not any("Bad" in line for line in lines)
