"""The routing package's layout: no import cycles, no private names shared across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import greenlane.routing

ROOT = Path(greenlane.routing.__file__).resolve().parent
PACKAGE = "greenlane.routing"


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of greenlane.routing."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join([PACKAGE, *parts])] = path
    return out


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) of every import in a file, lazy and
    ``TYPE_CHECKING`` ones included."""
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.module, a.name, node.lineno) for a in node.names]
    return found


def _graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for name, path in modules.items():
        for module, imported, _ in _imports(path):
            target = f"{module}.{imported}" if f"{module}.{imported}" in modules else module
            if target in modules and target != name:
                g.add_edge(name, target)
    return g


def test_the_module_list_is_the_subpackage_layout() -> None:
    top = {m.split(".")[2] for m in _modules() if m.count(".") >= 2}
    assert top == {"datasets", "network", "planner", "scenarios", "vrp"}


def test_routing_has_no_import_cycles() -> None:
    g = _graph()
    assert g.has_edge("greenlane.routing.planner.solve", "greenlane.routing.planner.stops")
    assert not g.has_edge("greenlane.routing.planner.plan", "greenlane.routing.planner.stops")
    assert list(nx.simple_cycles(g)) == []


def test_no_private_name_is_imported_across_modules() -> None:
    shared = [
        f"{path.relative_to(ROOT)}:{line} imports {imported} from {module}"
        for path in _modules().values()
        for module, imported, line in _imports(path)
        if module.startswith(PACKAGE) and imported is not None and imported.startswith("_")
    ]
    assert shared == []
