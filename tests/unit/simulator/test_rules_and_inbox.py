"""Outcome rules, chaos settings and handset inboxes, without any network."""

from __future__ import annotations

import random

import pytest

from tidings.simulator import (
    DEFAULT_RULES,
    ChaosConfig,
    HandsetInboxes,
    MessageIdFormat,
    OutcomeRule,
    SimulatorConfig,
    choose_outcome,
)
from tidings.smpp.concat import ConcatMethod, IncomingFragment, outgoing_parts
from tidings.smpp.constants import CommandStatus
from tidings.smpp.receipts import ReceiptState
from tidings.text import plan_text


def test_default_rules_make_numbers_ending_in_zero_undeliverable() -> None:
    rng = random.Random(0)
    assert choose_outcome(DEFAULT_RULES, "31600000010", rng).state is ReceiptState.UNDELIV
    assert choose_outcome(DEFAULT_RULES, "31600000010", rng).err == 1
    assert choose_outcome(DEFAULT_RULES, "+31600000011", rng).state is ReceiptState.DELIVRD
    assert choose_outcome((), "31600000010", rng).state is ReceiptState.DELIVRD


def test_rules_match_prefix_after_the_plus_and_the_first_match_wins() -> None:
    rules = (
        OutcomeRule(state=ReceiptState.EXPIRED, err=27, prefix="44"),
        OutcomeRule(state=ReceiptState.REJECTD, err=11, prefix="4"),
    )
    rng = random.Random(0)
    assert choose_outcome(rules, "+447700900123", rng).state is ReceiptState.EXPIRED
    assert choose_outcome(rules, "49170000000", rng).err == 11


def test_probability_rules_apply_to_about_that_fraction_reproducibly() -> None:
    rules = (OutcomeRule(state=ReceiptState.UNDELIV, err=5, probability=0.2),)

    def run(seed: int) -> list[ReceiptState]:
        rng = random.Random(seed)
        return [choose_outcome(rules, "31600000001", rng).state for _ in range(5000)]

    first = run(42)
    assert first == run(42)
    undelivered = first.count(ReceiptState.UNDELIV)
    # Binomial(5000, 0.2): sigma ≈ 28, so this window is over 5 sigma wide.
    assert 850 <= undelivered <= 1150


def test_a_probability_combines_with_a_prefix() -> None:
    rules = (OutcomeRule(state=ReceiptState.UNDELIV, prefix="1", probability=1.0),)
    rng = random.Random(0)
    assert choose_outcome(rules, "2000", rng).state is ReceiptState.DELIVRD
    assert choose_outcome(rules, "1000", rng).state is ReceiptState.UNDELIV


@pytest.mark.parametrize(
    "arguments",
    [
        {"state": ReceiptState.ENROUTE},
        {"state": ReceiptState.UNDELIV, "err": 1000},
        {"state": ReceiptState.UNDELIV, "probability": 1.5},
    ],
)
def test_invalid_rules_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        OutcomeRule(**arguments)  # type: ignore[arg-type]


def test_chaos_settings_are_checked() -> None:
    assert not ChaosConfig().active
    assert ChaosConfig(reject_fraction=0.1).active
    assert ChaosConfig().reject_status == CommandStatus.ESME_RTHROTTLED
    with pytest.raises(ValueError):
        ChaosConfig(reject_fraction=2)
    with pytest.raises(ValueError):
        ChaosConfig(reject_status=CommandStatus.ESME_ROK)
    with pytest.raises(ValueError):
        ChaosConfig(response_delay_s=-1)
    with pytest.raises(ValueError):
        SimulatorConfig(inbox_limit=0)


def test_message_ids_are_hex_or_decimal_counters() -> None:
    assert MessageIdFormat.HEX.render(255) == "ff"
    assert MessageIdFormat.DECIMAL.render(255) == "255"


def fragment(text: str, destination: str = "316", source: str = "123") -> IncomingFragment:
    [part] = outgoing_parts(plan_text(text), ConcatMethod.UDH8, reference=0)
    return IncomingFragment(
        source=source,
        destination=destination,
        data_coding=part.data_coding,
        short_message=part.short_message,
        udhi=part.udhi,
    )


def inboxes(per_number: int = 10, total: int = 100) -> HandsetInboxes:
    return HandsetInboxes(per_number=per_number, total=total, reassembly_timeout_s=5)


def test_inbox_keeps_the_newest_messages_per_number() -> None:
    store = inboxes(per_number=3)
    for index in range(5):
        store.receive(fragment(f"m{index}"), str(index), now=0)
    assert [m.text for m in store.messages("316")] == ["m2", "m3", "m4"]
    assert store.messages("999") == []


def test_inboxes_drop_the_oldest_message_over_the_total() -> None:
    store = inboxes(per_number=10, total=3)
    for index, number in enumerate(["1", "2", "1", "3"]):
        store.receive(fragment(f"m{index}", destination=number), str(index), now=0)
    assert [m.text for m in store.messages("1")] == ["m2"]
    assert [m.text for m in store.messages("2")] == ["m1"]
    assert [m.text for m in store.messages("3")] == ["m3"]
    store.receive(fragment("m4", destination="4"), "4", now=0)
    store.receive(fragment("m5", destination="4"), "5", now=0)
    assert store.messages("1") == [] and store.messages("2") == []
    assert store.numbers == 2


def test_parts_are_collected_with_their_message_ids() -> None:
    text = "part " * 80
    parts = outgoing_parts(plan_text(text), ConcatMethod.UDH16, reference=4000)
    store = inboxes()
    for number, part in enumerate(parts):
        store.receive(
            IncomingFragment("123", "316", part.data_coding, part.short_message, udhi=True),
            f"id{number}",
            now=0,
        )
    [message] = store.messages("316")
    assert message.text == text
    assert message.message_ids == tuple(f"id{n}" for n in range(len(parts)))


def test_an_incomplete_message_is_dropped_after_the_timeout() -> None:
    parts = outgoing_parts(plan_text("x" * 400), ConcatMethod.SAR, reference=9)
    store = inboxes()
    first = parts[0]
    store.receive(IncomingFragment("1", "316", 0, first.short_message, sar=first.sar), "a", 0)
    other = fragment("later", destination="317")
    store.receive(other, "b", now=10)
    later = parts[1]
    store.receive(IncomingFragment("1", "316", 0, later.short_message, sar=later.sar), "c", 11)
    assert store.incomplete == 1
    assert store.messages("316") == []


def test_malformed_and_binary_messages_do_not_raise() -> None:
    store = inboxes()
    store.receive(IncomingFragment("1", "316", 0, b"\x09\x00\x03", udhi=True), "a", 0)
    assert store.malformed == 1
    store.receive(IncomingFragment("1", "316", 4, b"\x01\xff"), "b", 0)
    [binary] = store.messages("316")
    assert binary.text == "01ff"
