from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.text import NotText, decode, is_binary_data_coding


def test_gsm_default_alphabet_unpacked() -> None:
    assert decode(b"\x00\x01\x02 \x1be\x1b<", 0x00) == "@£$ €["


def test_ia5_ascii() -> None:
    assert decode(b"Hello", 0x01) == "Hello"
    assert decode(b"caf\xe9", 0x01) == "caf\ufffd"


def test_latin_1() -> None:
    assert decode(b"caf\xe9", 0x03) == "café"


def test_ucs2_big_endian() -> None:
    assert decode("Привет 😀".encode("utf-16-be"), 0x08) == "Привет 😀"


def test_ucs2_lone_surrogates_become_replacement_characters() -> None:
    lone_high = b"\xd8\x3d\x00A"
    assert decode(lone_high, 0x08) == "\ufffdA"
    lone_low = b"\x00A\xde\x00"
    assert decode(lone_low, 0x08) == "A\ufffd"
    assert decode(b"\x00A\x00", 0x08) == "A\ufffd"


def test_other_smpp_character_sets() -> None:
    assert decode("Жук".encode("iso8859-5"), 0x06) == "Жук"
    assert decode("שלום".encode("iso8859-8"), 0x07) == "שלום"
    assert decode("한국".encode("euc-kr"), 0x0E) == "한국"


@pytest.mark.parametrize("data_coding", [0x02, 0x04, 0xF4, 0xF5, 0x14, 0x24, 0x44])
def test_binary_codings_raise_not_text(data_coding: int) -> None:
    assert is_binary_data_coding(data_coding)
    with pytest.raises(NotText) as raised:
        decode(b"\x00\xff", data_coding)
    assert f"0x{data_coding:02X}" in str(raised.value)


@pytest.mark.parametrize(
    ("data_coding", "payload", "text"),
    [
        (0xF0, b"\x1be", "€"),  # TS 23.038 group 1111, default alphabet, class 0
        (0xF1, b"\x00", "@"),
        (0x10, b"\x00", "@"),  # general group, default alphabet with class
        (0x18, "ж".encode("utf-16-be"), "ж"),  # general group, UCS-2
        (0xC0, b"\x00", "@"),  # message waiting, discard
        (0xD8, b"\x00", "@"),  # message waiting, store
        (0xE0, "ж".encode("utf-16-be"), "ж"),  # message waiting, store, UCS-2
    ],
)
def test_gsm_data_coding_scheme_groups(data_coding: int, payload: bytes, text: str) -> None:
    assert not is_binary_data_coding(data_coding)
    assert decode(payload, data_coding) == text


@pytest.mark.parametrize("data_coding", [0x05, 0x09, 0x0B, 0x0D, 0x0F, 0x80, 0xBF, 0x1C])
def test_unknown_codings_fall_back_to_latin_1(data_coding: int) -> None:
    assert decode(b"caf\xe9", data_coding) == "café"


@given(st.binary(), st.integers(min_value=0, max_value=255))
def test_text_codings_never_raise(payload: bytes, data_coding: int) -> None:
    if is_binary_data_coding(data_coding):
        with pytest.raises(NotText):
            decode(payload, data_coding)
    else:
        assert isinstance(decode(payload, data_coding), str)
