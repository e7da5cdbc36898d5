"""/docs in a real browser with no internet: Swagger UI from the package's files shows the
native document and each dialect's."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console

pytestmark = pytest.mark.browser


def test_docs_render_offline_with_a_document_per_surface(page: Any, console: Console) -> None:
    service = urlsplit(console.url).netloc
    elsewhere: list[str] = []

    def only_the_service(route: Any) -> None:
        # No internet: anything not served by tidings itself fails, as it would offline.
        if urlsplit(route.request.url).netloc == service:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_service)
    page.goto(f"{console.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("tidings")
    expect(page.locator(".opblock-summary-path", has_text="/v1/messages").first).to_be_visible()
    assert elsewhere == []

    picker = page.locator(".topbar select")
    options = picker.locator("option").all_inner_texts()
    assert len(options) == 4, options
    picker.select_option(label="tidings: ClickSend v3 dialect")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ClickSend")
    expect(
        page.locator(".opblock-summary-path", has_text=re.compile(r"^/v3/")).first
    ).to_be_visible()
    assert elsewhere == []
