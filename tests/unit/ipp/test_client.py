"""The print-job client: the requests it builds and what it makes of printers' answers."""

from __future__ import annotations

import pytest

from tidings.ipp.client import (
    IppClient,
    JobAccepted,
    JobStatus,
    JobTicket,
    JobWatch,
    RequestRefused,
)
from tidings.ipp.codec import AttributeGroup, Message, decode_message, encode_message
from tidings.ipp.constants import GroupTag, JobState, Operation, StatusCode, ValueTag
from tidings.ipp.errors import RemoteProtocolError

TICKET = JobTicket(
    job_name="01HZX",
    media="iso_a4_210x297mm",
    sides="two-sided-long-edge",
    print_color_mode="color",
    job_priority=100,
)


def answer(request_id: int, status: int, *groups: AttributeGroup) -> bytes:
    operation = AttributeGroup(GroupTag.OPERATION)
    operation.add("attributes-charset", ValueTag.CHARSET, "utf-8")
    operation.add("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en")
    operation.add("status-message", ValueTag.TEXT, "as you wish")
    return encode_message(Message((1, 1), status, request_id, [operation, *groups]))


def job(**values: int | str) -> AttributeGroup:
    group = AttributeGroup(GroupTag.JOB)
    for name, value in values.items():
        key = name.replace("_", "-")
        if isinstance(value, int):
            tag = ValueTag.ENUM if key == "job-state" else ValueTag.INTEGER
        else:
            tag = ValueTag.KEYWORD if key == "job-state-reasons" else ValueTag.URI
        group.add(key, tag, value)
    return group


def test_print_job_carries_the_ticket_and_the_document() -> None:
    client = IppClient("ipp://printer.example/ipp/print")
    request = client.print_job(TICKET, b"%PDF-1.7")
    sent = decode_message(request.body)
    assert sent.version == (1, 1)
    assert sent.code == Operation.PRINT_JOB
    operation = sent.group(GroupTag.OPERATION)
    assert operation is not None
    # The charset and language come first (RFC 8011 §4.1.4).
    assert [a.name for a in operation.attributes[:3]] == [
        "attributes-charset",
        "attributes-natural-language",
        "printer-uri",
    ]
    assert operation.get("job-name").value == "01HZX"  # type: ignore[union-attr]
    assert operation.get("document-format").value == "application/pdf"  # type: ignore[union-attr]
    template = sent.group(GroupTag.JOB)
    assert template is not None
    assert {a.name: a.value for a in template.attributes} == {
        "media": "iso_a4_210x297mm",
        "sides": "two-sided-long-edge",
        "print-color-mode": "color",
        "job-priority": 100,
        "copies": 1,
    }
    assert sent.data == b"%PDF-1.7"


def test_an_accepted_job_gives_its_id_and_what_the_printer_ignored() -> None:
    client = IppClient("ipp://p/")
    request = client.print_job(TICKET, b"%PDF")
    unsupported = AttributeGroup(GroupTag.UNSUPPORTED).add("sides", ValueTag.UNSUPPORTED, None)
    event = client.receive(
        answer(
            request.request_id,
            StatusCode.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED,
            job(job_id=42, job_uri="ipp://p/jobs/42", job_state=3),
            unsupported,
        )
    )
    assert event == JobAccepted(
        request.request_id, 42, "ipp://p/jobs/42", JobState.PENDING, ("sides",)
    )
    assert client.outstanding == 0


def test_create_job_then_send_document_names_the_job() -> None:
    client = IppClient("ipp://p/")
    created = client.create_job(TICKET)
    assert decode_message(created.body).data == b""
    send = client.send_document(42, TICKET, b"%PDF")
    sent = decode_message(send.body)
    assert sent.code == Operation.SEND_DOCUMENT
    assert sent.attribute(GroupTag.OPERATION, "job-id").value == 42  # type: ignore[union-attr]
    assert sent.attribute(GroupTag.OPERATION, "last-document").value is True  # type: ignore[union-attr]


def test_job_attributes_give_the_state_and_the_sheets() -> None:
    client = IppClient("ipp://p/")
    request = client.get_job_attributes(42)
    asked = decode_message(request.body).attribute(GroupTag.OPERATION, "requested-attributes")
    assert asked is not None and "job-state" in asked.values
    status = job(job_id=42, job_state=9, job_state_reasons="job-completed-successfully")
    status.add("job-media-sheets-completed", ValueTag.INTEGER, 2)
    event = client.receive(answer(request.request_id, 0, status))
    assert isinstance(event, JobStatus)
    assert (event.state, event.reasons, event.sheets) == (
        JobState.COMPLETED,
        ("job-completed-successfully",),
        2,
    )
    assert event.state.final


@pytest.mark.parametrize(
    ("status", "temporary"),
    [
        (StatusCode.SERVER_ERROR_BUSY, True),
        (StatusCode.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, False),
    ],
)
def test_a_refusal_says_whether_to_try_again(status: int, temporary: bool) -> None:
    client = IppClient("ipp://p/")
    request = client.print_job(TICKET, b"%PDF")
    event = client.receive(answer(request.request_id, status))
    assert isinstance(event, RequestRefused)
    assert event.temporary is temporary
    assert event.describe().endswith(": as you wish")


def test_an_answer_to_nothing_asked_is_a_protocol_error() -> None:
    client = IppClient("ipp://p/")
    with pytest.raises(RemoteProtocolError, match="never asked"):
        client.receive(answer(99, 0, job(job_id=1, job_state=3)))


def test_an_accepted_job_without_an_id_is_a_protocol_error() -> None:
    client = IppClient("ipp://p/")
    request = client.print_job(TICKET, b"%PDF")
    with pytest.raises(RemoteProtocolError, match="no job-id"):
        client.receive(answer(request.request_id, 0, job(job_state=3)))


def test_an_unknown_job_state_is_a_protocol_error() -> None:
    client = IppClient("ipp://p/")
    request = client.get_job_attributes(1)
    with pytest.raises(RemoteProtocolError, match="not a job state"):
        client.receive(answer(request.request_id, 0, job(job_id=1, job_state=42)))


def test_the_watch_asks_again_by_state_and_forgets_final_jobs() -> None:
    watch = JobWatch(first_poll=1.0)
    watch.watch(7, now=100.0)
    watch.watch(8, now=100.5)
    assert watch.next_deadline() == 101.0
    assert watch.due(101.0) == [7]
    watch.seen(7, JobState.PROCESSING, now=101.0)
    assert watch.due(102.0) == [8]
    watch.seen(8, JobState.COMPLETED, now=102.0)
    assert 8 not in watch and len(watch) == 1
    assert watch.next_deadline() == 103.0
