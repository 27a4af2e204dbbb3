"""The import graph of `advisor/` (built with grimp, which import-linter uses): no cycle, no module loaded by name.

A cycle only works through imports hidden inside functions, and a module loaded by name
(`importlib.import_module`, `__import__`) is an edge that neither grimp nor lint-imports can see, so a layer
break hides behind it. Both tests list what they find.

KNOWN_* hold what other branches of the same change fix (issue 17): each entry must still be present (the
test fails once it is gone, so the entry is removed when that fix is merged), and nothing else may appear.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ADVISOR = Path(__file__).resolve().parents[1] / "advisor"

KNOWN_CYCLES: dict[frozenset[str], str] = {
}
KNOWN_LOADED_BY_NAME: dict[str, str] = {}


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every strongly connected set of two or more modules (or a module importing itself), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(root: str) -> None:  # Tarjan's algorithm, iterative (no recursion limit on deep graphs)
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.append(m)
                    if m == node:
                        break
                if len(group) > 1 or node in graph.find_modules_directly_imported_by(node):
                    found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(found)


def test_the_cycle_finder_finds_cycles():
    g = grimp.ImportGraph()
    for a, b in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"), ("p.e", "p.e")]:
        g.add_import(importer=a, imported=b)
    assert cycles(g) == [["p.a", "p.b", "p.c"], ["p.e"]]


def test_the_import_graph_of_advisor_has_no_cycle():
    """Type-checking imports and imports inside functions count: they are edges too.

    Mutant caught: any module importing back up its own chain, e.g. `advisor.models.interface` importing
    `LoadedModel` from `advisor.models.loaded` for a type hint (the old 7-module cycle of advisor/probes)."""
    found = {frozenset(c): c for c in cycles(grimp.build_graph("advisor", include_external_packages=False))}
    assert [c for key, c in found.items() if key not in KNOWN_CYCLES] == []
    assert [sorted(k) for k in KNOWN_CYCLES if k not in found] == [], "fixed: remove it from KNOWN_CYCLES"


def _loads_by_name(tree: ast.AST) -> list[int]:
    """Lines that call importlib.import_module / import_module / __import__."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("import_module", "__import__"):
                lines.append(node.lineno)
    return lines


def test_no_advisor_module_is_loaded_by_name():
    """Mutant caught: a lazy `__getattr__` table like the one `advisor/probes/__init__.py` had
    (`importlib.import_module(f"{__name__}.{module}")`)."""
    assert _loads_by_name(ast.parse("import importlib\nimportlib.import_module(f'{__name__}.x')\n")) == [2]
    hits = {}
    for path in sorted(ADVISOR.rglob("*.py")):
        lines = _loads_by_name(ast.parse(path.read_text(), str(path)))
        if lines:
            hits[path.relative_to(ADVISOR).as_posix()] = lines
    assert {k: v for k, v in hits.items() if k not in KNOWN_LOADED_BY_NAME} == {}
    assert [k for k in KNOWN_LOADED_BY_NAME if k not in hits] == [], "fixed: remove it from KNOWN_LOADED_BY_NAME"
