from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.lifecycle import (
    CANCELLABLE_STATUSES,
    FINAL_STATUSES,
    TRANSITIONS,
    InvalidTransition,
    MessageStatus,
    can_transition,
    derive_message_status,
    require_transition,
)

S = MessageStatus


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(MessageStatus)


def test_the_documented_path_is_allowed() -> None:
    path = [S.ACCEPTED, S.QUEUED, S.SUBMITTING, S.SENT, S.DELIVERED]
    for current, new in itertools.pairwise(path):
        require_transition(current, new)


@pytest.mark.parametrize("outcome", [S.UNDELIVERED, S.EXPIRED, S.REJECTED, S.FAILED])
def test_sent_can_end_in_each_receipt_outcome(outcome: MessageStatus) -> None:
    assert can_transition(S.SENT, outcome)


def test_only_scheduled_and_queued_can_be_cancelled() -> None:
    assert {S.SCHEDULED, S.QUEUED} == CANCELLABLE_STATUSES


def test_final_statuses_lead_nowhere_but_to_read() -> None:
    assert {
        S.DELIVERED,
        S.READ,
        S.UNDELIVERED,
        S.EXPIRED,
        S.REJECTED,
        S.FAILED,
        S.CANCELLED,
        S.BUSY,
        S.NO_ANSWER,
    } == FINAL_STATUSES


def test_a_call_goes_from_calling_through_ringing_and_answered_to_its_end() -> None:
    for current, new in [
        (S.SUBMITTING, S.CALLING),
        (S.CALLING, S.RINGING),
        (S.RINGING, S.ANSWERED),
        (S.ANSWERED, S.DELIVERED),
        (S.CALLING, S.ANSWERED),
        (S.RINGING, S.BUSY),
        (S.RINGING, S.NO_ANSWER),
        (S.ANSWERED, S.UNDELIVERED),
    ]:
        require_transition(current, new)
    assert not can_transition(S.ANSWERED, S.BUSY)
    assert not can_transition(S.ANSWERED, S.RINGING)
    for final in FINAL_STATUSES:
        with pytest.raises(InvalidTransition):
            require_transition(final, S.QUEUED)


def test_read_follows_delivered_and_nothing_follows_read() -> None:
    require_transition(S.DELIVERED, S.READ)
    require_transition(S.SENT, S.READ)  # the delivered status lost or overtaken
    for status in MessageStatus:
        assert not can_transition(S.READ, status)
        if status is not S.READ:
            assert not can_transition(S.DELIVERED, status)
    assert derive_message_status([S.READ, S.READ]) == S.READ
    assert derive_message_status([S.READ, S.DELIVERED]) == S.DELIVERED
    assert derive_message_status([S.READ, S.UNDELIVERED]) == S.UNDELIVERED


def test_a_delivered_message_cannot_be_cancelled() -> None:
    with pytest.raises(InvalidTransition, match="delivered to cancelled"):
        require_transition(S.DELIVERED, S.CANCELLED)


def test_a_message_with_one_part_has_that_parts_status() -> None:
    for status in MessageStatus:
        assert derive_message_status([status]) == status


def test_the_least_advanced_unfinished_part_holds_the_message_back() -> None:
    assert derive_message_status([S.SENT, S.SUBMITTING, S.SENT]) == S.SUBMITTING
    assert derive_message_status([S.DELIVERED, S.SENT]) == S.SENT
    assert derive_message_status([S.FAILED, S.SENT]) == S.SENT


def test_all_delivered_is_delivered() -> None:
    assert derive_message_status([S.DELIVERED] * 3) == S.DELIVERED


def test_one_bad_part_spoils_a_finished_message() -> None:
    assert derive_message_status([S.DELIVERED, S.UNDELIVERED]) == S.UNDELIVERED
    assert derive_message_status([S.EXPIRED, S.DELIVERED]) == S.EXPIRED
    assert derive_message_status([S.UNDELIVERED, S.REJECTED, S.EXPIRED]) == S.REJECTED
    assert derive_message_status([S.REJECTED, S.FAILED]) == S.FAILED


def test_no_parts_is_an_error() -> None:
    with pytest.raises(ValueError):
        derive_message_status([])


@given(st.lists(st.sampled_from(list(MessageStatus)), min_size=1, max_size=8))
def test_derived_status_is_final_exactly_when_every_part_is(parts: list[MessageStatus]) -> None:
    derived = derive_message_status(parts)
    assert (derived in FINAL_STATUSES) == all(p in FINAL_STATUSES for p in parts)
    assert derived in parts or derived == S.DELIVERED
    if derived == S.DELIVERED:
        # Some parts delivered, the others read.
        assert S.DELIVERED in parts and set(parts) <= {S.DELIVERED, S.READ}


@given(st.lists(st.sampled_from(list(MessageStatus)), min_size=1, max_size=8), st.randoms())
def test_derivation_ignores_part_order(parts: list[MessageStatus], random: object) -> None:
    shuffled = list(parts)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert derive_message_status(shuffled) == derive_message_status(parts)
