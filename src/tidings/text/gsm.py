"""GSM 03.38 / 3GPP TS 23.038 7-bit alphabet: encoding, decoding and septet packing.

Encoded text here is *unpacked*: one septet per octet, an extension character as ESC (0x1B)
followed by its code. That is what SMPP carries in short_message for data_coding 0x00 (SMPP 3.4
§5.2.19); :func:`pack_septets` gives the packed form used on the air interface (TS 23.038 §6.1.2.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from tidings.text._tables import LOCKING_SHIFT_TABLES, SINGLE_SHIFT_TABLES, UNASSIGNED
from tidings.text.clusters import has_joiners
from tidings.text.errors import MalformedSeptets, NotGsmEncodable

ESCAPE: Final = 0x1B
REPLACEMENT_CHARACTER: Final = "\ufffd"
# TS 23.038 §6.2.1.1: ESC followed by ESC is reserved for a further extension table and is shown
# as a space until one is defined; an ESC with nothing after it is shown the same way.
_ESCAPED_ESCAPE: Final = " "


class NationalLanguage(StrEnum):
    """National language shift tables of TS 23.038 Annex A (values are route settings)."""

    TURKISH = "turkish"
    SPANISH = "spanish"
    PORTUGUESE = "portuguese"
    BENGALI = "bengali"
    GUJARATI = "gujarati"
    HINDI = "hindi"
    KANNADA = "kannada"
    MALAYALAM = "malayalam"
    ORIYA = "oriya"
    PUNJABI = "punjabi"
    TAMIL = "tamil"
    TELUGU = "telugu"
    URDU = "urdu"

    @property
    def language_id(self) -> int:
        """The identifier carried in the National Language Shift IEs (TS 23.038 §6.2.1.2.4)."""
        return _LANGUAGE_IDS[self]

    @property
    def has_locking_shift(self) -> bool:
        """Whether Annex A.3 defines a locking shift table (Spanish has only a single shift)."""
        return self.language_id in LOCKING_SHIFT_TABLES


_LANGUAGE_IDS: Final[Mapping[NationalLanguage, int]] = MappingProxyType(
    {language: index for index, language in enumerate(NationalLanguage, start=1)}
)


@dataclass(frozen=True, slots=True)
class GsmCharset:
    """One locking shift table combined with one single shift table.

    ``locking`` and ``single_shift`` are ``None`` for the default alphabet and its extension table.
    """

    locking: NationalLanguage | None
    single_shift: NationalLanguage | None
    # ord(character) -> unpacked septets (one character, or ESC + code), for str.translate.
    encode_table: Mapping[int, str]
    # ord(septet) -> character for the locking table, for str.translate over latin-1 text.
    decode_table: Mapping[int, str]
    shift_decode: Mapping[int, str]
    single_septet_characters: frozenset[str]
    double_septet_characters: frozenset[str]
    characters: frozenset[str]
    simple_clusters: bool
    """No character of this set can join a neighbour into a grapheme cluster (CRLF aside)."""


def _locking_encode(table: str) -> Mapping[int, str]:
    return MappingProxyType(
        {
            ord(character): chr(code)
            for code, character in enumerate(table)
            if character != UNASSIGNED
        }
    )


def _locking_decode(table: str) -> Mapping[int, str]:
    decode_table = {
        code: REPLACEMENT_CHARACTER if character == UNASSIGNED else character
        for code, character in enumerate(table)
    }
    decode_table.update((code, REPLACEMENT_CHARACTER) for code in range(0x80, 0x100))
    return MappingProxyType(decode_table)


def _shift_encode(table: Mapping[int, str]) -> Mapping[int, str]:
    encoded: dict[int, str] = {}
    # Some Annex A.2 tables list a character twice; the lowest code is used, both decode alike.
    for code in sorted(table, reverse=True):
        encoded[ord(table[code])] = chr(ESCAPE) + chr(code)
    return MappingProxyType(encoded)


# Per-table lookups, built once; a charset combines one locking and one single shift table.
_LOCKING_ENCODE: Final = MappingProxyType(
    {table_id: _locking_encode(table) for table_id, table in LOCKING_SHIFT_TABLES.items()}
)
_LOCKING_DECODE: Final = MappingProxyType(
    {table_id: _locking_decode(table) for table_id, table in LOCKING_SHIFT_TABLES.items()}
)
LOCKING_CHARACTERS: Final[Mapping[int, frozenset[str]]] = MappingProxyType(
    {
        table_id: frozenset(map(chr, encode_table))
        for table_id, encode_table in _LOCKING_ENCODE.items()
    }
)
_SHIFT_ENCODE: Final = MappingProxyType(
    {table_id: _shift_encode(table) for table_id, table in SINGLE_SHIFT_TABLES.items()}
)
SHIFT_CHARACTERS: Final[Mapping[int, frozenset[str]]] = MappingProxyType(
    {table_id: frozenset(table.values()) for table_id, table in SINGLE_SHIFT_TABLES.items()}
)

# Whether a table's characters can never join into multi-character grapheme clusters (only the
# Indian scripts' vowel signs and viramas do); splitting such text needs no cluster scan.
_SIMPLE_LOCKING: Final = MappingProxyType(
    {table_id: not has_joiners("".join(chars)) for table_id, chars in LOCKING_CHARACTERS.items()}
)
_SIMPLE_SHIFT: Final = MappingProxyType(
    {table_id: not has_joiners("".join(chars)) for table_id, chars in SHIFT_CHARACTERS.items()}
)


def _language_for(table_id: int) -> NationalLanguage | None:
    if table_id == 0:
        return None
    return next(language for language in NationalLanguage if language.language_id == table_id)


def _build_charset(locking_id: int, shift_id: int) -> GsmCharset:
    # The locking table wins where both tables hold a character: one septet instead of two.
    encode_table = {**_SHIFT_ENCODE[shift_id], **_LOCKING_ENCODE[locking_id]}
    single = LOCKING_CHARACTERS[locking_id]
    double = SHIFT_CHARACTERS[shift_id] - single
    return GsmCharset(
        locking=_language_for(locking_id),
        single_shift=_language_for(shift_id),
        encode_table=MappingProxyType(encode_table),
        decode_table=_LOCKING_DECODE[locking_id],
        shift_decode=SINGLE_SHIFT_TABLES[shift_id],
        single_septet_characters=single,
        double_septet_characters=double,
        characters=single | double,
        simple_clusters=_SIMPLE_LOCKING[locking_id] and _SIMPLE_SHIFT[shift_id],
    )


DEFAULT_CHARSET: Final = _build_charset(0, 0)
# Characters of the default alphabet, and of the alphabet plus its extension table.
GSM_BASIC_CHARACTERS: Final = DEFAULT_CHARSET.single_septet_characters
GSM_EXTENSION_CHARACTERS: Final = DEFAULT_CHARSET.double_septet_characters
GSM_CHARACTERS: Final = DEFAULT_CHARSET.characters


def gsm_charset(
    locking: NationalLanguage | None = None, single_shift: NationalLanguage | None = None
) -> GsmCharset:
    """The character set for a locking/single shift pair (``None`` = default tables).

    A language without a locking shift table (Spanish) uses the default alphabet as its locking
    table, as TS 23.038 Annex A.3 specifies.
    """
    locking_id = locking.language_id if locking is not None else 0
    if locking_id not in LOCKING_SHIFT_TABLES:
        locking_id = 0
    shift_id = single_shift.language_id if single_shift is not None else 0
    return charset_for_tables(locking_id, shift_id)


def charset_for_tables(locking_id: int, shift_id: int) -> GsmCharset:
    """The character set for table identifiers (0 = default; ``locking_id`` must have a table)."""
    if locking_id == 0 and shift_id == 0:
        return DEFAULT_CHARSET
    return _build_charset(locking_id, shift_id)


def first_unencodable(text: str, characters: frozenset[str] = GSM_CHARACTERS) -> int | None:
    """Index of the first character of ``text`` outside ``characters``, or ``None``."""
    if characters.issuperset(text):
        return None
    return next(index for index, character in enumerate(text) if character not in characters)


def is_gsm_encodable(text: str, charset: GsmCharset = DEFAULT_CHARSET) -> bool:
    """Whether every character of ``text`` is in ``charset``."""
    return charset.characters.issuperset(text)


def gsm_encode(
    text: str,
    *,
    locking: NationalLanguage | None = None,
    single_shift: NationalLanguage | None = None,
) -> bytes:
    """Encode ``text`` as unpacked septets; raises :class:`NotGsmEncodable` for other characters."""
    charset = gsm_charset(locking, single_shift)
    return encode_with(text, charset)


def encode_with(text: str, charset: GsmCharset) -> bytes:
    """Encode ``text`` as unpacked septets with an already chosen ``charset``."""
    bad_index = first_unencodable(text, charset.characters)
    if bad_index is not None:
        raise NotGsmEncodable(text[bad_index], bad_index)
    # Every character now maps to code points below 0x80, so latin-1 gives exactly the septets.
    return text.translate(charset.encode_table).encode("latin-1")


def gsm_decode(
    data: bytes,
    *,
    locking: NationalLanguage | None = None,
    single_shift: NationalLanguage | None = None,
) -> str:
    """Decode unpacked septets; never raises.

    An octet above 0x7F or an unassigned code becomes U+FFFD. ESC followed by a code the single
    shift table lacks gives the locking table's character for that code (TS 23.038 §6.2.1.1).
    """
    return decode_with(data, gsm_charset(locking, single_shift))


def decode_with(data: bytes, charset: GsmCharset) -> str:
    """Decode unpacked septets with an already chosen ``charset``; never raises."""
    if ESCAPE not in data:
        return data.decode("latin-1").translate(charset.decode_table)
    decode_table = charset.decode_table
    shift_decode = charset.shift_decode
    characters: list[str] = []
    escaped = False
    for octet in data:
        if escaped:
            escaped = False
            if octet == ESCAPE:
                characters.append(_ESCAPED_ESCAPE)
            else:
                characters.append(shift_decode.get(octet) or decode_table[octet])
        elif octet == ESCAPE:
            escaped = True
        else:
            characters.append(decode_table[octet])
    if escaped:
        characters.append(_ESCAPED_ESCAPE)
    return "".join(characters)


def _check_fill_bits(fill_bits: int) -> None:
    if not 0 <= fill_bits <= 6:
        raise MalformedSeptets(f"fill_bits is {fill_bits}; it must be between 0 and 6")


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets into octets, least significant bit first (TS 23.038 §6.1.2.1.1).

    ``fill_bits`` zero bits come first so that the septets start on a septet boundary after a
    User Data Header (TS 23.040 §9.2.3.24: fill bits = (7 - (UDH octets * 8) % 7) % 7).
    """
    _check_fill_bits(fill_bits)
    packed = bytearray()
    accumulator = 0
    bit_count = fill_bits
    for index, septet in enumerate(septets):
        if septet > 0x7F:
            raise MalformedSeptets(f"value 0x{septet:02X} at index {index} is not a septet")
        accumulator |= septet << bit_count
        bit_count += 7
        while bit_count >= 8:
            packed.append(accumulator & 0xFF)
            accumulator >>= 8
            bit_count -= 8
    if bit_count:
        packed.append(accumulator)
    return bytes(packed)


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """Unpack ``count`` septets from packed ``data``, skipping ``fill_bits`` leading bits."""
    _check_fill_bits(fill_bits)
    if count < 0:
        raise MalformedSeptets(f"septet count is {count}; it cannot be negative")
    if fill_bits + 7 * count > 8 * len(data):
        raise MalformedSeptets(
            f"{len(data)} octets cannot hold {count} septets after {fill_bits} fill bits"
        )
    septets = bytearray()
    accumulator = 0
    bit_count = -fill_bits
    octets = iter(data)
    while len(septets) < count:
        while bit_count < 7:
            octet = next(octets)
            if bit_count < 0:
                octet >>= -bit_count
                accumulator |= octet
                bit_count += 8
            else:
                accumulator |= octet << bit_count
                bit_count += 8
        septets.append(accumulator & 0x7F)
        accumulator >>= 7
        bit_count -= 7
    return bytes(septets)


def fill_bits_after(udh_octets: int) -> int:
    """Fill bits that align 7-bit text after a UDH of ``udh_octets`` (TS 23.040 §9.2.3.24)."""
    return (7 - (udh_octets * 8) % 7) % 7
