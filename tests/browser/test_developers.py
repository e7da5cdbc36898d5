"""Developers: an API key created (its secret shown once) and revoked; a webhook's delivery
log with request and response, and a delivery replayed with the same webhook-id."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap
from tests.ports import free_port

pytestmark = pytest.mark.browser


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.received.append({"webhook-id": self.headers.get("webhook-id"), "body": body})
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def test_create_a_key_see_its_secret_once_and_revoke_it(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Developers").click()
    page.get_by_label("Name for a new key").fill("web shop")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("Secret", exact=True).input_value()
    assert re.fullmatch(r"tdk_\w+_\w+", secret)
    key_id = secret.split("_")[1]
    snap(page, "developers")
    assert httpx.get(
        f"{console.url}/v1/account", headers={"Authorization": f"Bearer {secret}"}
    ).is_success

    page.goto(f"{console.url}/developers")
    assert secret not in page.content()  # once means once
    row = page.locator(f'[data-key-id="{key_id}"]')
    expect(row).to_contain_text("web shop")
    row.get_by_role("button", name=re.compile("Revoke")).click()
    expect(page.get_by_role("status").filter(has_text="revoked")).to_be_visible()
    expect(page.locator(f'[data-key-id="{key_id}"]')).to_contain_text("revoked")
    refused = httpx.get(f"{console.url}/v1/account", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401
    assert serious_accessibility_violations(page) == []


def test_replay_a_webhook_delivery(
    page: Any, console: Console, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver
    sign_in(page, console)
    page.goto(f"{console.url}/developers")
    page.get_by_label("URL").fill(url)
    page.get_by_role("checkbox", name="all").uncheck()
    page.get_by_role("checkbox", name="message.status").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_label("Signing secret")).to_have_value(re.compile("^whsec_"))
    page.get_by_role("link", name=url).click()

    with console.api() as api:
        sent = api.post(
            "/v1/messages", json={"to": "+358401000061", "from": "Tidings", "body": "hook me"}
        ).json()["messages"][0]
    # The log fills in live: one delivery per status change of the message.
    delivery = page.locator("[data-delivery-id]").filter(has=page.locator(".status-delivered"))
    expect(delivery.first).to_be_visible()
    first = delivery.first
    delivery_id = first.get_attribute("data-delivery-id")
    first.get_by_text(re.compile("Request and")).click()
    expect(first).to_contain_text(sent["id"])  # the request body
    expect(first).to_contain_text("HTTP 204")  # the response
    snap(page, "webhook")
    before = [r for r in received if r["webhook-id"] == delivery_id]
    assert len(before) == 1

    first.get_by_role("button", name=re.compile("Replay")).click()
    expect(page.get_by_role("status").filter(has_text="queued again")).to_be_visible()
    replayed = page.locator(f'[data-delivery-id="{delivery_id}"]')
    replayed.get_by_text(re.compile("Request and")).click()
    expect(replayed.locator("[data-attempt]")).to_have_count(2)
    again = [r for r in received if r["webhook-id"] == delivery_id]
    assert len(again) == 2 and again[0]["body"] == again[1]["body"]
    assert json.loads(again[1]["body"])["type"] == "message.status"
