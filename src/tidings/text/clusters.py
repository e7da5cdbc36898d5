"""Extended grapheme clusters (Unicode UAX #29), the units that SMS splitting keeps whole.

The stdlib ``re`` module knows no grapheme clusters; the ``regex`` module's ``\\X`` does. Matching
``\\X`` costs about half a microsecond per character, so :func:`has_joiners` first tells whether
any character could join its neighbour into a cluster (CR is left out: callers handle CRLF).
Without such a character every cluster is a single character, or a CRLF pair (UAX #29 GB3-GB999).
"""

from __future__ import annotations

from typing import Final

import regex

GRAPHEME_CLUSTER: Final = regex.compile(r"\X")

# Every Grapheme_Cluster_Break value that can stop a break (UAX #29 GB6-GB13); GB9c's Indic
# linkers are Extend, and GB11's emoji sequences need ZWJ, so both are covered.
_JOINER: Final = regex.compile(
    "["
    + "".join(
        rf"\p{{Grapheme_Cluster_Break={value}}}"
        for value in (
            "Extend",
            "ZWJ",
            "SpacingMark",
            "Prepend",
            "Regional_Indicator",
            "L",
            "V",
            "T",
            "LV",
            "LVT",
        )
    )
    + "]"
)


def has_joiners(text: str) -> bool:
    """Whether ``text`` holds a character that can form a multi-character cluster (CR aside)."""
    if text.isascii():
        return False
    return _JOINER.search(text) is not None


def grapheme_clusters(text: str) -> list[str]:
    """The extended grapheme clusters of ``text``, in order."""
    return GRAPHEME_CLUSTER.findall(text)
