"""SMS text: GSM 03.38 / UCS-2 encoding, exact segment planning, decoding (pure functions)."""

from __future__ import annotations

from tidings.text.decoding import decode, is_binary_data_coding
from tidings.text.errors import (
    EncodingMismatch,
    InvalidPartLimit,
    InvalidText,
    MalformedSeptets,
    NotGsmEncodable,
    NotText,
    TextError,
    TextTooLong,
    UnsplittableCluster,
)
from tidings.text.gsm import (
    GSM_BASIC_CHARACTERS,
    GSM_CHARACTERS,
    GSM_EXTENSION_CHARACTERS,
    NationalLanguage,
    fill_bits_after,
    gsm_decode,
    gsm_encode,
    is_gsm_encodable,
    pack_septets,
    unpack_septets,
)
from tidings.text.segments import (
    MAX_PARTS,
    Encoding,
    ReferenceSize,
    Segment,
    SegmentPlan,
    choose_encoding,
    part_capacity,
    plan_binary,
    plan_text,
)

__all__ = [
    "GSM_BASIC_CHARACTERS",
    "GSM_CHARACTERS",
    "GSM_EXTENSION_CHARACTERS",
    "MAX_PARTS",
    "Encoding",
    "EncodingMismatch",
    "InvalidPartLimit",
    "InvalidText",
    "MalformedSeptets",
    "NationalLanguage",
    "NotGsmEncodable",
    "NotText",
    "ReferenceSize",
    "Segment",
    "SegmentPlan",
    "TextError",
    "TextTooLong",
    "UnsplittableCluster",
    "choose_encoding",
    "decode",
    "fill_bits_after",
    "gsm_decode",
    "gsm_encode",
    "is_binary_data_coding",
    "is_gsm_encodable",
    "pack_septets",
    "part_capacity",
    "plan_binary",
    "plan_text",
    "unpack_septets",
]
