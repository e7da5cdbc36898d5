"""The pure matching rules: compliance words, keywords (first word) and inbound rule searches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tidings.core.automation import SearchType, first_word, match_keyword, rule_matches
from tidings.core.optout import Command, classify, normalize_word
from tidings.store.automation import KeywordRecord

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def keyword(word: str, number: str = "+358409999999") -> KeywordRecord:
    return KeywordRecord(
        id=f"kw-{word}",
        account_id="a",
        number=number,
        keyword=word,
        reply=None,
        add_to_list_id=None,
        remove_from_list_id=None,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "  Stop \n",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "end",
        "QUIT",
        "optout",
        "revoke",
    ],
)
def test_the_stop_words_ignore_case_and_surrounding_whitespace(body: str) -> None:
    assert classify(body) is Command.STOP


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("start", Command.START),
        (" UNSTOP", Command.START),
        ("Yes", Command.START),
        ("help", Command.HELP),
        ("INFO\t", Command.HELP),
    ],
)
def test_start_and_help_words(body: str, command: Command) -> None:
    assert classify(body) is command


@pytest.mark.parametrize("body", ["stop it", "please stop", "STOPP", "", "   ", "lopeta"])
def test_other_text_is_no_command(body: str) -> None:
    assert classify(body) is None


def test_extra_stop_words_count_as_stop() -> None:
    assert classify(" Lopeta ", extra_stop_words=("LOPETA",)) is Command.STOP
    assert classify("lopeta nyt", extra_stop_words=("LOPETA",)) is None


def test_normalize_word_collapses_inner_whitespace() -> None:
    assert normalize_word("  opt \t out ") == "OPT OUT"


def test_a_keyword_matches_the_first_word_only_ignoring_case() -> None:
    candidates = [keyword("JOIN"), keyword("PIZZA")]
    assert match_keyword("join", candidates) == candidates[0]
    assert match_keyword("  Pizza please, large", candidates) == candidates[1]
    assert match_keyword("I want to join", candidates) is None
    assert match_keyword("JOINED", candidates) is None
    assert match_keyword("", candidates) is None
    assert first_word("\n hello  world") == "HELLO"


@pytest.mark.parametrize(
    ("search_type", "term", "body", "expected"),
    [
        (SearchType.ANY, None, "anything", True),
        (SearchType.STARTS_WITH, "order", "Order 66 please", True),
        (SearchType.STARTS_WITH, "order", "my order", False),
        (SearchType.CONTAINS, "refund", "I want a REFUND now", True),
        (SearchType.CONTAINS, "refund", "thanks", False),
        (SearchType.NOT_CONTAINS, "spam", "hello there", True),
        (SearchType.NOT_CONTAINS, "spam", "this is Spam", False),
    ],
)
def test_rule_searches(
    search_type: SearchType, term: str | None, body: str, expected: bool
) -> None:
    assert rule_matches(search_type, term, body) is expected
