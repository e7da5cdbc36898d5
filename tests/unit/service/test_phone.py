from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.phone import InvalidNumber, InvalidSender, SenderKind, normalize_number, parse_sender


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+358401234567", "US", "+358401234567"),
        ("040 123 4567", "FI", "+358401234567"),
        ("00358401234567", "US", "+358401234567"),
        ("(201) 555-0123", "US", "+12015550123"),
    ],
)
def test_numbers_become_e164(raw: str, region: str, expected: str) -> None:
    assert normalize_number(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "hello", "+358", "12", "+1 555", "0401234567" * 8])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        normalize_number(raw, "FI")


@pytest.mark.parametrize("raw", ["+35840ABC4567", "1-800-FLOWERS", "+358 40 123 456x"])
def test_letters_in_a_number_are_refused_not_read_as_keypad_digits(raw: str) -> None:
    with pytest.raises(InvalidNumber, match="letters"):
        normalize_number(raw, "US")


def test_a_local_number_needs_a_region() -> None:
    with pytest.raises(InvalidNumber):
        normalize_number("0401234567", None)


@pytest.mark.parametrize(
    ("raw", "address", "kind"),
    [
        ("Tidings", "Tidings", SenderKind.ALPHA),
        ("My Shop 24", "My Shop 24", SenderKind.ALPHA),
        ("12345", "12345", SenderKind.SHORT),
        ("+358401234567", "+358401234567", SenderKind.LONG),
        ("0401234567", "+358401234567", SenderKind.LONG),
    ],
)
def test_senders_are_classified(raw: str, address: str, kind: SenderKind) -> None:
    sender = parse_sender(raw, "FI")
    assert (sender.address, sender.kind) == (address, kind)


@pytest.mark.parametrize("raw", ["", "TwelveLetter", "Ääkkönen", "a[b]", "+12"])
def test_bad_senders_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSender):
        parse_sender(raw, "FI")


def _full_parser(raw: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=500)
@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_the_e164_fast_path_agrees_with_the_full_parser(raw: str) -> None:
    try:
        ours: str | None = normalize_number(raw)
    except InvalidNumber:
        ours = None
    assert ours == _full_parser(raw)


@pytest.mark.parametrize(
    "raw", ["+390612345678", "+12015550123", "+4915123456789", "+8613912345678"]
)
def test_known_good_numbers_survive_the_fast_path(raw: str) -> None:
    assert normalize_number(raw) == raw


def test_the_fast_path_keeps_every_regions_example_numbers() -> None:
    checked = 0
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            assert normalize_number(e164) == _full_parser(e164), e164
            checked += 1
    assert checked > 300


def test_a_refused_local_number_says_how_it_was_read_and_how_to_write_one() -> None:
    # The likeliest mistake: an international number without its +, read as a local one.
    with pytest.raises(InvalidNumber) as refused:
        normalize_number("447911123456", "FI")
    message = str(refused.value)
    assert message.startswith("not a valid phone number: '447911123456'")
    assert "read as a local number of FI" in message
    assert "with + or 00" in message
    # A number written with + was not read as local: no such note.
    with pytest.raises(InvalidNumber) as international:
        normalize_number("+35840", "FI")
    assert "local" not in str(international.value)
