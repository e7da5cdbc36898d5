"""ClickSend's push shapes: which status changes are receipts for which rule, and how a push is
encoded for each webhook_type."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from tidings.events import formats
from tidings.events.formats import clicksend
from tidings.events.types import Event


@pytest.mark.parametrize(
    ("status", "all_", "failed", "delivered"),
    [
        ("queued", False, False, False),
        ("sent", False, False, False),
        ("delivered", True, False, True),
        ("undelivered", True, True, False),
        ("expired", True, True, False),
        ("rejected", True, True, False),
    ],
)
def test_only_outcomes_are_receipts_and_match_type_filters_them(
    status: str, all_: bool, failed: bool, delivered: bool
) -> None:
    assert clicksend.receipt_wanted(clicksend.MATCH_ALL, status) is all_
    assert clicksend.receipt_wanted(clicksend.MATCH_FAILED, status) is failed
    assert clicksend.receipt_wanted(clicksend.MATCH_DELIVERED, status) is delivered


def test_a_form_push_writes_null_as_empty_and_json_keeps_types() -> None:
    fields = {"status_code": 201, "error_text": None, "body": "Hei & moi"}
    as_form = clicksend.encode(fields, "post")
    assert as_form.content_type == "application/x-www-form-urlencoded"
    assert parse_qs(as_form.body, keep_blank_values=True) == {
        "status_code": ["201"],
        "error_text": [""],
        "body": ["Hei & moi"],
    }
    as_json = clicksend.encode(fields, "json")
    assert as_json.content_type == "application/json"
    assert json.loads(as_json.body) == fields


def test_without_a_batch_the_receipt_carries_what_the_event_has() -> None:
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def event(status: str) -> Event:
        return Event(
            account_id="acc",
            type="message.status",
            data={"message_id": "01JM", "status": status, "to": "+358401234567"},
            occurred_at=at,
        )

    rendered = formats.render(clicksend.FORMAT, event("undelivered"))
    assert rendered is not None
    body = json.loads(rendered.body)
    assert (body["message_id"], body["status_code"], body["timestamp"]) == (
        "01JM",
        301,
        int(at.timestamp()),
    )
    assert formats.render(clicksend.FORM_FORMAT, event("sent")) is None
    received = Event(account_id="acc", type="message.received", data={}, occurred_at=at)
    assert formats.render(clicksend.FORMAT, received) is None
