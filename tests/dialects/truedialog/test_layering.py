"""TrueDialog's API is a translator over core, as ClickSend's is: it reads and writes nothing
of the store itself (its ids and lookups are ``core.truedialog``'s), and takes from ``store``
only the record types core hands back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tidings.api.dialects.truedialog as dialect

pytestmark = pytest.mark.once


def test_the_dialect_takes_only_record_types_from_the_store() -> None:
    taken = {}
    for path in Path(dialect.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
                assert not [m for m in modules if m.startswith("tidings.store")], path.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "tidings.store"
            ):
                taken.update({alias.name: f"{path.name}: {node.module}" for alias in node.names})
    assert taken, "nothing imported from the store: the check reads nothing"
    assert {name: where for name, where in taken.items() if not name.endswith("Record")} == {}
