"""Choosing an encoding and splitting a message into SMS parts, exactly.

A part carries at most 140 octets of user data (TS 23.040 §9.2.3.16/24). A concatenated part spends
part of them on its User Data Header: UDHL (1 octet) + the concatenation IE (5 octets with an
8-bit reference, IEI 0x00; 6 octets with a 16-bit one, IEI 0x08; TS 23.040 §9.2.3.24.1/.8), plus
3 octets per National Language Shift IE (IEI 0x24 single shift, 0x25 locking; §9.2.3.24.15/16).
The capacity is what is left: in septets floor(octets * 8 / 7), in UCS-2 units floor(octets / 2),
in bytes the octets themselves.

Characters that must stay together (an escape pair, a surrogate pair, a grapheme cluster such
as a letter with combining marks, an emoji ZWJ sequence, a flag or CRLF) are never split across
parts: the whole sequence moves to the next part.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from itertools import accumulate
from operator import methodcaller
from types import MappingProxyType
from typing import Final

from tidings.text.clusters import grapheme_clusters, has_joiners
from tidings.text.errors import (
    EncodingMismatch,
    InvalidPartLimit,
    InvalidText,
    NotGsmEncodable,
    TextTooLong,
    UnsplittableCluster,
)
from tidings.text.gsm import (
    DEFAULT_CHARSET,
    LOCKING_CHARACTERS,
    SHIFT_CHARACTERS,
    GsmCharset,
    NationalLanguage,
    charset_for_tables,
    first_unencodable,
)

MAX_PARTS: Final = 255  # the concatenation IE counts parts in one octet (TS 23.040 §9.2.3.24.1)
USER_DATA_OCTETS: Final = 140  # TP-UD of one SMS (TS 23.040 §9.2.3.16)
LANGUAGE_IE_OCTETS: Final = 3  # IEI, length 1, language identifier

_ESCAPE_OCTET: Final = 0x1B


class Encoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"
    BINARY = "binary"

    @property
    def data_coding(self) -> int:
        """SMPP 3.4 §5.2.19 data_coding: SMSC default alphabet, UCS-2, or 8-bit binary."""
        return _DATA_CODINGS[self]

    @property
    def unit_name(self) -> str:
        return _UNIT_NAMES[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_DATA_CODINGS: Final = MappingProxyType(
    {Encoding.GSM7: 0x00, Encoding.UCS2: 0x08, Encoding.BINARY: 0x04}
)
_UNIT_NAMES: Final = MappingProxyType(
    {
        Encoding.GSM7: "septets",
        Encoding.UCS2: "UTF-16 units",
        Encoding.BINARY: "bytes",
    }
)
_LABELS: Final = MappingProxyType(
    {Encoding.GSM7: "GSM 7-bit", Encoding.UCS2: "UCS-2", Encoding.BINARY: "binary"}
)


class ReferenceSize(IntEnum):
    """Size of the concatenation reference number in the UDH."""

    EIGHT_BIT = 8
    SIXTEEN_BIT = 16

    @property
    def ie_octets(self) -> int:
        """IEI + length + reference + total + sequence (TS 23.040 §9.2.3.24.1 and .8)."""
        return 5 if self is ReferenceSize.EIGHT_BIT else 6


@dataclass(frozen=True, slots=True)
class Segment:
    payload: bytes
    """short_message bytes for this part, without the UDH."""
    units: int
    """Septets (GSM7), UTF-16 code units (UCS2) or bytes (BINARY)."""
    text: str | None
    """The characters of this part (``None`` for binary)."""


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    encoding: Encoding
    data_coding: int
    total_units: int
    segments: tuple[Segment, ...]
    language_udh: bytes
    """National Language Shift IEs to put in every part's UDH (without UDHL); usually b""."""
    reference_size: ReferenceSize = ReferenceSize.EIGHT_BIT
    locking_shift: NationalLanguage | None = None
    single_shift: NationalLanguage | None = None

    @property
    def parts(self) -> int:
        return len(self.segments)

    @property
    def concatenated(self) -> bool:
        """Whether the parts need a concatenation IE in their UDH."""
        return len(self.segments) > 1

    @property
    def udh_octets(self) -> int:
        """Octets each part spends on its UDH, UDHL included (0 when there is none)."""
        return udh_octets(
            concatenated=self.concatenated,
            reference_size=self.reference_size,
            language_ies=len(self.language_udh) // LANGUAGE_IE_OCTETS,
        )


def udh_octets(*, concatenated: bool, reference_size: ReferenceSize, language_ies: int = 0) -> int:
    """Octets a part spends on its User Data Header, UDHL included."""
    information_elements = LANGUAGE_IE_OCTETS * language_ies
    if concatenated:
        information_elements += reference_size.ie_octets
    return 1 + information_elements if information_elements else 0


def part_capacity(
    encoding: Encoding,
    *,
    concatenated: bool,
    reference_size: ReferenceSize = ReferenceSize.EIGHT_BIT,
    language_ies: int = 0,
) -> int:
    """Units one part can carry: 160/153/152 septets, 70/67/66 UCS-2 units, 140/134/133 bytes."""
    octets = USER_DATA_OCTETS - udh_octets(
        concatenated=concatenated, reference_size=reference_size, language_ies=language_ies
    )
    if encoding is Encoding.GSM7:
        return octets * 8 // 7
    if encoding is Encoding.UCS2:
        return octets // 2
    return octets


# (single part, concatenated part) septet capacities by number of language IEs, for ranking.
_GSM_CAPACITIES_BY_IES: Final = tuple(
    (
        part_capacity(Encoding.GSM7, concatenated=False, language_ies=ies),
        part_capacity(Encoding.GSM7, concatenated=True, language_ies=ies),
    )
    for ies in range(3)
)


def _check_max_parts(max_parts: int) -> None:
    if not 1 <= max_parts <= MAX_PARTS:
        raise InvalidPartLimit(max_parts)


def _limit_capacity(
    encoding: Encoding, max_parts: int, reference_size: ReferenceSize, language_ies: int
) -> int:
    return part_capacity(
        encoding,
        concatenated=max_parts > 1,
        reference_size=reference_size,
        language_ies=language_ies,
    )


def _too_long(
    encoding: Encoding,
    units: int,
    max_parts: int,
    reference_size: ReferenceSize,
    language_ies: int = 0,
    *,
    cluster_overflow: bool = False,
) -> TextTooLong:
    return TextTooLong(
        units=units,
        unit_name=encoding.unit_name,
        encoding_name=encoding.label,
        max_parts=max_parts,
        part_capacity=_limit_capacity(encoding, max_parts, reference_size, language_ies),
        cluster_overflow=cluster_overflow,
    )


def _utf16_units(text: str) -> int:
    try:
        return len(text.encode("utf-16-le")) // 2
    except UnicodeEncodeError as error:
        raise InvalidText(error.start) from None


def _choose_charset(text: str, languages: Sequence[NationalLanguage]) -> GsmCharset | None:
    """The cheapest GSM character set for ``text`` among the enabled languages, or ``None``.

    Every pairing of an enabled locking table (or the default alphabet) with an enabled single
    shift table (or the default extension table) is considered, since the two IEs are independent
    (TS 23.040 §9.2.3.24.15/16). The choice minimises the number of parts (estimated from the
    septet count), then the number of IEs, then the septets.
    """
    if DEFAULT_CHARSET.characters.issuperset(text):
        return DEFAULT_CHARSET
    if not languages:
        return None
    distinct = set(text)
    counts: Counter[str] | None = None
    enabled = list(dict.fromkeys(language.language_id for language in languages))
    locking_ids = [0, *(table_id for table_id in enabled if table_id in LOCKING_CHARACTERS)]
    shift_ids = [0, *enabled]
    best: tuple[tuple[int, int, int], int, int] | None = None
    for locking_id in locking_ids:
        outside_locking = distinct - LOCKING_CHARACTERS[locking_id]
        for shift_id in shift_ids:
            if (locking_id, shift_id) == (0, 0) or not outside_locking <= SHIFT_CHARACTERS[
                shift_id
            ]:
                continue
            if counts is None:
                counts = Counter(text)
            septets = len(text) + sum(counts[character] for character in outside_locking)
            language_ies = (locking_id != 0) + (shift_id != 0)
            single, multi = _GSM_CAPACITIES_BY_IES[language_ies]
            parts = 1 if septets <= single else -(-septets // multi)
            rank = (parts, language_ies, septets)
            if best is None or rank < best[0]:
                best = (rank, locking_id, shift_id)
    if best is None:
        return None
    return charset_for_tables(best[1], best[2])


def choose_encoding(text: str, languages: Sequence[NationalLanguage] = ()) -> Encoding:
    """GSM7 when the text fits the GSM alphabet (with an enabled national table), else UCS2."""
    if _choose_charset(text, languages) is not None:
        return Encoding.GSM7
    return Encoding.UCS2


def _split(
    text: str,
    *,
    capacity: int,
    max_parts: int,
    encode_cluster: Callable[[str], Sized],
    octets_per_unit: int,
    too_long: Callable[[], TextTooLong],
    encoding: Encoding,
) -> list[str]:
    """Split ``text`` into parts of at most ``capacity`` units, never inside a grapheme cluster.

    ``encode_cluster`` gives an object whose length is the cluster's size in units times
    ``octets_per_unit``. The clusters are measured with C-level map/accumulate and each cut is a
    bisection, so the cost per message stays close to one regex pass over the text.
    """
    clusters = grapheme_clusters(text)
    unit_ends = list(accumulate(map(len, map(encode_cluster, clusters))))
    character_ends = list(accumulate(map(len, clusters)))
    limit = capacity * octets_per_unit
    parts: list[str] = []
    first_cluster = 0
    units_before = 0
    characters_before = 0
    while first_cluster < len(clusters):
        end_cluster = bisect_right(unit_ends, units_before + limit, lo=first_cluster)
        if end_cluster == first_cluster:
            raise UnsplittableCluster(
                index=characters_before,
                units=(unit_ends[first_cluster] - units_before) // octets_per_unit,
                unit_name=encoding.unit_name,
                part_capacity=capacity,
            )
        if len(parts) == max_parts:
            raise too_long()
        characters_end = character_ends[end_cluster - 1]
        parts.append(text[characters_before:characters_end])
        characters_before = characters_end
        units_before = unit_ends[end_cluster - 1]
        first_cluster = end_cluster
    return parts


def _split_encoded(
    payload: bytes,
    *,
    capacity: int,
    octets_per_unit: int,
    max_parts: int,
    too_long: Callable[[], TextTooLong],
) -> list[bytes]:
    """Split an encoded payload whose only multi-unit sequences are escape pairs, surrogate
    pairs and CRLF: cut at the capacity, or one unit earlier when the cut would split one.

    An ESC octet always starts a pair (no single shift table assigns 0x1B or 0x0D as a code), and
    a high surrogate always starts one (lone surrogates are rejected before), so looking at the
    unit before the cut is enough; one step back always lands on a boundary.
    """
    step = capacity * octets_per_unit
    total = len(payload)
    pieces: list[bytes] = []
    start = 0
    while start < total:
        end = start + step
        if end < total:
            if octets_per_unit == 1:
                if payload[end - 1] == _ESCAPE_OCTET or payload[end - 1 : end + 1] == b"\r\n":
                    end -= 1
            elif 0xD8 <= payload[end - 2] <= 0xDB or payload[end - 2 : end + 2] == b"\0\r\0\n":
                end -= 2
        if len(pieces) == max_parts:
            raise too_long()
        pieces.append(payload[start:end])
        start = end
    return pieces


def _language_udh(charset: GsmCharset) -> bytes:
    udh = b""
    if charset.single_shift is not None:
        udh += bytes((0x24, 0x01, charset.single_shift.language_id))
    if charset.locking is not None:
        udh += bytes((0x25, 0x01, charset.locking.language_id))
    return udh


def _plan_gsm(
    text: str, charset: GsmCharset, reference_size: ReferenceSize, max_parts: int
) -> SegmentPlan:
    encode_table = charset.encode_table
    # The charset was chosen to cover the text, so every character maps below 0x80.
    payload = text.translate(encode_table).encode("latin-1")
    total = len(payload)
    language_udh = _language_udh(charset)
    language_ies = len(language_udh) // LANGUAGE_IE_OCTETS
    encoding = Encoding.GSM7

    def too_long(*, cluster_overflow: bool = False) -> TextTooLong:
        return _too_long(
            encoding,
            total,
            max_parts,
            reference_size,
            language_ies,
            cluster_overflow=cluster_overflow,
        )

    single = part_capacity(encoding, concatenated=False, language_ies=language_ies)
    if total <= single:
        segments: tuple[Segment, ...] = (Segment(payload=payload, units=total, text=text),)
    else:
        capacity = part_capacity(
            encoding, concatenated=True, reference_size=reference_size, language_ies=language_ies
        )
        if max_parts == 1 or total > max_parts * capacity:
            raise too_long()
        if charset.simple_clusters or not has_joiners(text):
            segments = _gsm_segments_from_payload(
                text,
                _split_encoded(
                    payload,
                    capacity=capacity,
                    octets_per_unit=1,
                    max_parts=max_parts,
                    too_long=lambda: too_long(cluster_overflow=True),
                ),
            )
        else:
            pieces = _split(
                text,
                capacity=capacity,
                max_parts=max_parts,
                encode_cluster=methodcaller("translate", encode_table),
                octets_per_unit=1,
                too_long=lambda: too_long(cluster_overflow=True),
                encoding=encoding,
            )
            segments = tuple(_gsm_segment(piece, encode_table) for piece in pieces)
    return SegmentPlan(
        encoding=encoding,
        data_coding=encoding.data_coding,
        total_units=total,
        segments=segments,
        language_udh=language_udh,
        reference_size=reference_size,
        locking_shift=charset.locking,
        single_shift=charset.single_shift,
    )


def _gsm_segments_from_payload(text: str, pieces: list[bytes]) -> tuple[Segment, ...]:
    segments = []
    start = 0
    for piece in pieces:
        # Each character is one septet, or two when it is an escape pair.
        end = start + len(piece) - piece.count(_ESCAPE_OCTET)
        segments.append(Segment(payload=piece, units=len(piece), text=text[start:end]))
        start = end
    return tuple(segments)


def _gsm_segment(piece: str, encode_table: Mapping[int, str]) -> Segment:
    payload = piece.translate(encode_table).encode("latin-1")
    return Segment(payload=payload, units=len(payload), text=piece)


def _plan_ucs2(text: str, reference_size: ReferenceSize, max_parts: int) -> SegmentPlan:
    encoding = Encoding.UCS2
    total = _utf16_units(text)

    def too_long(*, cluster_overflow: bool = False) -> TextTooLong:
        return _too_long(
            encoding, total, max_parts, reference_size, cluster_overflow=cluster_overflow
        )

    if total <= part_capacity(encoding, concatenated=False):
        segments = [Segment(payload=text.encode("utf-16-be"), units=total, text=text)]
    else:
        capacity = part_capacity(encoding, concatenated=True, reference_size=reference_size)
        if max_parts == 1 or total > max_parts * capacity:
            raise too_long()
        if has_joiners(text):
            pieces = _split(
                text,
                capacity=capacity,
                max_parts=max_parts,
                encode_cluster=methodcaller("encode", "utf-16-le"),
                octets_per_unit=2,
                too_long=lambda: too_long(cluster_overflow=True),
                encoding=encoding,
            )
            encoded = [piece.encode("utf-16-be") for piece in pieces]
        else:
            encoded = _split_encoded(
                text.encode("utf-16-be"),
                capacity=capacity,
                octets_per_unit=2,
                max_parts=max_parts,
                too_long=lambda: too_long(cluster_overflow=True),
            )
            pieces = [payload.decode("utf-16-be") for payload in encoded]
        segments = [
            Segment(payload=payload, units=len(payload) // 2, text=piece)
            for payload, piece in zip(encoded, pieces, strict=True)
        ]
    return SegmentPlan(
        encoding=encoding,
        data_coding=encoding.data_coding,
        total_units=total,
        segments=tuple(segments),
        language_udh=b"",
        reference_size=reference_size,
    )


def plan_text(
    text: str,
    *,
    encoding: Encoding | None = None,
    reference_size: ReferenceSize = ReferenceSize.EIGHT_BIT,
    max_parts: int = MAX_PARTS,
    languages: Sequence[NationalLanguage] = (),
) -> SegmentPlan:
    """Plan how ``text`` is sent: encoding, parts, and each part's short_message payload.

    ``encoding=None`` picks GSM7 when the text fits the GSM alphabet (the default one, or one
    extended by the national ``languages`` enabled for the route), else UCS2. ``encoding=GSM7``
    raises :class:`NotGsmEncodable` for text outside it; ``encoding=UCS2`` forces UCS-2.
    Raises :class:`TextTooLong` beyond ``max_parts`` (1 to 255), :class:`InvalidText` for a lone
    surrogate and :class:`UnsplittableCluster` for a cluster longer than one part.
    """
    _check_max_parts(max_parts)
    if encoding is Encoding.BINARY:
        raise EncodingMismatch("binary messages are planned from bytes: use plan_binary()")
    if encoding is not Encoding.UCS2:
        charset = _choose_charset(text, languages)
        if charset is not None:
            return _plan_gsm(text, charset, reference_size, max_parts)
        if encoding is Encoding.GSM7:
            bad_index = first_unencodable(text, _all_characters(languages))
            if bad_index is None:  # each character fits some table, but no single pairing does
                bad_index = first_unencodable(text) or 0
            raise NotGsmEncodable(text[bad_index], bad_index)
    return _plan_ucs2(text, reference_size, max_parts)


def _all_characters(languages: Sequence[NationalLanguage]) -> frozenset[str]:
    characters = DEFAULT_CHARSET.characters
    for language in languages:
        characters = characters.union(
            LOCKING_CHARACTERS.get(language.language_id, frozenset()),
            SHIFT_CHARACTERS[language.language_id],
        )
    return characters


def plan_binary(
    data: bytes,
    *,
    reference_size: ReferenceSize = ReferenceSize.EIGHT_BIT,
    max_parts: int = MAX_PARTS,
) -> SegmentPlan:
    """Plan 8-bit binary data (data_coding 0x04): 140 bytes in one part, 134 or 133 per part."""
    _check_max_parts(max_parts)
    encoding = Encoding.BINARY
    total = len(data)
    if total <= part_capacity(encoding, concatenated=False):
        chunks = [data]
    else:
        capacity = part_capacity(encoding, concatenated=True, reference_size=reference_size)
        if max_parts == 1 or total > max_parts * capacity:
            raise _too_long(encoding, total, max_parts, reference_size)
        chunks = [data[start : start + capacity] for start in range(0, total, capacity)]
    return SegmentPlan(
        encoding=encoding,
        data_coding=encoding.data_coding,
        total_units=total,
        segments=tuple(
            Segment(payload=bytes(chunk), units=len(chunk), text=None) for chunk in chunks
        ),
        language_udh=b"",
        reference_size=reference_size,
    )
