"""Templates as the Cloud API has them: checked as its review checks them, their parameters
written into a send's components and read back, and shown as the handset shows them."""

from __future__ import annotations

import pytest

from tidings.whatsapp.errors import LocalProtocolError, RemoteProtocolError
from tidings.whatsapp.templates import (
    Button,
    ButtonParameter,
    ButtonType,
    Category,
    Header,
    HeaderFormat,
    Media,
    MediaKind,
    Parameters,
    Template,
    TemplateStatus,
    as_listed,
    as_text,
    read_send_components,
    read_template,
    render,
    send_components,
)

ORDER = Template(
    name="order_ready",
    language="en",
    category=Category.UTILITY,
    body="Hi {{1}}, your order {{2}} is ready.",
    header=Header(HeaderFormat.IMAGE),
    footer="Reply STOP to stop",
    buttons=(
        Button(ButtonType.QUICK_REPLY, "Thanks"),
        Button(ButtonType.URL, "Track", url="https://shop.example/track/{{1}}"),
        Button(ButtonType.PHONE_NUMBER, "Call us", phone_number="+358401000000"),
    ),
)
PICTURE = Media(MediaKind.IMAGE, link="https://cdn.example/p.jpg")


def test_a_send_s_components_are_written_as_the_api_documents_them() -> None:
    parameters = Parameters(
        header_media=PICTURE,
        body=("Anna", "A-17"),
        buttons=(
            ButtonParameter(0, ButtonType.QUICK_REPLY, "thanks-a17"),
            ButtonParameter(1, ButtonType.URL, "A-17"),
        ),
    )
    assert send_components(ORDER, parameters) == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": PICTURE.link}}]},
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Anna"}, {"type": "text", "text": "A-17"}],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": 0,
            "parameters": [{"type": "payload", "payload": "thanks-a17"}],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": 1,
            "parameters": [{"type": "text", "text": "A-17"}],
        },
    ]
    assert read_send_components(ORDER, send_components(ORDER, parameters)) == parameters
    # A button's index is sent as a number (as Meta's SDK and pywa send it); the API also
    # takes it as a string, as Meta's examples write it.
    as_strings = [
        {**c, "index": str(c["index"])} if "index" in c else c
        for c in send_components(ORDER, parameters)
    ]
    assert read_send_components(ORDER, as_strings) == parameters


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        (Parameters(header_media=PICTURE, body=("Anna",)), "the body takes 2 parameters; 1 given"),
        (Parameters(body=("Anna", "A-17")), "header is image"),
        (
            Parameters(header_media=Media(MediaKind.VIDEO, id="9"), body=("a", "b")),
            "header is image, not video",
        ),
        (
            Parameters(
                header_media=PICTURE,
                body=("a", "b"),
                buttons=(
                    ButtonParameter(1, ButtonType.URL, "x"),
                    ButtonParameter(2, ButtonType.URL, "y"),
                ),
            ),
            "takes no such parameter",
        ),
        (Parameters(header_media=PICTURE, body=("a", "b")), "needs its parameter"),
    ],
)
def test_parameters_that_do_not_fit_the_template_are_refused(
    parameters: Parameters, words: str
) -> None:
    with pytest.raises(LocalProtocolError, match=words):
        send_components(ORDER, parameters)


def test_the_api_side_refuses_what_does_not_fit_as_the_peer_s_fault() -> None:
    with pytest.raises(RemoteProtocolError):
        read_send_components(
            ORDER, [{"type": "body", "parameters": [{"type": "text", "text": "x"}]}]
        )


def test_a_template_renders_as_the_handset_shows_it() -> None:
    rendered = render(
        ORDER,
        Parameters(
            header_media=PICTURE,
            body=("Anna", "A-17"),
            buttons=(ButtonParameter(1, ButtonType.URL, "A-17"),),
        ),
    )
    assert rendered.body == "Hi Anna, your order A-17 is ready."
    assert rendered.buttons[1] == (ButtonType.URL, "Track", "https://shop.example/track/A-17")
    assert rendered.buttons[2] == (ButtonType.PHONE_NUMBER, "Call us", "+358401000000")
    assert as_text(rendered) == (
        "Hi Anna, your order A-17 is ready.\nReply STOP to stop\n"
        "Track: https://shop.example/track/A-17"
    )


@pytest.mark.parametrize(
    ("template", "words"),
    [
        (Template("Order Ready", "en", Category.UTILITY, "x"), "lower-case"),
        (Template("a", "en", Category.UTILITY, "{{1}} and {{3}}"), "without gaps"),
        (
            Template(
                "a", "en", Category.UTILITY, "x", header=Header(HeaderFormat.TEXT, "{{1}} {{2}}")
            ),
            "at most one parameter",
        ),
        (
            Template(
                "a",
                "en",
                Category.UTILITY,
                "x",
                buttons=(Button(ButtonType.URL, "Go", url="ftp://x"),),
            ),
            "http",
        ),
        (
            Template(
                "a",
                "en",
                Category.UTILITY,
                "x",
                buttons=(Button(ButtonType.QUICK_REPLY, "x" * 26),),
            ),
            "1 to 25",
        ),
    ],
)
def test_the_review_s_rules_are_checked_before_submitting(template: Template, words: str) -> None:
    with pytest.raises(LocalProtocolError, match=words):
        template.check()


def test_a_submission_carries_examples_and_reads_back_as_it_was() -> None:
    ORDER.check()
    submitted = ORDER.submission(header_handle="4::abc")
    header, body, footer, buttons = submitted["components"]
    assert footer == {"type": "FOOTER", "text": "Reply STOP to stop"}
    assert header == {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::abc"]}}
    assert body["example"] == {"body_text": [["sample1", "sample2"]]}
    assert buttons["buttons"][1]["example"] == ["https://shop.example/track/sample"]
    template, template_id, status, reason = read_template(
        as_listed(ORDER, "17", TemplateStatus.APPROVED)
    )
    assert (template, template_id, status, reason) == (ORDER, "17", TemplateStatus.APPROVED, None)
