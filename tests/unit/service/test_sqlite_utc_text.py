"""The fast SQLite text of a UTC timestamp is exactly what SQLAlchemy's processors store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from tidings.store.driver import sqlite_utc_text
from tidings.store.models import messages

_DIALECT = sqlite.dialect()
_SQLALCHEMY = messages.c.created_at.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=3)), timezone(-timedelta(hours=9, minutes=30))]
        ),
    )
)
def test_the_text_is_sqlalchemys(value: datetime) -> None:
    assert _SQLALCHEMY is not None
    assert sqlite_utc_text(value) == _SQLALCHEMY(value)


def test_a_naive_timestamp_is_refused_as_the_column_type_refuses_it() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 1, 1))
