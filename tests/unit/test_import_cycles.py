"""No import cycles: among the modules of core, store, events, media and simulator, and among
tidings' packages.

The graph is read from the source with ``ast``: every import at a module's top level (inside
``if`` and ``try`` blocks too) and every import inside a function, because an import moved into
a function or under ``TYPE_CHECKING`` to dodge a cycle still ties the two modules together.
A ``from package import submodule`` is an edge to the submodule only.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

import pytest

import tidings

pytestmark = pytest.mark.once

SOURCE = Path(tidings.__file__).parent
# Modules of these packages must not import each other in a circle.
GUARDED = ("tidings.core", "tidings.store", "tidings.events", "tidings.media", "tidings.simulator")


def _module_names() -> dict[str, Path]:
    names = {}
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            found = [module for module in submodules if module in known]
            yield from found if len(found) == len(submodules) else [base, *found]


@functools.cache
def import_graph() -> dict[str, frozenset[str]]:
    known = _module_names()
    return {
        name: frozenset(m for m in _imported(name, path, known) if m in known and m != name)
        for name, path in known.items()
    }


def cycles(graph: Mapping[str, Collection[str]]) -> list[set[str]]:
    """The strongly connected components of more than one node (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def _top_package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_of_the_guarded_packages_is_in_an_import_cycle() -> None:
    graph = import_graph()
    guarded = {
        name: {m for m in imported if m.startswith(GUARDED)}
        for name, imported in graph.items()
        if name.startswith(GUARDED)
    }
    assert cycles(guarded) == []


def test_the_guarded_packages_do_not_import_each_other_in_a_circle() -> None:
    """store, events and media sit below core: none of them imports core (nor each other in a
    circle), so each can be read and tested without the use cases above it."""
    packages: dict[str, set[str]] = {}
    for name, imported in import_graph().items():
        edges = packages.setdefault(_top_package(name), set())
        edges.update(_top_package(m) for m in imported if _top_package(m) != _top_package(name))
    assert [c for c in cycles(packages) if c & set(GUARDED)] == []


def test_the_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
