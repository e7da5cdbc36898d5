"""Tables in the docs that must say what the code does: the README's settings, the refusal
reasons. A setting added without its README row fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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


def test_getting_started_names_the_simulators_outcomes_and_the_demo_numbers() -> None:
    """The getting-started page's table of how a number's end decides its fate in the
    simulator, per channel, is the simulator's default rules; its examples go to a number no
    rule fails, from the demo account's own numbers. (An MMS to the README's +358401234567
    expires by the MMSC's rules: a newcomer trying MMS on it was told nothing about why.)"""
    from tidings.service import DEMO_NUMBER, DEMO_WHATSAPP_NUMBER
    from tidings.simulator.config import DEFAULT_RULES
    from tidings.simulator.fax_gateway import DEFAULT_FAX_RULES
    from tidings.simulator.mmsc import DEFAULT_MMS_RULES
    from tidings.simulator.phones import DEFAULT_PHONE_RULES
    from tidings.simulator.whatsapp import DEFAULT_WHATSAPP_RULES

    page = (ROOT / "docs" / "guide" / "getting-started.md").read_text(encoding="utf-8")
    documented = {(row[0], row[1]) for row in _table_after(page, "## 3. MMS, voice")}
    by_channel: dict[str, tuple[Any, ...]] = {
        "SMS": DEFAULT_RULES,
        "MMS": DEFAULT_MMS_RULES,
        "voice": DEFAULT_PHONE_RULES,
        "WhatsApp": DEFAULT_WHATSAPP_RULES,
        "fax": DEFAULT_FAX_RULES,
    }
    defined = set()
    for channel, rules in by_channel.items():
        for rule in rules:
            assert rule.prefix is None and getattr(rule, "probability", None) is None, rule
            defined.add((channel, rule.suffix))
    assert documented == defined

    section = page[page.index("## 3. MMS, voice") : page.index("## 4. ")]
    commands = [line for line in section.splitlines() if line.startswith(".venv/bin/tidings send")]
    assert len(commands) >= 5
    for command in commands:
        recipient = re.search(r"--to (\+\d+)", command)
        if recipient is None:
            assert "--letter" in command
            continue
        assert not any(recipient[1].endswith(suffix) for _, suffix in defined), command
        sender = re.search(r"--from (\S+)", command)
        assert sender is not None
        expected = (
            DEMO_WHATSAPP_NUMBER.display_phone_number if "--whatsapp" in command else DEMO_NUMBER
        )
        assert sender[1] == expected, command
