"""Contact field validation and the CSV record splitter, without a database."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.core.contacts import (
    MAX_RECORD_BYTES,
    _parse_record,
    _records,
    clean_contact_fields,
    normalize_country,
)
from tidings.errors import InvalidRequest


def test_country_codes_alpha_2_and_alpha_3_become_alpha_2() -> None:
    assert normalize_country("fin") == "FI"
    assert normalize_country(" SE ") == "SE"
    assert normalize_country("USA") == "US"
    with pytest.raises(ValueError, match="ISO 3166"):
        normalize_country("XYZ")


def test_fields_are_cleaned_and_blank_clears() -> None:
    cleaned = clean_contact_fields(
        {"phone": "040 123 4567", "gender": "F", "birth_year": "1990", "city": " ", "active": "no"},
        region="FI",
    )
    assert cleaned == {
        "phone": "+358401234567",
        "gender": "female",
        "birth_year": 1990,
        "city": None,
        "active": False,
    }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"phone": ""}, "phone"),
        ({"email": "a@b"}, "email"),
        ({"birth_year": True}, "birth_year"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"properties": ["a"]}, "properties"),
        ({"properties": {"k": "v" * 1001}}, "properties"),
        ({"nickname": "x"}, "nickname"),
    ],
)
def test_bad_fields_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        clean_contact_fields(values, region="FI")
    assert raised.value.field == field


async def _split(data: bytes, sizes: list[int]) -> list[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        position = 0
        for size in sizes:
            yield data[position : position + size]
            position += size
        yield data[position:]

    return [record async for _, record in _records(chunks())]


cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(cell, min_size=2, max_size=2), min_size=1, max_size=8),
    sizes=st.lists(st.integers(min_value=1, max_value=9), max_size=40),
)
def test_any_csv_splits_back_into_its_rows_whatever_the_chunking(
    rows: list[list[str]], sizes: list[int]
) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    data = buffer.getvalue().encode()
    records = asyncio.run(_split(data, sizes))
    assert b"".join(records) == data
    assert [_parse_record(record) for record in records] == rows


async def test_an_unterminated_quote_ends_as_one_bad_record() -> None:
    data = b'a,"open\n' + b"x" * (MAX_RECORD_BYTES + 10) + b"\nlater,row\n"
    records = await _split(data, [1000] * 100)
    with pytest.raises(ValueError, match="too long"):
        _parse_record(records[0])
    assert b"".join(records) == data
