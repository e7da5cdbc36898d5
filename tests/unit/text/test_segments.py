from __future__ import annotations

from itertools import accumulate
from operator import methodcaller

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.errors import TidingsError
from tidings.text import (
    GSM_CHARACTERS,
    Encoding,
    EncodingMismatch,
    InvalidPartLimit,
    InvalidText,
    NationalLanguage,
    NotGsmEncodable,
    ReferenceSize,
    SegmentPlan,
    TextTooLong,
    UnsplittableCluster,
    choose_encoding,
    decode,
    gsm_decode,
    is_gsm_encodable,
    part_capacity,
    plan_binary,
    plan_text,
)
from tidings.text._tables import SINGLE_SHIFT_TABLES
from tidings.text.clusters import grapheme_clusters, has_joiners
from tidings.text.gsm import DEFAULT_CHARSET
from tidings.text.segments import _split

EIGHT = ReferenceSize.EIGHT_BIT
SIXTEEN = ReferenceSize.SIXTEEN_BIT


def _units(plan: SegmentPlan) -> list[int]:
    return [segment.units for segment in plan.segments]


@pytest.mark.parametrize(
    ("encoding", "single", "eight_bit", "sixteen_bit"),
    [(Encoding.GSM7, 160, 153, 152), (Encoding.UCS2, 70, 67, 66), (Encoding.BINARY, 140, 134, 133)],
)
def test_part_capacities(encoding: Encoding, single: int, eight_bit: int, sixteen_bit: int) -> None:
    assert part_capacity(encoding, concatenated=False) == single
    assert part_capacity(encoding, concatenated=True, reference_size=EIGHT) == eight_bit
    assert part_capacity(encoding, concatenated=True, reference_size=SIXTEEN) == sixteen_bit


def test_language_ies_reduce_capacity() -> None:
    # UDHL + 3 = 4 octets: floor(136 * 8 / 7) = 155; with concatenation 9 octets: 149.
    assert part_capacity(Encoding.GSM7, concatenated=False, language_ies=1) == 155
    assert part_capacity(Encoding.GSM7, concatenated=True, language_ies=1) == 149
    assert part_capacity(Encoding.GSM7, concatenated=True, language_ies=2) == 146
    assert part_capacity(Encoding.GSM7, concatenated=False, language_ies=2) == 152


def test_160_gsm_characters_fit_one_part() -> None:
    plan = plan_text("a" * 160)
    assert (plan.encoding, plan.data_coding, plan.parts, plan.total_units) == (
        Encoding.GSM7,
        0,
        1,
        160,
    )
    assert plan.segments[0].payload == b"a" * 160
    assert plan.language_udh == b""
    assert plan.udh_octets == 0


def test_161_gsm_characters_need_two_parts() -> None:
    plan = plan_text("a" * 161)
    assert _units(plan) == [153, 8]
    assert plan.udh_octets == 6
    assert _units(plan_text("a" * 161, reference_size=SIXTEEN)) == [152, 9]
    assert plan_text("a" * 161, reference_size=SIXTEEN).udh_octets == 7


def test_euro_signs_count_two_septets() -> None:
    plan = plan_text("€" * 80)
    assert (plan.parts, plan.total_units) == (1, 160)
    assert plan.segments[0].payload == b"\x1be" * 80


def test_81_euro_signs_never_split_an_escape_pair() -> None:
    plan = plan_text("€" * 81)
    assert plan.total_units == 162
    # 153 is odd: the 77th pair would straddle the boundary, so part 1 stops at 152 septets.
    assert _units(plan) == [152, 10]
    assert [segment.text for segment in plan.segments] == ["€" * 76, "€" * 5]
    for segment in plan.segments:
        assert not segment.payload.endswith(b"\x1b") or segment.payload.endswith(b"\x1b\x1b")
        assert gsm_decode(segment.payload) == segment.text


def test_escape_pair_at_153_boundary_moves_whole() -> None:
    text = "x" * 152 + "[" + "y" * 20
    plan = plan_text(text)
    assert plan.total_units == 174
    assert _units(plan) == [152, 22]
    assert plan.segments[0].text == "x" * 152
    assert plan.segments[1].payload.startswith(b"\x1b<")


def test_escape_pair_at_152_boundary_with_16_bit_reference() -> None:
    plan = plan_text("x" * 151 + "]" + "y" * 20, reference_size=SIXTEEN)
    assert _units(plan) == [151, 22]


def test_emoji_at_the_67_unit_boundary_moves_whole() -> None:
    text = "ж" * 66 + "😀" + "ж" * 10
    plan = plan_text(text)
    assert plan.encoding is Encoding.UCS2
    assert plan.data_coding == 0x08
    assert plan.total_units == 78
    assert _units(plan) == [66, 12]
    assert plan.segments[1].text == "😀" + "ж" * 10
    assert plan.segments[1].payload[:4] == "😀".encode("utf-16-be")


def test_ucs2_limits() -> None:
    assert _units(plan_text("ж" * 70)) == [70]
    assert _units(plan_text("ж" * 71)) == [67, 4]
    assert _units(plan_text("ж" * 71, reference_size=SIXTEEN)) == [66, 5]


@pytest.mark.parametrize(
    "cluster",
    [
        "e\u0301\u0302",  # base + combining marks
        "👨\u200d👩\u200d👧",  # ZWJ sequence
        "❤\ufe0f",  # variation selector
        "👍🏽",  # skin tone modifier
        "🇫🇷",  # regional indicator pair
    ],
)
def test_grapheme_clusters_move_whole(cluster: str) -> None:
    units = len(cluster.encode("utf-16-le")) // 2
    text = "ж" * (67 - units + 1) + cluster + "ж" * 10
    plan = plan_text(text)
    assert plan.segments[0].text == "ж" * (67 - units + 1)
    assert plan.segments[1].text is not None
    assert plan.segments[1].text.startswith(cluster)
    assert "".join(segment.text or "" for segment in plan.segments) == text


def test_crlf_is_never_split() -> None:
    plan = plan_text("a" * 152 + "\r\n" + "b" * 20)
    assert _units(plan) == [152, 22]
    assert plan.segments[1].payload.startswith(b"\r\n")


def test_a_cluster_longer_than_a_part_is_an_error() -> None:
    text = "a" + "\u0301" * 80
    with pytest.raises(UnsplittableCluster) as raised:
        plan_text(text)
    assert raised.value.index == 0
    assert "81 UTF-16 units" in str(raised.value)
    assert "67" in str(raised.value)


def test_one_non_gsm_character_switches_to_ucs2() -> None:
    text = "Ça va? Merci beaucoup, garçon"
    assert choose_encoding(text) is Encoding.UCS2
    plan = plan_text(text)
    assert plan.encoding is Encoding.UCS2
    assert plan.total_units == len(text)
    assert plan.segments[0].payload == text.encode("utf-16-be")
    assert choose_encoding(text.replace("ç", "c")) is Encoding.GSM7


def test_forced_encodings() -> None:
    plan = plan_text("hello", encoding=Encoding.UCS2)
    assert (plan.encoding, plan.total_units, plan.segments[0].payload) == (
        Encoding.UCS2,
        5,
        "hello".encode("utf-16-be"),
    )
    assert plan_text("hello", encoding=Encoding.GSM7).encoding is Encoding.GSM7
    with pytest.raises(NotGsmEncodable) as raised:
        plan_text("hello `world`", encoding=Encoding.GSM7)
    assert raised.value.index == 6
    assert "U+0060" in str(raised.value)
    with pytest.raises(EncodingMismatch):
        plan_text("hello", encoding=Encoding.BINARY)


def test_lone_surrogate_is_a_clear_error() -> None:
    with pytest.raises(InvalidText) as raised:
        plan_text("ab\ud83d")
    assert raised.value.index == 2


def test_empty_text_is_one_empty_part() -> None:
    plan = plan_text("")
    assert (plan.encoding, plan.parts, plan.total_units) == (Encoding.GSM7, 1, 0)
    assert plan.segments[0].payload == b""


# --- limits ---


@pytest.mark.parametrize("max_parts", [0, -1, 256, 1000])
def test_max_parts_outside_1_to_255_is_rejected(max_parts: int) -> None:
    with pytest.raises(InvalidPartLimit) as raised:
        plan_text("hi", max_parts=max_parts)
    assert "255" in str(raised.value)
    with pytest.raises(InvalidPartLimit):
        plan_binary(b"hi", max_parts=max_parts)


def test_max_parts_limit_is_exact() -> None:
    assert plan_text("a" * 306, max_parts=2).parts == 2
    with pytest.raises(TextTooLong) as raised:
        plan_text("a" * 307, max_parts=2)
    message = str(raised.value)
    assert message == (
        "text is 307 septets in GSM 7-bit; the limit is 2 parts of 153 septets (306 septets)"
    )
    assert (raised.value.units, raised.value.max_parts, raised.value.part_capacity) == (307, 2, 153)
    assert isinstance(raised.value, TidingsError)


def test_single_part_limit_uses_the_unconcatenated_capacity() -> None:
    assert plan_text("a" * 160, max_parts=1).parts == 1
    with pytest.raises(TextTooLong, match=r"161 septets .* 1 part of 160 septets"):
        plan_text("a" * 161, max_parts=1)
    with pytest.raises(TextTooLong, match=r"71 UTF-16 units in UCS-2; the limit is 1 part of 70"):
        plan_text("ж" * 71, max_parts=1)


def test_hard_limit_of_255_parts() -> None:
    assert plan_text("a" * 153 * 255).parts == 255
    with pytest.raises(TextTooLong, match=r"39016 septets .* 255 parts of 153 septets \(39015"):
        plan_text("a" * (153 * 255 + 1))
    assert plan_text("ж" * 66 * 255, reference_size=SIXTEEN).parts == 255
    with pytest.raises(TextTooLong, match=r"255 parts of 66 UTF-16 units"):
        plan_text("ж" * (66 * 255 + 1), reference_size=SIXTEEN)


def test_clusters_moving_can_exceed_the_limit() -> None:
    # 306 septets fit 2 x 153 exactly, but the escape pair at the boundary pushes to a 3rd part.
    text = "a" * 152 + "€" + "a" * 152
    assert plan_text(text, max_parts=3).parts == 3
    with pytest.raises(TextTooLong, match="cannot be split"):
        plan_text(text, max_parts=2)


# --- binary ---


def test_binary_plans() -> None:
    plan = plan_binary(bytes(140))
    assert (plan.encoding, plan.data_coding, plan.parts, plan.segments[0].text) == (
        Encoding.BINARY,
        0x04,
        1,
        None,
    )
    assert _units(plan_binary(bytes(range(141)))) == [134, 7]
    assert _units(plan_binary(bytes(141), reference_size=SIXTEEN)) == [133, 8]
    assert (
        b"".join(s.payload for s in plan_binary(bytes(range(256)) * 3).segments)
        == bytes(range(256)) * 3
    )
    with pytest.raises(TextTooLong, match=r"data is 269 bytes in binary; the limit is 2 parts"):
        plan_binary(bytes(269), max_parts=2)


# --- national language shift tables ---


def test_languages_are_opt_in() -> None:
    text = "Günaydın, nasılsın? Şimdi İstanbul'dayım."
    assert plan_text(text).encoding is Encoding.UCS2
    plan = plan_text(text, languages=[NationalLanguage.TURKISH])
    assert plan.encoding is Encoding.GSM7
    assert plan.locking_shift is NationalLanguage.TURKISH
    assert plan.single_shift is None
    assert plan.language_udh == b"\x25\x01\x01"
    assert plan.total_units == len(text)
    payload = plan.segments[0].payload
    assert gsm_decode(payload, locking=NationalLanguage.TURKISH) == text


def test_spanish_uses_the_single_shift_table() -> None:
    text = "¿Qué tal? Información útil"
    plan = plan_text(text, languages=[NationalLanguage.SPANISH])
    assert plan.encoding is Encoding.GSM7
    assert (plan.locking_shift, plan.single_shift) == (None, NationalLanguage.SPANISH)
    assert plan.language_udh == b"\x24\x01\x02"
    # "ó" and "ú" cost two septets each; "é" is in the default alphabet.
    assert plan.total_units == len(text) + 2
    assert plan.udh_octets == 4


def test_language_ies_reduce_the_part_capacity() -> None:
    text = "ó" * 78  # 156 septets: over the 155 of a single part with one language IE.
    plan = plan_text(text, languages=[NationalLanguage.SPANISH])
    assert plan.total_units == 156
    assert _units(plan) == [148, 8]  # 149 per part, the escape pair moved whole
    assert plan.udh_octets == 9


def test_both_shift_tables_when_needed() -> None:
    # "ª" is only in the Portuguese locking table, which lacks "Ω"; its single shift table has it.
    text = "ação ª Ω"
    plan = plan_text(text, languages=[NationalLanguage.PORTUGUESE])
    assert (plan.locking_shift, plan.single_shift) == (
        NationalLanguage.PORTUGUESE,
        NationalLanguage.PORTUGUESE,
    )
    assert plan.language_udh == b"\x24\x01\x03\x25\x01\x03"
    decoded = gsm_decode(
        plan.segments[0].payload,
        locking=NationalLanguage.PORTUGUESE,
        single_shift=NationalLanguage.PORTUGUESE,
    )
    assert decoded == text


def test_text_outside_every_enabled_table_is_ucs2() -> None:
    assert choose_encoding("ação ж", [NationalLanguage.PORTUGUESE]) is Encoding.UCS2
    with pytest.raises(NotGsmEncodable, match=r"U\+0436"):
        plan_text("ação ж", encoding=Encoding.GSM7, languages=[NationalLanguage.PORTUGUESE])


def test_hindi_text_stays_7_bit() -> None:
    text = "नमस्ते दुनिया"
    plan = plan_text(text, languages=[NationalLanguage.HINDI])
    assert plan.encoding is Encoding.GSM7
    assert plan.locking_shift is NationalLanguage.HINDI
    assert plan.total_units == len(text)


# --- properties ---

LANGUAGE_ALPHABET = sorted(GSM_CHARACTERS) + list("çğışİĞŞóúíáÁÍÓÚãõâêôÀ")
any_text = st.lists(
    st.one_of(
        st.sampled_from(LANGUAGE_ALPHABET),
        st.sampled_from(["\r\n", "😀", "👍🏽", "🇫🇷", "e\u0301", "ж", "€"]),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=700,
).map("".join)


def _check_plan(text: str, plan: SegmentPlan, reference_size: ReferenceSize) -> None:
    assert "".join(segment.text or "" for segment in plan.segments) == text
    assert plan.total_units == sum(segment.units for segment in plan.segments)
    language_ies = len(plan.language_udh) // 3
    capacity = part_capacity(
        plan.encoding,
        concatenated=plan.parts > 1,
        reference_size=reference_size,
        language_ies=language_ies,
    )
    for segment in plan.segments:
        assert segment.units <= capacity
        assert segment.text is not None
        if plan.encoding is Encoding.GSM7:
            assert segment.units == len(segment.payload)
            decoded = gsm_decode(
                segment.payload, locking=plan.locking_shift, single_shift=plan.single_shift
            )
            assert decoded == segment.text
        else:
            assert segment.units * 2 == len(segment.payload)
            assert decode(segment.payload, plan.data_coding) == segment.text
    payload = b"".join(segment.payload for segment in plan.segments)
    if plan.encoding is Encoding.GSM7:
        assert plan.total_units == len(payload)
        decoded = gsm_decode(payload, locking=plan.locking_shift, single_shift=plan.single_shift)
        assert decoded == text
    else:
        assert plan.total_units == len(text.encode("utf-16-le")) // 2
        assert decode(payload, plan.data_coding) == text


@given(any_text, st.sampled_from(list(ReferenceSize)))
def test_plans_reassemble_exactly(text: str, reference_size: ReferenceSize) -> None:
    try:
        plan = plan_text(text, reference_size=reference_size)
    except UnsplittableCluster:
        return
    _check_plan(text, plan, reference_size)
    assert plan.language_udh == b""


@given(any_text, st.lists(st.sampled_from(list(NationalLanguage)), max_size=3))
def test_plans_with_languages_reassemble_exactly(
    text: str, languages: list[NationalLanguage]
) -> None:
    try:
        plan = plan_text(text, languages=languages)
    except UnsplittableCluster:
        return
    _check_plan(text, plan, EIGHT)
    if plan.encoding is Encoding.GSM7 and plan.language_udh:
        enabled = set(languages)
        assert {plan.locking_shift, plan.single_shift} - {None} <= enabled


@given(st.text(alphabet=sorted(GSM_CHARACTERS), max_size=1000))
def test_gsm_text_is_always_gsm7_with_exact_units(text: str) -> None:
    plan = plan_text(text)
    assert plan.encoding is Encoding.GSM7
    extension = sum(character in "^{}\\[~]|€\x0c" for character in text)
    assert plan.total_units == len(text) + extension
    if plan.total_units <= 160:
        assert plan.parts == 1
    else:
        # Only an escape pair can waste a septet at a boundary.
        assert plan.parts <= -(-plan.total_units // 152)
        assert all(segment.units >= 152 for segment in plan.segments[:-1])


# --- the fast splitter (no cluster scan) must agree with the grapheme-cluster splitter ---


def test_no_single_shift_code_is_escape_or_carriage_return() -> None:
    # The fast splitter relies on ESC and CR octets never being the second octet of a pair.
    for table in SINGLE_SHIFT_TABLES.values():
        assert 0x1B not in table
        assert 0x0D not in table


def _cluster_split(text: str, encoding: Encoding) -> list[str]:
    plan = plan_text(text, encoding=encoding)
    capacity = part_capacity(encoding, concatenated=True)
    if encoding is Encoding.GSM7:
        return (
            _split(
                text,
                capacity=capacity,
                max_parts=255,
                encode_cluster=methodcaller("translate", DEFAULT_CHARSET.encode_table),
                octets_per_unit=1,
                too_long=lambda: pytest.fail("too long"),
                encoding=encoding,
            )
            if plan.parts > 1
            else [text]
        )
    return (
        _split(
            text,
            capacity=capacity,
            max_parts=255,
            encode_cluster=methodcaller("encode", "utf-16-le"),
            octets_per_unit=2,
            too_long=lambda: pytest.fail("too long"),
            encoding=encoding,
        )
        if plan.parts > 1
        else [text]
    )


simple_pieces = st.sampled_from(["a", "€", "\r\n", "\r", "\n", "ж", "😀", "[", "é", "Ω"])


@given(st.lists(simple_pieces, min_size=150, max_size=600).map("".join))
def test_fast_split_matches_cluster_split(text: str) -> None:
    assert not has_joiners(text)
    for encoding in (Encoding.GSM7, Encoding.UCS2):
        if encoding is Encoding.GSM7 and not is_gsm_encodable(text):
            continue
        plan = plan_text(text, encoding=encoding)
        assert [segment.text for segment in plan.segments] == _cluster_split(text, encoding)


def test_hindi_clusters_are_not_split_across_parts() -> None:
    text = "नमस्ते दुनिया " * 20
    plan = plan_text(text, languages=[NationalLanguage.HINDI])
    assert plan.encoding is Encoding.GSM7
    assert plan.parts > 1
    assert "".join(segment.text or "" for segment in plan.segments) == text
    boundaries = set(accumulate(len(cluster) for cluster in grapheme_clusters(text)))
    assert set(accumulate(len(segment.text or "") for segment in plan.segments)) <= boundaries
    for segment in plan.segments:
        assert segment.text is not None
        assert not has_joiners(segment.text[0])  # never a vowel sign or virama
        decoded = gsm_decode(
            segment.payload, locking=plan.locking_shift, single_shift=plan.single_shift
        )
        assert decoded == segment.text
