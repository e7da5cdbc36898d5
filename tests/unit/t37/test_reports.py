"""DSNs and MDNs from a fax gateway read into true fax outcomes, tied to the fax they are about."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.t37.samples import dsn, mdn
from tidings.t37.reports import FaxOutcome, FaxReport, MalformedReport, read_report


def test_a_delivered_fax_reports_its_pages() -> None:
    (report,) = read_report(
        dsn(action="delivered", status="2.0.0", diagnostic="3 pages sent in 0:42")
    )
    assert report == FaxReport(
        reference="01HZXABC",
        outcome=FaxOutcome.DELIVERED,
        number="+61261111111",
        pages=3,
        status="2.0.0",
        detail="3 pages sent in 0:42",
    )


def test_pages_may_come_in_an_extension_field() -> None:
    (report,) = read_report(dsn(action="delivered", status="2.0.0", extra="X-Fax-Pages-Sent: 5\n"))
    assert report.pages == 5


@pytest.mark.parametrize(
    ("status", "diagnostic", "outcome"),
    [
        ("5.0.0", "line busy", FaxOutcome.BUSY),
        ("4.4.1", "no answer from host", FaxOutcome.NO_ANSWER),
        ("5.0.0", "NO CARRIER after 3 attempts", FaxOutcome.NO_ANSWER),
        ("5.3.0", "fax protocol error after 1 page", FaxOutcome.FAILED),
    ],
)
def test_a_failed_fax_says_why(status: str, diagnostic: str, outcome: FaxOutcome) -> None:
    (report,) = read_report(dsn(action="failed", status=status, diagnostic=diagnostic))
    assert report.outcome is outcome
    assert report.detail == diagnostic
    assert report.outcome.final


def test_a_partial_fax_fails_with_the_pages_that_went() -> None:
    (report,) = read_report(
        dsn(action="failed", status="5.3.0", diagnostic="line dropped: 1 page of 3 sent")
    )
    assert (report.outcome, report.pages) == (FaxOutcome.FAILED, 1)


@pytest.mark.parametrize("action", ["delayed", "relayed"])
def test_a_delay_or_relay_is_not_final(action: str) -> None:
    (report,) = read_report(dsn(action=action, status="4.4.1", diagnostic="busy, will retry"))
    assert report.outcome is FaxOutcome.PENDING
    assert not report.outcome.final


def test_without_an_envelope_id_the_returned_message_id_names_the_fax() -> None:
    (report,) = read_report(dsn(action="delivered", status="2.0.0", envelope_id=None))
    assert report.reference == "01HZXABC"


def test_a_dsn_naming_no_fax_is_malformed() -> None:
    with pytest.raises(MalformedReport, match="names no envelope id"):
        read_report(
            dsn(action="delivered", status="2.0.0", envelope_id=None, returned_message_id=None)
        )


def test_an_unknown_action_is_malformed() -> None:
    with pytest.raises(MalformedReport, match="action 'exploded'"):
        read_report(dsn(action="exploded", status="2.0.0"))


@pytest.mark.parametrize(
    ("disposition", "failure", "outcome"),
    [
        ("processed", None, FaxOutcome.DELIVERED),
        ("failed", "busy", FaxOutcome.BUSY),
        ("failed/error", "transmission failed", FaxOutcome.FAILED),
    ],
)
def test_an_mdn_reports_too(disposition: str, failure: str | None, outcome: FaxOutcome) -> None:
    (report,) = read_report(mdn(disposition, failure=failure))
    assert (report.reference, report.outcome) == ("01HZXABC", outcome)


def test_a_plain_mail_is_no_report() -> None:
    with pytest.raises(MalformedReport, match="text/plain mail is no report"):
        read_report(b"From: someone@example.com\nSubject: hi\n\nhello\n")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_damaged_report_is_read_or_refused_never_crash(data: st.DataObject) -> None:
    whole = bytearray(dsn(action="failed", status="5.0.0", diagnostic="busy"))
    cut = data.draw(st.integers(0, len(whole)))
    for index, value in data.draw(
        st.lists(st.tuples(st.integers(0, len(whole) - 1), st.integers(0, 255)), max_size=6)
    ):
        whole[index] = value
    with contextlib.suppress(MalformedReport):
        read_report(bytes(whole[:cut]))
