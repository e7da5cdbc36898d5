"""The New Message callback body, from whatever the message.received event carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tidings.events.formats import render
from tidings.events.types import Event

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_a_received_message_in_the_trigger_s_shape() -> None:
    event = Event(
        "acc",
        "message.received",
        {
            "message_id": "01M",
            "from": "+358401112223",
            "to": "+358409999999",
            "body": "Hei",
            "encoding": "gsm7",
            "parts": 1,
            "timestamp": "2026-12-01T09:29:59.000Z",
            "thread_id": "t1",
        },
        AT,
    )
    rendered = render("smartdialog", event)
    assert rendered is not None and rendered.content_type == "application/json"
    assert json.loads(rendered.body) == {
        "sender": "+358401112223",
        "recipient": "+358409999999",
        "content": "Hei",
        "timestamp": "2026-12-01T09:29:59.000Z",
        "protocol": "SMS",
        "attachments": [],
        "messageId": "01M",
    }


def test_missing_keys_render_null_and_the_event_time_stands_in() -> None:
    rendered = render("smartdialog", Event("acc", "message.received", {"body": "x"}, AT))
    assert rendered is not None
    body = json.loads(rendered.body)
    assert (body["sender"], body["messageId"], body["timestamp"]) == (
        None,
        None,
        "2026-12-01T09:30:00.000Z",
    )


def test_other_events_have_no_smartdialog_body() -> None:
    status = Event("acc", "message.status", {"message_id": "01M", "status": "delivered"}, AT)
    assert render("smartdialog", status) is None
