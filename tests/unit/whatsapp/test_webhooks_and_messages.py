"""Webhook signatures, the handshake, notifications written and read back, sends' JSON, and
what each Graph error code means for a message."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tidings.whatsapp import messages, webhooks
from tidings.whatsapp.errors import (
    ErrorClass,
    GraphError,
    LocalProtocolError,
    RemoteProtocolError,
    error_class,
    read_error,
)
from tidings.whatsapp.templates import Media, MediaKind, TemplateStatus

SECRET = "app-secret"
AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_signature_is_the_hmac_of_the_raw_body_and_nothing_else_matches() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    good = webhooks.signature(SECRET, body)
    assert webhooks.signature_matches(SECRET, body, good)
    assert not webhooks.signature_matches(SECRET, body + b" ", good)
    assert not webhooks.signature_matches("other", body, good)
    assert not webhooks.signature_matches(SECRET, body, None)
    assert not webhooks.signature_matches(SECRET, body, good.removeprefix("sha256="))


def test_the_signature_is_meta_s_hmac_sha256_hex() -> None:
    import hashlib
    import hmac

    body = "ä".encode()
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert webhooks.signature(SECRET, body) == f"sha256={expected}"


def test_the_handshake_echoes_the_challenge_only_for_our_token() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert webhooks.challenge_answer(params, "tok") == "1158201444"
    assert webhooks.challenge_answer({**params, "hub.verify_token": "no"}, "tok") is None
    assert webhooks.challenge_answer({**params, "hub.mode": "unsubscribe"}, "tok") is None
    assert webhooks.challenge_answer(params, "") is None


def _body(field: str, value: dict[str, object]) -> bytes:
    return json.dumps(webhooks.notification("1234", field, value)).encode()


def test_statuses_messages_and_template_updates_read_back_as_written() -> None:
    failure = GraphError(
        131026, "Message undeliverable", title="Message undeliverable", details="no"
    )
    status = _body(
        "messages",
        webhooks.status_change(
            display_phone_number="+358401000000",
            phone_number_id="111",
            wamid="wamid.A",
            status=webhooks.DeliveryStatus.FAILED,
            at=AT,
            recipient="+358401234567",
            errors=(failure,),
        ),
    )
    [update] = webhooks.read_notification(status).statuses
    assert update.wamid == "wamid.A" and update.status is webhooks.DeliveryStatus.FAILED
    assert update.recipient == "+358401234567" and update.at == AT
    assert [(e.code, e.title, e.details) for e in update.errors] == [
        (131026, "Message undeliverable", "no")
    ]

    reply = _body(
        "messages",
        webhooks.message_change(
            display_phone_number="+358401000000",
            phone_number_id="111",
            sender="358401234567",
            profile_name="Anna",
            message={
                "id": "wamid.B",
                "timestamp": str(int(AT.timestamp())),
                "type": "button",
                "button": {"payload": "thanks", "text": "Thanks"},
                "context": {"from": "358401000000", "id": "wamid.A"},
            },
        ),
    )
    [message] = webhooks.read_notification(reply).messages
    assert (message.sender, message.button_payload, message.as_text) == (
        "+358401234567",
        "thanks",
        "Thanks",
    )
    assert (message.context, message.profile_name, message.display_phone_number) == (
        "wamid.A",
        "Anna",
        "358401000000",
    )

    review = _body(
        "message_template_status_update",
        webhooks.template_change(
            template_id="17",
            name="order_ready",
            language="en",
            status=TemplateStatus.REJECTED,
            reason="INVALID_FORMAT",
        ),
    )
    [template] = webhooks.read_notification(review).templates
    assert (template.template_id, template.status, template.reason) == (
        "17",
        TemplateStatus.REJECTED,
        "INVALID_FORMAT",
    )


def test_a_template_review_s_entry_has_its_time_and_a_message_s_has_none() -> None:
    """As Meta writes them: a WABA field's entry (a template's review) carries ``time``, a
    ``messages`` entry does not."""
    review = webhooks.template_change(
        template_id="5", name="hello", language="en_US", status=TemplateStatus.APPROVED, reason=None
    )
    [entry] = webhooks.notification("1234", "message_template_status_update", review, at=AT)[
        "entry"
    ]
    assert list(entry) == ["id", "time", "changes"] and entry["time"] == int(AT.timestamp())
    [entry] = webhooks.notification("1234", "messages", {"statuses": []}, at=AT)["entry"]
    assert list(entry) == ["id", "changes"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"object":"page","entry":[]}',
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{}}]}]}',
    ],
)
def test_a_notification_that_cannot_be_read_is_the_sender_s_fault(body: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        webhooks.read_notification(body)


def test_locations_and_contacts_read_as_text() -> None:
    place = webhooks.UserMessage(
        "1",
        "2",
        "w",
        "+3",
        AT,
        "location",
        location=webhooks.Location(60.17, 24.94, "Kauppatori", "Helsinki"),
    )
    assert place.as_text == "Kauppatori, Helsinki (60.17,24.94)"
    cards = webhooks.UserMessage(
        "1",
        "2",
        "w",
        "+3",
        AT,
        "contacts",
        contacts=(webhooks.SharedContact("Anna V", ("+358401",)),),
    )
    assert cards.as_text == "Anna V +358401"


def test_sends_are_written_as_the_api_documents_them() -> None:
    assert messages.payload("+358401234567", messages.Text("Hei")) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "358401234567",
        "type": "text",
        "text": {"preview_url": False, "body": "Hei"},
    }
    document = messages.payload(
        "+358401234567",
        messages.MediaMessage(
            Media(MediaKind.DOCUMENT, id="55", caption="Invoice", filename="i.pdf")
        ),
    )
    assert document["document"] == {"id": "55", "caption": "Invoice", "filename": "i.pdf"}
    buttons = messages.payload(
        "+358401234567",
        messages.InteractiveButtons(
            "Table for two?", (messages.ReplyButton("yes", "Yes"), messages.ReplyButton("no", "No"))
        ),
    )
    assert buttons["interactive"]["action"]["buttons"][1] == {
        "type": "reply",
        "reply": {"id": "no", "title": "No"},
    }
    for body in (document, buttons):
        assert messages.payload("+358401234567", messages.read_payload(body).message) == body


@pytest.mark.parametrize(
    "message",
    [
        messages.Text(""),
        messages.MediaMessage(Media(MediaKind.IMAGE)),
        messages.InteractiveButtons("x", ()),
        messages.InteractiveButtons(
            "x", tuple(messages.ReplyButton(str(i), "t") for i in range(4))
        ),
    ],
)
def test_what_the_api_would_refuse_is_not_sent(message: messages.Message) -> None:
    with pytest.raises(LocalProtocolError):
        messages.payload("+358401234567", message)


def test_error_codes_mean_what_meta_s_reference_says() -> None:
    assert error_class(130429) is ErrorClass.RETRY
    assert error_class(131026) is ErrorClass.UNREACHABLE
    assert error_class(131047) is ErrorClass.WINDOW
    assert error_class(132001) is ErrorClass.TEMPLATE
    assert error_class(132999) is ErrorClass.TEMPLATE  # a template code added later
    assert error_class(190) is ErrorClass.AUTH
    assert error_class(250) is ErrorClass.REFUSED
    error = read_error(
        {
            "error": {
                "message": "(#130429) Rate limit hit",
                "type": "OAuthException",
                "code": 130429,
                "error_data": {"messaging_product": "whatsapp", "details": "throughput"},
                "fbtrace_id": "Az",
            }
        }
    )
    assert error is not None and error.summary == "(130429) (#130429) Rate limit hit: throughput"
    assert read_error({"error": "nope"}) is None and read_error([]) is None
