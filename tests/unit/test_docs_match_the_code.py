"""Tables in the docs that must say what the code does: the README's settings, the refusal
reasons. A setting added without its README row fails here."""

from __future__ import annotations

import re
from pathlib import Path

from tidings.config import Settings
from tidings.core.messaging import REASON_OF, InvalidTargetReason, RecipientError

ROOT = Path(__file__).parents[2]


def _table_after(text: str, heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading``, as lists of cell texts."""
    rest = text[text.index(heading) :]
    rows = []
    started = False
    for line in rest.splitlines():
        if line.startswith("|"):
            started = True
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif started:
            break
    return rows[1:]  # without the header


def test_the_readme_lists_every_setting_and_no_other() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = _table_after(readme, "## Configuration")
    documented = [re.sub(r"[`]", "", row[0]) for row in rows]
    expected = sorted(f"TIDINGS_{name.upper()}" for name in Settings.model_fields)
    assert sorted(documented) == expected
    assert all(row[1] and row[2] for row in rows), "every setting has a default and a meaning"


def test_the_refusal_reasons_page_matches_the_codes() -> None:
    page = (ROOT / "docs" / "guide" / "refusal-reasons.md").read_text(encoding="utf-8")
    reasons = _table_after(page, "## Reasons")
    assert [(int(r[0]), r[1]) for r in reasons] == [
        (reason.value, reason.name.lower().replace("_", " ")) for reason in InvalidTargetReason
    ]
    codes = _table_after(page, "## Codes")
    documented = {row[0].strip("`"): int(row[1]) for row in codes}
    defined = {
        value: int(REASON_OF[value])
        for name, value in vars(RecipientError).items()
        if not name.startswith("_") and isinstance(value, str)
    }
    assert documented == defined
