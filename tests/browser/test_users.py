"""An owner runs the account's console users from the Users page: adds a person (the password
shown once), who signs in with it; changes their role, resets their password, removes them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap

pytestmark = pytest.mark.browser


def test_an_owner_adds_promotes_resets_and_removes_a_person(
    page: Any, console: Console, browser: Any
) -> None:
    account = console.cli("accounts", "create", "Bakery")
    owner = console.cli(
        "users", "create", "owner@bakery.example", "--account", account["id"], "--role", "owner"
    )
    sign_in(page, console, owner["email"], owner["password"])
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    # An owner gives owner, admin or member; the operator role is not theirs to give.
    expect(page.get_by_label("Role", exact=True).locator("option")).to_have_text(
        ["owner", "admin", "member"]
    )

    page.get_by_label("E-mail address").fill("baker@bakery.example")
    page.get_by_label("Name").fill("Bea Baker")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("baker@bakery.example added")
    password = page.get_by_label("Password", exact=True).input_value()
    assert len(password) >= 10
    assert serious_accessibility_violations(page) == []
    snap(page, "users")

    baker = browser.new_context().new_page()
    try:
        sign_in(baker, console, "baker@bakery.example", password)
        nav = baker.get_by_role("navigation", name="Console")
        expect(nav.get_by_role("link", name="Compose")).to_be_visible()
        expect(nav.get_by_role("link", name="Developers")).to_have_count(0)
        expect(nav.get_by_role("link", name="Users")).to_have_count(0)

        # Promoted to admin, the baker signs in again and has the developers' page.
        page.goto(f"{console.url}/users")
        row = page.locator('[data-user="baker@bakery.example"]')
        row.get_by_label("Role of baker@bakery.example").select_option("admin")
        row.get_by_role("button", name="Change").click()
        expect(page.get_by_role("status")).to_contain_text("baker@bakery.example is now admin")
        baker.reload()
        expect(baker.get_by_label("E-mail address")).to_be_visible()
        sign_in(baker, console, "baker@bakery.example", password)
        expect(nav.get_by_role("link", name="Developers")).to_be_visible()

        # A reset password replaces the old one and signs the baker out.
        page.locator('[data-user="baker@bakery.example"]').get_by_role(
            "button", name="Reset password"
        ).click()
        expect(page.get_by_role("status")).to_contain_text("given a new password")
        new_password = page.get_by_label("Password", exact=True).input_value()
        assert new_password != password
        baker.reload()
        expect(baker.get_by_label("E-mail address")).to_be_visible()
        sign_in(baker, console, "baker@bakery.example", new_password)

        # Removed, the baker is out and cannot come back.
        page.goto(f"{console.url}/users")
        page.locator('[data-user="baker@bakery.example"]').get_by_role(
            "button", name="Remove"
        ).click()
        expect(page.get_by_role("status")).to_contain_text("baker@bakery.example removed")
        expect(page.locator('[data-user="baker@bakery.example"]')).to_have_count(0)
        baker.reload()
        baker.get_by_label("E-mail address").fill("baker@bakery.example")
        baker.get_by_label("Password").fill(new_password)
        baker.get_by_role("button", name="Sign in").click()
        expect(baker.get_by_role("alert")).to_be_visible()
    finally:
        baker.context.close()

    # The owner's own row has no controls: an owner neither demotes nor removes themselves.
    own = page.locator('[data-user="owner@bakery.example"]')
    expect(own).to_contain_text("(you)")
    expect(own.get_by_role("button")).to_have_count(0)
