from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.errors import TidingsError
from tidings.smpp import receipts
from tidings.smpp.receipts import (
    DeliveryReceipt,
    ReceiptParseError,
    ReceiptState,
    format_receipt,
    looks_like_receipt,
    message_id_variants,
    message_state_to_receipt_state,
    parse_receipt,
    receipt_state_to_message_state,
)

APPENDIX_B_EXAMPLE = (
    "id:0123456789 sub:001 dlvrd:001 submit date:0809011130 done date:0809011131"
    " stat:DELIVRD err:000 text:Hello world"
)


def test_parses_the_appendix_b_layout() -> None:
    receipt = parse_receipt(APPENDIX_B_EXAMPLE.encode("ascii"))
    assert receipt == DeliveryReceipt(
        message_id="0123456789",
        state=ReceiptState.DELIVRD,
        error_code=0,
        network_error=None,
        submitted=1,
        delivered=1,
        submit_date=datetime(2008, 9, 1, 11, 30),
        done_date=datetime(2008, 9, 1, 11, 31),
        text="Hello world",
        raw=APPENDIX_B_EXAMPLE,
        error_raw="000",
        state_raw="DELIVRD",
    )


def test_twelve_digit_dates_carry_seconds() -> None:
    receipt = parse_receipt(
        "id:77 sub:001 dlvrd:000 submit date:240229235958 done date:240301000001 stat:UNDELIV"
        " err:001 text:"
    )
    assert receipt.submit_date == datetime(2024, 2, 29, 23, 59, 58)
    assert receipt.done_date == datetime(2024, 3, 1, 0, 0, 1)
    assert receipt.state is ReceiptState.UNDELIV
    assert receipt.text == ""


def test_fourteen_digit_dates_have_a_four_digit_year() -> None:
    receipt = parse_receipt("id:1 submit date:20240102030405 stat:DELIVRD")
    assert receipt.submit_date == datetime(2024, 1, 2, 3, 4, 5)


@pytest.mark.parametrize("date_text", ["2413011200", "24010112", "abcdefghij", "2402301200"])
def test_an_invalid_date_is_none_but_the_receipt_survives(date_text: str) -> None:
    receipt = parse_receipt(f"id:1 done date:{date_text} stat:DELIVRD")
    assert receipt.done_date is None
    assert receipt.state is ReceiptState.DELIVRD


def test_hex_ids_are_kept_as_given() -> None:
    receipt = parse_receipt("id:0A1B2C3D sub:001 dlvrd:001 stat:DELIVRD err:000")
    assert receipt.message_id == "0A1B2C3D"


@pytest.mark.parametrize(
    ("err_text", "expected"),
    [("000", 0), ("001", 1), ("0A5", 0xA5), ("x1F", 0x1F), ("0x1f", 0x1F), ("123", 123)],
)
def test_err_may_be_hex_or_decimal(err_text: str, expected: int) -> None:
    receipt = parse_receipt(f"id:5 stat:UNDELIV err:{err_text}")
    assert receipt.error_code == expected
    assert receipt.error_raw == err_text


@pytest.mark.parametrize("err_text", ["N/A", "abc", "DEAD", "fail"])
def test_an_unreadable_err_is_none_with_its_raw_text_kept(err_text: str) -> None:
    # Letters alone are no number: err:abc was read as hex 2748.
    receipt = parse_receipt(f"id:5 stat:UNDELIV err:{err_text}")
    assert receipt.error_code is None
    assert receipt.error_raw == err_text


@pytest.mark.parametrize("word", ["WHATEVER", "BUFFRED", "SENT"])
def test_a_state_word_we_do_not_know_is_not_a_state(word: str) -> None:
    receipt = parse_receipt(f"id:5 stat:{word} err:000")
    assert receipt.state is ReceiptState.UNKNOWN
    assert (receipt.state_raw, receipt.state_recognised) == (word, False)


@pytest.mark.parametrize("word", ["UNKNOWN", "DELIVRD", "delivered", "UNDELIVERABLE", "rejected"])
def test_known_state_words_in_any_spelling_are_states(word: str) -> None:
    assert parse_receipt(f"id:5 stat:{word} err:000").state_recognised


def test_missing_fields_are_none() -> None:
    receipt = parse_receipt("id:abc stat:EXPIRED")
    assert receipt.state is ReceiptState.EXPIRED
    assert (receipt.submitted, receipt.delivered, receipt.error_code) == (None, None, None)
    assert (receipt.submit_date, receipt.done_date, receipt.text) == (None, None, None)


def test_field_names_in_any_case_and_with_underscores() -> None:
    receipt = parse_receipt(
        "Id:99 SUB:002 Dlvrd:002 Submit_Date:2401011200 DONE_DATE:2401011201 STAT:delivrd"
        " Err:000 Text:Hi"
    )
    assert receipt.message_id == "99"
    assert receipt.state is ReceiptState.DELIVRD
    assert (receipt.submitted, receipt.delivered) == (2, 2)
    assert receipt.submit_date == datetime(2024, 1, 1, 12, 0)
    assert receipt.done_date == datetime(2024, 1, 1, 12, 1)
    assert receipt.text == "Hi"


def test_text_keeps_spaces_and_colons_and_unknown_fields_are_kept_aside() -> None:
    receipt = parse_receipt(
        "id:1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD"
        " err:000 mccmnc:20404 price:0.05 text:Meet at 10:30 id:fake stat:REJECTD"
    )
    assert receipt.text == "Meet at 10:30 id:fake stat:REJECTD"
    assert receipt.state is ReceiptState.DELIVRD
    assert receipt.message_id == "1"
    assert receipt.extra == (("mccmnc", "20404"), ("price", "0.05"))


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("DELIVRD", ReceiptState.DELIVRD),
        ("delivered", ReceiptState.DELIVRD),
        ("UNDELIVERABLE", ReceiptState.UNDELIV),
        ("Accepted", ReceiptState.ACCEPTD),
        ("REJECTED", ReceiptState.REJECTD),
        ("enroute", ReceiptState.ENROUTE),
        ("DELETED", ReceiptState.DELETED),
        ("expired", ReceiptState.EXPIRED),
        ("UNKNOWN", ReceiptState.UNKNOWN),
        ("BOGUS", ReceiptState.UNKNOWN),
    ],
)
def test_state_words_map_to_one_state(word: str, state: ReceiptState) -> None:
    assert parse_receipt(f"id:1 stat:{word} err:000").state is state


def test_a_receipt_without_stat_is_unknown() -> None:
    assert parse_receipt("id:1 sub:001 dlvrd:000 err:000").state is ReceiptState.UNKNOWN


def test_only_enroute_and_acceptd_are_not_final() -> None:
    not_final = {state for state in ReceiptState if not state.is_final}
    assert not_final == {ReceiptState.ENROUTE, ReceiptState.ACCEPTD}


def test_typed_tlvs_take_precedence_over_the_text() -> None:
    receipt = parse_receipt(
        b"id:0000001 stat:DELIVRD err:000",
        receipted_message_id="1A2B",
        message_state=5,
        network_error_code=bytes((3, 0x00, 0x22)),
    )
    assert receipt.message_id == "1A2B"
    assert receipt.state is ReceiptState.UNDELIV
    assert receipt.network_error == (3, 0x22)
    assert receipt.error_code == 0


def test_network_error_code_fills_a_missing_err() -> None:
    receipt = parse_receipt(b"id:7 stat:UNDELIV", network_error_code=bytes((3, 0x01, 0x02)))
    assert receipt.error_code == 0x0102


def test_an_empty_text_with_tlvs_is_a_receipt() -> None:
    receipt = parse_receipt(b"", receipted_message_id="abc\x00", message_state=2)
    assert receipt.message_id == "abc"
    assert receipt.state is ReceiptState.DELIVRD


def test_an_unknown_message_state_falls_back_to_the_text() -> None:
    receipt = parse_receipt("id:1 stat:EXPIRED", message_state=42)
    assert receipt.state is ReceiptState.EXPIRED


def test_a_wrong_sized_network_error_code_is_ignored() -> None:
    receipt = parse_receipt("id:1 stat:EXPIRED", network_error_code=b"\x03\x01")
    assert receipt.network_error is None


def test_ucs2_receipt_text_is_read() -> None:
    receipt = parse_receipt("id:42 stat:DELIVRD err:000".encode("utf-16-be"))
    assert receipt.message_id == "42"
    assert receipt.state is ReceiptState.DELIVRD


def test_a_terminating_nul_is_not_part_of_the_text() -> None:
    assert parse_receipt(b"id:42 stat:DELIVRD text:hi\x00").text == "hi"


@pytest.mark.parametrize(
    "garbage",
    [b"", b"hello there", b"stat:DELIVRD err:000", b"id:123", b"\xff\xfe\x00", b"id: stat:DELIVRD"],
)
def test_garbage_is_a_receipt_parse_error(garbage: bytes) -> None:
    with pytest.raises(ReceiptParseError):
        parse_receipt(garbage)


def test_an_overlong_text_is_rejected() -> None:
    with pytest.raises(ReceiptParseError):
        parse_receipt("id:1 stat:DELIVRD text:" + "x" * 5000)


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_receipt_parse_error(data: bytes) -> None:
    try:
        receipt = parse_receipt(data)
    except ReceiptParseError:
        return
    assert receipt.message_id


@given(st.text(alphabet=st.sampled_from("id:sTATubmt dlvrerx0123456789aF _\n"), max_size=120))
def test_receipt_like_text_raises_only_receipt_parse_error(text: str) -> None:
    try:
        receipt = parse_receipt(text)
    except ReceiptParseError:
        assert not looks_like_receipt(text)
        return
    assert receipt.message_id.strip() == receipt.message_id != ""


def test_the_parse_error_belongs_to_the_package_root() -> None:
    assert issubclass(ReceiptParseError, TidingsError)


def test_looks_like_receipt() -> None:
    assert looks_like_receipt(APPENDIX_B_EXAMPLE)
    assert looks_like_receipt(b"ID:1 STAT:DELIVRD")
    assert not looks_like_receipt(b"Hello, see you at 10:30")
    assert not looks_like_receipt(b"stat:DELIVRD")
    assert not looks_like_receipt(b"\xff" * 3000)


def test_format_receipt_is_the_appendix_b_text() -> None:
    text = format_receipt(
        "0123456789",
        ReceiptState.DELIVRD,
        submit_date=datetime(2008, 9, 1, 11, 30),
        done_date=datetime(2008, 9, 1, 11, 31),
        text="Hello world",
    )
    assert text == APPENDIX_B_EXAMPLE


def test_format_receipt_cuts_text_to_twenty_characters_and_can_add_seconds() -> None:
    text = format_receipt(
        "x1",
        ReceiptState.UNDELIV,
        submit_date=datetime(2024, 1, 2, 3, 4, 5),
        done_date=datetime(2024, 1, 2, 3, 4, 6),
        error_code=34,
        text="abcdefghijklmnopqrstuvwxyz",
        seconds=True,
    )
    assert text == (
        "id:x1 sub:001 dlvrd:000 submit date:240102030405 done date:240102030406"
        " stat:UNDELIV err:034 text:abcdefghijklmnopqrst"
    )


def test_format_receipt_rejects_values_that_do_not_fit_three_digits() -> None:
    with pytest.raises(ValueError, match="error"):
        format_receipt(
            "1",
            ReceiptState.UNDELIV,
            submit_date=datetime(2024, 1, 1),
            done_date=datetime(2024, 1, 1),
            error_code=1000,
        )


@given(
    message_id=st.text(alphabet="0123456789abcdefABCDEF-", min_size=1, max_size=40),
    state=st.sampled_from(ReceiptState),
    error_code=st.integers(0, 999),
    submit_date=st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)),
    text=st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\x00"), max_size=30),
)
def test_format_then_parse_round_trips(
    message_id: str, state: ReceiptState, error_code: int, submit_date: datetime, text: str
) -> None:
    submit_date = submit_date.replace(microsecond=0)
    formatted = format_receipt(
        message_id,
        state,
        submit_date=submit_date,
        done_date=submit_date,
        error_code=error_code,
        text=text,
        seconds=True,
    )
    receipt = parse_receipt(formatted.encode("latin-1"))
    assert receipt.message_id == message_id
    assert receipt.state is state
    assert receipt.error_code == error_code
    assert receipt.done_date == submit_date
    assert receipt.text == text[:20]


@pytest.mark.parametrize("state", list(ReceiptState))
def test_message_state_round_trips(state: ReceiptState) -> None:
    value = receipt_state_to_message_state(state)
    assert 1 <= value <= 8
    assert message_state_to_receipt_state(value) is state


def test_message_state_numbers_follow_smpp_5_2_28() -> None:
    assert receipt_state_to_message_state(ReceiptState.DELIVRD) == 2
    assert receipt_state_to_message_state(ReceiptState.REJECTD) == 8
    assert message_state_to_receipt_state(0) is ReceiptState.UNKNOWN


def test_hex_and_decimal_ids_share_a_variant() -> None:
    assert set(message_id_variants("0x1A2B")) & set(message_id_variants("6699"))
    assert set(message_id_variants("1A2B")) & set(message_id_variants("6699"))
    assert "6699" in message_id_variants("1a2b")


def test_variants_start_with_the_case_folded_id_and_strip_leading_zeros() -> None:
    variants = message_id_variants(" 000ABC ")
    assert variants[0] == "000abc"
    assert "abc" in variants
    assert "2748" in variants


def test_variants_of_a_non_numeric_id_are_only_its_folded_forms() -> None:
    assert message_id_variants("Msg-XYZ") == ("msg-xyz",)


def test_variants_of_a_huge_numeric_id_are_not_converted() -> None:
    huge = "9" * 5000
    assert message_id_variants(huge) == (huge,)


def test_variants_of_zero() -> None:
    assert message_id_variants("000") == ("000", "0")


_VALUE = st.text(
    alphabet=st.characters(codec="latin-1", exclude_characters="\x00"), max_size=16
).filter(lambda value: not any(char.isspace() for char in value))


@given(
    values=st.lists(_VALUE, min_size=7, max_size=7),
    text=st.none() | st.text(alphabet=st.characters(codec="latin-1"), max_size=40),
)
def test_the_appendix_b_fast_path_reads_what_the_general_scan_reads(
    values: list[str], text: str | None
) -> None:
    # Values without whitespace in the exact Appendix B layout take the fast path; whatever they
    # hold (colons, "text:", field names), the fields must be those the general scan finds.
    names = ("id", "sub", "dlvrd", "submit date", "done date", "stat", "err")
    line = " ".join(f"{name}:{value}" for name, value in zip(names, values, strict=True))
    if text is not None:
        line += f" text:{text}"
    assert receipts._APPENDIX_B.fullmatch(line) is not None
    assert receipts._split_fields(line) == receipts._scan_fields(line)
