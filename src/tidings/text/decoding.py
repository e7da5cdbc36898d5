"""Decoding a received short_message by its SMPP data_coding.

SMPP 3.4 §5.2.19 defines data_coding 0x00 to 0x0E; above that the value is a GSM Data Coding
Scheme (3GPP TS 23.038 §4), whose coding groups say whether the text is in the GSM alphabet,
UCS-2 or 8-bit data. Text codings never raise on bad bytes: what cannot be decoded becomes
U+FFFD. Binary codings raise :class:`NotText`, since their payload is the content itself; check
:func:`is_binary_data_coding` first to branch without an exception.
"""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType
from typing import Final

from tidings.text.errors import NotText
from tidings.text.gsm import gsm_decode


class _Alphabet(Enum):
    GSM = "gsm"
    UCS2 = "ucs2"
    BINARY = "binary"
    UNKNOWN = "unknown"


# SMPP 3.4 §5.2.19 data_coding values with a Python codec; 0x00, 0x02, 0x04, 0x08 are handled
# by the alphabet rules below. 0x05 (JIS X 0208), 0x09 (pictogram) and 0x0D (JIS X 0212) have
# no faithful codec and fall back to Latin-1.
_SMPP_CODECS: Final = MappingProxyType(
    {
        0x01: "ascii",  # IA5 (CCITT T.50)
        0x03: "latin-1",  # ISO-8859-1
        0x06: "iso8859-5",  # Cyrillic
        0x07: "iso8859-8",  # Latin/Hebrew
        0x0A: "iso2022-jp",  # Music codes
        0x0E: "euc-kr",  # KS C 5601
    }
)
_GENERAL_GROUP_ALPHABETS: Final = (
    _Alphabet.GSM,
    _Alphabet.BINARY,
    _Alphabet.UCS2,
    _Alphabet.UNKNOWN,  # reserved
)


def _alphabet(data_coding: int) -> _Alphabet:
    if data_coding in (0x02, 0x04):
        return _Alphabet.BINARY
    if data_coding == 0x00:
        return _Alphabet.GSM
    if data_coding == 0x08:
        return _Alphabet.UCS2
    if data_coding <= 0x0F:
        return _Alphabet.UNKNOWN
    group = data_coding >> 4
    if group <= 0x7:
        # General data coding and automatic deletion groups (TS 23.038 §4, 00xx/01xx): bit 5 set
        # means compressed (TS 23.042), which is not text we can read.
        if data_coding & 0x20:
            return _Alphabet.BINARY
        return _GENERAL_GROUP_ALPHABETS[(data_coding >> 2) & 0x03]
    if group in (0xC, 0xD):  # message waiting indication, GSM default alphabet
        return _Alphabet.GSM
    if group == 0xE:  # message waiting indication, UCS-2
        return _Alphabet.UCS2
    if group == 0xF:  # data coding/message class: bit 2 chooses 8-bit data
        return _Alphabet.BINARY if data_coding & 0x04 else _Alphabet.GSM
    return _Alphabet.UNKNOWN  # reserved groups 1000..1011


def is_binary_data_coding(data_coding: int) -> bool:
    """Whether ``data_coding`` says the payload is binary data rather than text."""
    return _alphabet(data_coding) is _Alphabet.BINARY


def decode(payload: bytes, data_coding: int) -> str:
    """Decode a short_message payload (without its UDH) to text; never raises for text codings.

    0x00 and GSM-alphabet DCS values are unpacked GSM 7-bit (one septet per octet); 0x08 and
    UCS-2 DCS values are UTF-16BE, lone surrogates and a trailing odd byte becoming U+FFFD.
    Unknown values are decoded as Latin-1, which cannot fail. Raises :class:`NotText` for binary
    data codings (0x02, 0x04, 8-bit and compressed DCS values).
    """
    codec = _SMPP_CODECS.get(data_coding)
    if codec is not None:
        return payload.decode(codec, errors="replace")
    alphabet = _alphabet(data_coding)
    if alphabet is _Alphabet.GSM:
        return gsm_decode(payload)
    if alphabet is _Alphabet.UCS2:
        return payload.decode("utf-16-be", errors="replace")
    if alphabet is _Alphabet.BINARY:
        raise NotText(data_coding)
    return payload.decode("latin-1")
