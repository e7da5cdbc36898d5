"""Error answers of the service as the CLI says them: sentences, never a Python object."""

from __future__ import annotations

from tidings.cli.client import problem_message


def test_a_problem_with_invalid_fields_reads_as_sentences() -> None:
    body = {
        "type": "urn:tidings:problem:invalid-request",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "The request is not valid.",
        "errors": [{"path": "to[0]", "message": "value is not a valid phone number"}],
    }
    assert problem_message(422, "Unprocessable Content", body) == (
        "The request is not valid.\n  to[0]: Value is not a valid phone number."
    )


def test_a_send_that_accepted_nobody_says_why_for_each_recipient() -> None:
    body = {
        "status": 422,
        "detail": "No recipient was accepted.",
        "messages": [
            {
                "to": "+358401234567",
                "error": {"code": "opted_out", "reason": 1, "detail": "+358401234567 opted out"},
            },
            {"to": "12", "error": {"code": "invalid_number", "reason": 0}},
        ],
    }
    assert problem_message(422, "Unprocessable Content", body).splitlines() == [
        "No recipient was accepted.",
        "  +358401234567: +358401234567 opted out.",
        "  12: Invalid number.",
    ]


def test_an_answer_that_is_no_problem_json_is_said_by_its_status() -> None:
    assert problem_message(502, "Bad Gateway", "<html>…</html>") == (
        "The service answered 502 Bad Gateway."
    )
