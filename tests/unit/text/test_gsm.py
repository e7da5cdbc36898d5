from __future__ import annotations

import codecs

import gsmcodecs  # registers the gsm23.038 codecs
import pytest
from gsmcodecs.charmaps import GSMCHARMAPS
from hypothesis import given
from hypothesis import strategies as st

from tidings.text import (
    GSM_BASIC_CHARACTERS,
    GSM_CHARACTERS,
    GSM_EXTENSION_CHARACTERS,
    MalformedSeptets,
    NationalLanguage,
    NotGsmEncodable,
    TextError,
    fill_bits_after,
    gsm_decode,
    gsm_encode,
    pack_septets,
    unpack_septets,
)
from tidings.text._tables import LOCKING_SHIFT_TABLES, SINGLE_SHIFT_TABLES, UNASSIGNED
from tidings.text.gsm import gsm_charset

assert gsmcodecs  # imported for its codec registration

# TS 23.038 §6.2.1 default alphabet positions.
DEFAULT_VECTORS = [
    ("@", 0x00),
    ("£", 0x01),
    ("$", 0x02),
    ("¥", 0x03),
    ("è", 0x04),
    ("\n", 0x0A),
    ("\r", 0x0D),
    ("Ç", 0x09),
    ("Ø", 0x0B),
    ("Å", 0x0E),
    ("Δ", 0x10),
    ("_", 0x11),
    ("Φ", 0x12),
    ("Æ", 0x1C),
    ("ß", 0x1E),
    ("É", 0x1F),
    (" ", 0x20),
    ("¤", 0x24),
    ("¡", 0x40),
    ("A", 0x41),
    ("Ä", 0x5B),
    ("Ö", 0x5C),
    ("Ñ", 0x5D),
    ("Ü", 0x5E),
    ("§", 0x5F),
    ("¿", 0x60),
    ("a", 0x61),
    ("ä", 0x7B),
    ("ü", 0x7E),
    ("à", 0x7F),
]

# TS 23.038 §6.2.1.1 extension table: ESC (0x1B) then the code.
EXTENSION_VECTORS = [
    ("\x0c", 0x0A),
    ("^", 0x14),
    ("{", 0x28),
    ("}", 0x29),
    ("\\", 0x2F),
    ("[", 0x3C),
    ("~", 0x3D),
    ("]", 0x3E),
    ("|", 0x40),
    ("€", 0x65),
]

LANGUAGE_IDS = {
    NationalLanguage.TURKISH: 1,
    NationalLanguage.SPANISH: 2,
    NationalLanguage.PORTUGUESE: 3,
    NationalLanguage.BENGALI: 4,
    NationalLanguage.GUJARATI: 5,
    NationalLanguage.HINDI: 6,
    NationalLanguage.KANNADA: 7,
    NationalLanguage.MALAYALAM: 8,
    NationalLanguage.ORIYA: 9,
    NationalLanguage.PUNJABI: 10,
    NationalLanguage.TAMIL: 11,
    NationalLanguage.TELUGU: 12,
    NationalLanguage.URDU: 13,
}


@pytest.mark.parametrize(("character", "code"), DEFAULT_VECTORS)
def test_default_alphabet_positions(character: str, code: int) -> None:
    assert gsm_encode(character) == bytes([code])
    assert gsm_decode(bytes([code])) == character
    assert character in GSM_BASIC_CHARACTERS


@pytest.mark.parametrize(("character", "code"), EXTENSION_VECTORS)
def test_extension_characters_are_escape_pairs(character: str, code: int) -> None:
    assert gsm_encode(character) == bytes([0x1B, code])
    assert gsm_decode(bytes([0x1B, code])) == character
    assert character in GSM_EXTENSION_CHARACTERS


def test_extension_table_is_exactly_the_spec_list() -> None:
    assert {character for character, _ in EXTENSION_VECTORS} == GSM_EXTENSION_CHARACTERS


@pytest.mark.parametrize("character", ["`", "ç", "á", "Ğ", "\t", "\x00", "😀", "\u0301"])
def test_characters_outside_the_alphabet_are_rejected(character: str) -> None:
    with pytest.raises(NotGsmEncodable) as raised:
        gsm_encode("ok " + character)
    assert raised.value.index == 3
    assert f"U+{ord(character[0]):04X}" in str(raised.value)
    assert isinstance(raised.value, TextError)


def test_cedilla_capital_is_gsm_but_small_is_not() -> None:
    assert "Ç" in GSM_CHARACTERS
    assert "ç" not in GSM_CHARACTERS


def test_default_alphabet_matches_gsmcodecs() -> None:
    every_character = "".join(sorted(GSM_CHARACTERS))
    assert gsm_encode(every_character) == every_character.encode("gsm23.038")
    assert len(GSM_BASIC_CHARACTERS) == 127  # 128 codes minus ESC


def test_decoding_is_tolerant() -> None:
    # An unknown extension code falls back to the default table (TS 23.038 §6.2.1.1).
    assert gsm_decode(b"\x1bA") == "A"
    assert gsm_decode(b"\x1b\x1bA") == " A"
    assert gsm_decode(b"A\x1b") == "A "
    assert gsm_decode(b"A\x80\xff") == "A\ufffd\ufffd"
    assert gsm_decode(b"\x1b\x80") == "\ufffd"
    assert gsm_decode(b"") == ""


@given(st.text(alphabet=sorted(GSM_CHARACTERS)))
def test_gsm_round_trip(text: str) -> None:
    encoded = gsm_encode(text)
    assert all(octet < 0x80 for octet in encoded)
    assert gsm_decode(encoded) == text
    assert len(encoded) == len(text) + sum(c in GSM_EXTENSION_CHARACTERS for c in text)


@given(st.binary())
def test_gsm_decode_never_raises(data: bytes) -> None:
    assert isinstance(gsm_decode(data, locking=NationalLanguage.URDU), str)


# --- national language tables (TS 23.038 Annex A) compared with gsmcodecs, entry by entry ---


def test_language_identifiers() -> None:
    assert {language: language.language_id for language in NationalLanguage} == LANGUAGE_IDS
    assert not NationalLanguage.SPANISH.has_locking_shift
    assert NationalLanguage.TURKISH.has_locking_shift


@pytest.mark.parametrize("table_id", sorted(GSMCHARMAPS))
def test_locking_tables_equal_gsmcodecs(table_id: int) -> None:
    reference = GSMCHARMAPS[table_id].get("locking")
    if reference is None:
        assert table_id not in LOCKING_SHIFT_TABLES
        return
    table = LOCKING_SHIFT_TABLES[table_id]
    assert len(table) == 128
    for code in range(128):
        expected = reference["decode"].get(code)
        # 0x1B is the escape to the single shift table, not a character.
        if code == 0x1B or expected is None:
            assert table[code] == UNASSIGNED
        else:
            assert table[code] == chr(expected), hex(code)
    for codepoint, code in reference["encode"].items():
        assert table.index(chr(codepoint)) == code


@pytest.mark.parametrize("table_id", sorted(GSMCHARMAPS))
def test_single_shift_tables_equal_gsmcodecs(table_id: int) -> None:
    reference = GSMCHARMAPS[table_id]["singleShift"]
    table = SINGLE_SHIFT_TABLES[table_id]
    expected = {code: chr(cp) for code, cp in reference["decode"].items() if code != 0x1B}
    assert dict(table) == expected
    charset = gsm_charset(single_shift=_language(table_id))
    for codepoint in reference["encode"]:
        character = chr(codepoint)
        if character in charset.single_septet_characters:
            continue  # the locking table holds it in one septet
        encoded = charset.encode_table[codepoint]
        assert encoded[0] == "\x1b"
        # Duplicated entries (e.g. "*" in the Indian tables) may pick another code; both decode
        # to the same character.
        assert reference["decode"][ord(encoded[1])] == codepoint


@pytest.mark.parametrize("locking", [None, *NationalLanguage])
@pytest.mark.parametrize("single_shift", [None, *NationalLanguage])
def test_encoding_with_language_tables_matches_gsmcodecs(
    locking: NationalLanguage | None, single_shift: NationalLanguage | None
) -> None:
    charset = gsm_charset(locking, single_shift)
    locking_id = locking.language_id if locking and locking.has_locking_shift else 0
    shift_id = single_shift.language_id if single_shift else 0
    codec = codecs.lookup(f"gsm23.038_{locking_id}_{shift_id}")
    # Characters that the reference encodes with a unique code must match byte for byte.
    text = "".join(
        sorted(c for c in charset.characters if _unique_in_reference(c, locking_id, shift_id))
    )
    encoded = gsm_encode(text, locking=locking, single_shift=single_shift)
    assert encoded == codec.encode(text)[0]
    assert codec.decode(encoded)[0] == text
    assert gsm_decode(encoded, locking=locking, single_shift=single_shift) == text
    # Every character, duplicates included, decodes back through the reference codec.
    everything = "".join(sorted(charset.characters))
    encoded_all = gsm_encode(everything, locking=locking, single_shift=single_shift)
    assert codec.decode(encoded_all)[0] == everything


def _language(table_id: int) -> NationalLanguage | None:
    return next((lang for lang, i in LANGUAGE_IDS.items() if i == table_id), None)


def _unique_in_reference(character: str, locking_id: int, shift_id: int) -> bool:
    locking = GSMCHARMAPS[locking_id]["locking"]["decode"]
    if ord(character) in locking.values():
        return list(locking.values()).count(ord(character)) == 1
    shift = GSMCHARMAPS[shift_id]["singleShift"]["decode"]
    return list(shift.values()).count(ord(character)) == 1


# --- septet packing (TS 23.038 §6.1.2.1) ---


def test_pack_known_vector() -> None:
    # The worked example of TS 23.038 §6.1.2.1.1 style: "hellohello".
    assert pack_septets(gsm_encode("hellohello")).hex().upper() == "E8329BFD4697D9EC37"
    assert unpack_septets(bytes.fromhex("E8329BFD4697D9EC37"), 10) == gsm_encode("hellohello")


def test_pack_with_fill_bits_after_udh() -> None:
    # A 6-octet concatenation UDH is 48 bits: 1 fill bit brings the text to bit 49 = 7 * 7.
    assert fill_bits_after(6) == 1
    assert fill_bits_after(7) == 0
    assert fill_bits_after(0) == 0
    assert fill_bits_after(5) == 2
    packed = pack_septets(b"\x41", fill_bits=1)
    assert packed == bytes([0x41 << 1])
    assert pack_septets(b"\x7f\x7f", fill_bits=6) == bytes([0xC0, 0xFF, 0x0F])


@given(
    st.binary().map(lambda data: bytes(octet & 0x7F for octet in data)),
    st.integers(min_value=0, max_value=6),
)
def test_pack_unpack_round_trip(septets: bytes, fill_bits: int) -> None:
    packed = pack_septets(septets, fill_bits)
    assert len(packed) == (fill_bits + 7 * len(septets) + 7) // 8
    as_number = int.from_bytes(packed, "little")
    assert as_number == int.from_bytes(pack_septets(septets), "little") << fill_bits
    assert as_number & ((1 << fill_bits) - 1) == 0
    assert unpack_septets(packed, len(septets), fill_bits) == septets


def test_pack_rejects_bad_input() -> None:
    with pytest.raises(MalformedSeptets):
        pack_septets(b"\x80")
    with pytest.raises(MalformedSeptets):
        pack_septets(b"A", fill_bits=7)
    with pytest.raises(MalformedSeptets):
        unpack_septets(b"\x00", 2)
    with pytest.raises(MalformedSeptets):
        unpack_septets(b"\x00", -1)
    with pytest.raises(MalformedSeptets):
        unpack_septets(b"\x00" * 7, 8, fill_bits=1)
    assert unpack_septets(b"\x00" * 7, 8) == b"\x00" * 8
