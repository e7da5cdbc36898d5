"""What a final status says about the recipient's number, and how a batch folds per contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tidings.core.contacts import DeliveryOutcome
from tidings.core.delivery_health import outcome_of, summarize
from tidings.dispatch.outcomes import StatusChange
from tidings.lifecycle import MessageStatus

HARD, SOFT = DeliveryOutcome.HARD_FAILURE, DeliveryOutcome.SOFT_FAILURE


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (MessageStatus.DELIVERED, None, DeliveryOutcome.DELIVERED),
        (MessageStatus.UNDELIVERED, "1", HARD),  # unknown subscriber
        (MessageStatus.UNDELIVERED, "013", HARD),  # call barred, zero-padded
        (MessageStatus.UNDELIVERED, "27", SOFT),  # absent subscriber
        (MessageStatus.UNDELIVERED, None, SOFT),
        (MessageStatus.EXPIRED, None, SOFT),
        (MessageStatus.REJECTED, "ESME_RINVDSTADR", HARD),
        (MessageStatus.REJECTED, "ESME_RINVSRCADR", None),  # our sender, not their number
        (MessageStatus.REJECTED, None, None),
        (MessageStatus.FAILED, "text", None),
        (MessageStatus.CANCELLED, None, None),
        (MessageStatus.SENT, None, None),
    ],
)
def test_outcomes(
    status: MessageStatus, code: str | None, expected: DeliveryOutcome | None
) -> None:
    assert outcome_of(status, code) is expected


def test_a_batch_folds_per_contact_in_order() -> None:
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    later = t0 + timedelta(seconds=5)

    def change(phone: str, status: MessageStatus, code: str | None, at: datetime) -> StatusChange:
        return StatusChange("A", "M", phone, None, status, code, at)

    [first, second] = summarize(
        [
            change("+2", MessageStatus.UNDELIVERED, "1", t0),
            change("+1", MessageStatus.EXPIRED, None, t0),
            change("+2", MessageStatus.DELIVERED, None, later),
            change("+1", MessageStatus.UNDELIVERED, "1", later),
        ]
    )
    assert (first.phone, first.reset, first.failed) == ("+1", False, 2)
    assert (first.hard, first.soft, first.hard_current, first.soft_current) == (1, 1, 1, 1)
    assert (first.last_error, first.error_since, first.at) == ("1", t0, later)
    # A delivery after the failure: totals count it, the current run is over.
    assert (second.phone, second.reset, second.failed, second.hard) == ("+2", True, 1, 1)
    assert (second.hard_current, second.error_since) == (0, None)
