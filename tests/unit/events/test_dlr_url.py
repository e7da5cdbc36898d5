"""Building dlr_url callback URLs: the customer's query kept, the five parameters added."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from tidings.events.outbox import dlr_callback_url, iso_timestamp

VALUES = {
    "message_id": "01JM",
    "status": "delivered",
    "error_code": "",
    "to": "+358401234567",
    "timestamp": "2026-11-24T09:30:15.250Z",
}


def test_a_url_without_a_query_gets_one() -> None:
    assert dlr_callback_url("https://example.com/dlr", VALUES) == (
        "https://example.com/dlr?message_id=01JM&status=delivered&error_code="
        "&to=%2B358401234567&timestamp=2026-11-24T09%3A30%3A15.250Z"
    )


def test_the_existing_query_is_kept_byte_for_byte_and_comes_first() -> None:
    url = dlr_callback_url("https://example.com/dlr?sig=a%2Fb+c&flag&x=1", VALUES)
    assert url.startswith("https://example.com/dlr?sig=a%2Fb+c&flag&x=1&message_id=01JM&")


def test_a_clashing_parameter_is_replaced_not_duplicated() -> None:
    url = dlr_callback_url("https://example.com/?status=old&keep=1&to=x", VALUES)
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    assert [value for name, value in pairs if name == "status"] == ["delivered"]
    assert [value for name, value in pairs if name == "to"] == ["+358401234567"]
    assert ("keep", "1") in pairs


def test_the_fragment_is_dropped_and_userinfo_and_port_are_kept() -> None:
    url = dlr_callback_url("https://u:p@example.com:8443/a/b?q=1#frag", VALUES)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path, parts.fragment) == ("u:p@example.com:8443", "/a/b", "")


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda name: name not in VALUES),
        st.text(max_size=12),
        max_size=5,
    ),
    st.text(max_size=20),
)
def test_every_original_and_added_value_round_trips(
    original: dict[str, str], message_id: str
) -> None:
    from urllib.parse import urlencode

    base = "https://example.com/cb?" + urlencode(original)
    values = {**VALUES, "message_id": message_id}
    decoded = parse_qsl(urlsplit(dlr_callback_url(base, values)).query, keep_blank_values=True)
    assert decoded == [*original.items(), *values.items()]


def test_timestamps_are_utc_with_milliseconds_and_z() -> None:
    helsinki = timezone(timedelta(hours=2))
    moment = datetime(2026, 11, 24, 11, 30, 15, 250999, tzinfo=helsinki)
    assert iso_timestamp(moment) == "2026-11-24T09:30:15.250Z"
    assert iso_timestamp(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"
