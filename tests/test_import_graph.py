"""voxpy's module import graph has no cycle (issue 10, item 3).

The graph is built from the source with ``ast``, not by importing: an edge A -> B for every
module-level ``import``/``from ... import`` of a voxpy module in A. Imports under
``if TYPE_CHECKING:`` are left out (they never run). Imports inside functions are left out of
the cycle check too (they run late, which is how today's cycles are hidden), but they are
collected on their own, so a cycle that only closes through a function-level import is reported
by name instead of passing silently.

Importing ``voxpy.a.b`` also runs ``voxpy/a/__init__.py``; those implicit parent edges are not
in the graph (every package re-exporting its children would be a "cycle"), but an explicit
``from voxpy.a import name`` of a non-module name is an edge to ``voxpy.a``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "voxpy"

# Cycles that are known and being removed, each the set of modules of one strongly connected
# component (adding a module to a known cycle fails too). A test fails when an entry no longer
# matches a cycle: delete it then, with the matching ``ignore_imports`` in pyproject.toml.
#
# Cycles among imports that run (module level, or inside a function, which is how they used
# to hide): none left.
KNOWN_CYCLES: dict[str, frozenset[str]] = {}
# Cycles that close only through ``if TYPE_CHECKING:`` imports: they do not run, but they are
# the same coupling. None left: the Call's parts fire events by name (voxpy.runtime.catalog),
# so the event classes, which name the Call, are only imported above it.
KNOWN_TYPING_CYCLES: dict[str, frozenset[str]] = {}


@dataclass
class Graph:
    modules: set[str] = field(default_factory=set)
    top: dict[str, set[str]] = field(default_factory=dict)  # module-level edges
    late: dict[str, set[str]] = field(default_factory=dict)  # imports inside functions
    typing: dict[str, set[str]] = field(default_factory=dict)  # under ``if TYPE_CHECKING:``

    def edges(self, *, with_late: bool, with_typing: bool = False) -> dict[str, set[str]]:
        out = {m: set(self.top.get(m, ())) for m in self.modules}
        for wanted, extra in ((with_late, self.late), (with_typing, self.typing)):
            for m, targets in extra.items():
                if wanted:
                    out[m] |= targets
        return out


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


FUNCTION = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def _imports(node: ast.AST, kind: str = "top") -> Iterator[tuple[ast.stmt, str]]:
    """Yield (import statement, kind): "top", "late" (inside a function) or "typing"."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, kind
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _imports(ast.Module(body=[stmt], type_ignores=[]), "typing")
            for stmt in child.orelse:
                yield from _imports(ast.Module(body=[stmt], type_ignores=[]), kind)
        else:
            yield from _imports(child, "late" if isinstance(child, FUNCTION) else kind)


def _targets(node: ast.stmt, module: str, is_package: bool, modules: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            base = module.split(".")
            if not is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        names = []
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            names.append(sub if sub in modules else source)
    for name in names:
        # ``import voxpy.a.b`` binds voxpy but runs voxpy.a.b: the deepest known module counts.
        target = name
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != module:
            found.add(target)
    return found


def build_graph(package: Path = PACKAGE) -> Graph:
    files = {module_name(p): p for p in package.rglob("*.py")}
    graph = Graph(modules=set(files))
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        by_kind = {"top": graph.top, "late": graph.late, "typing": graph.typing}
        for node, kind in _imports(tree):
            targets = _targets(node, module, path.name == "__init__.py", graph.modules)
            by_kind[kind].setdefault(module, set()).update(targets)
    return graph


def cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
                    found.append(frozenset(component))
    return found


def _describe(component: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(component)) + "}"


def _unexpected(found: list[frozenset[str]], known: dict[str, frozenset[str]]) -> list[str]:
    return [_describe(c) for c in found if c not in known.values()]


def _gone(found: list[frozenset[str]], known: dict[str, frozenset[str]]) -> list[str]:
    return [name for name, cycle in known.items() if cycle not in found]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph()


def test_graph_sees_the_package(graph: Graph) -> None:
    # A guard against a builder that silently finds nothing: known edges are where they are.
    assert "voxpy.core.state" in graph.modules
    assert "voxpy.runtime.engine" in graph.top["voxpy.cli"]
    assert "voxpy.backends.pjsua2" in graph.late["voxpy.cli"]
    assert "voxpy.runtime.call" in graph.typing["voxpy.runtime.events"]
    assert "voxpy.runtime.call" not in graph.top["voxpy.runtime.events"]


def test_cycle_finder() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": set()}
    assert sorted(map(sorted, cycles(edges))) == [["a", "b", "c"], ["d", "e"]]


def test_no_import_cycle(graph: Graph) -> None:
    found = cycles(graph.edges(with_late=True))
    # Break a new cycle instead of adding it to KNOWN_CYCLES.
    assert _unexpected(found, KNOWN_CYCLES) == []
    # A known cycle that is gone (or changed its members): update KNOWN_CYCLES.
    assert _gone(found, KNOWN_CYCLES) == []


def test_no_type_checking_cycle(graph: Graph) -> None:
    executed = cycles(graph.edges(with_late=True))
    found = [c for c in cycles(graph.edges(with_late=True, with_typing=True)) if c not in executed]
    assert _unexpected(found, KNOWN_TYPING_CYCLES) == []
    assert _gone(found, KNOWN_TYPING_CYCLES) == []


def test_function_level_imports_are_reported(graph: Graph) -> None:
    # Imports inside functions are fine for laziness (pjsua2 stays out of processes that do not
    # need it) but not to hide a cycle: every cycle that closes only through one is known.
    top = cycles(graph.edges(with_late=False))
    hidden = [c for c in cycles(graph.edges(with_late=True)) if c not in top]
    assert top == [], f"module-level import cycles: {[_describe(c) for c in top]}"
    assert sorted(map(_describe, hidden)) == sorted(map(_describe, KNOWN_CYCLES.values()))
