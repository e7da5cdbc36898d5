"""Signing in, the frame every page shares, and who may see what."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap

pytestmark = pytest.mark.browser


def test_sign_in_dashboard_and_sign_out(page: Any, console: Console) -> None:
    page.goto(f"{console.url}/")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2F$"))
    page.get_by_label("E-mail address").fill(console.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")

    sign_in(page, console)
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    expect(page.locator("[data-live-indicator]")).to_have_text("live")
    snap(page, "dashboard")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto(f"{console.url}/")
    expect(page).to_have_url(re.compile(r"/signin"))


def test_keyboard_reaches_the_navigation_with_a_visible_focus(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand link, then the theme switch
    theme = page.get_by_role("button", name="Switch between light and dark theme")
    expect(theme).to_be_focused()
    outline = theme.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    before = page.evaluate("document.documentElement.dataset.theme || ''")
    page.keyboard.press("Enter")
    after = page.evaluate("document.documentElement.dataset.theme")
    assert after in ("light", "dark") and after != before


def test_phone_width_has_a_menu_and_no_sideways_scroll(browser: Any, console: Console) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, console)
        nav = page.get_by_role("navigation", name="Console")
        expect(nav).to_be_hidden()
        page.get_by_role("button", name="Menu").click()
        expect(nav).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        context.close()


def test_main_pages_have_no_serious_accessibility_violations(
    browser: Any, console: Console
) -> None:
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(f"{console.url}/signin")
            assert serious_accessibility_violations(page) == [], f"/signin ({scheme})"
            sign_in(page, console)
            for path in (
                "/",
                "/messages",
                "/compose",
                "/compose?channel=voice",
                "/compose?channel=postcard",
                "/compose?channel=whatsapp",
                "/return-addresses",
                "/conversations",
                "/contacts",
                "/campaigns",
                "/compliance",
                "/developers",
                "/users",
                "/simulator",
                "/simulator/settings",
                "/simulator/mail",
                "/operator",
            ):
                page.goto(f"{console.url}{path}")
                assert serious_accessibility_violations(page) == [], f"{path} ({scheme})"
        finally:
            context.close()


def test_a_member_sees_no_keys_of_other_accounts_nor_operator_pages(
    page: Any, console: Console
) -> None:
    other = console.cli("accounts", "create", "Other tenant")
    member = console.cli(
        "users", "create", "member@other.example", "--account", other["id"], "--role", "member"
    )
    sign_in(page, console, member["email"], member["password"])
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(nav.get_by_role("link", name="Developers")).to_have_count(0)
    expect(nav.get_by_role("link", name="Routes & accounts")).to_have_count(0)
    for path in ("/operator", "/developers"):
        answer = page.goto(f"{console.url}{path}")
        assert answer is not None and answer.status in (403, 404), path

    # The other account's admin sees its own keys only, never the demo account's.
    admin = console.cli(
        "users", "create", "admin@other.example", "--account", other["id"], "--role", "admin"
    )
    with console.api() as api:
        demo_keys = [api.get("/v1/account").json()["id"]]
    own_key = console.cli("accounts", "key", other["id"], "--name", "theirs")
    admin_page = page.context.browser.new_context().new_page()
    sign_in(admin_page, console, admin["email"], admin["password"])
    admin_page.goto(f"{console.url}/developers")
    keys = admin_page.locator("[data-key-id]")
    expect(keys).to_have_count(1)
    expect(keys).to_have_attribute("data-key-id", own_key["id"])
    demo_key_id = console.api_secret.split("_")[1]
    assert demo_key_id not in admin_page.content()
    revoke_other = admin_page.request.post(
        f"{console.url}/developers/keys/{demo_key_id}/revoke",
        form={"csrf_token": admin_page.locator('meta[name="csrf-token"]').get_attribute("content")},
        headers={"Origin": console.url},
    )
    assert revoke_other.status == 404
    assert demo_keys
    admin_page.context.close()

    # A form posted from another site, with the member's cookies but without the page's CSRF
    # token, is refused and changes nothing.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(
        f"{console.url}/signout", cookies=cookies, headers={"Origin": console.url}, timeout=30
    )
    assert forged.status_code == 403
    page.goto(f"{console.url}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
