"""The shape of the streaming core: no import cycle, no module over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import i2p_streaming.streaming as streaming_pkg

ROOT = Path(streaming_pkg.__file__).parent
PREFIX = "i2p_streaming.streaming"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PREFIX, *parts])


def _imports(path: Path) -> set[str]:
    """Core modules ``path`` imports, at any level (``TYPE_CHECKING`` blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: _imports(path) & modules.keys() - {name} for name, path in modules.items()}


def test_no_import_cycle_inside_streaming() -> None:
    graph = _graph()
    assert f"{PREFIX}.connection" in graph and f"{PREFIX}.manager" in graph[f"{PREFIX}"]
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_the_graph_sees_real_imports() -> None:
    graph = _graph()
    assert f"{PREFIX}.sending" in graph[f"{PREFIX}.connection"]
    assert f"{PREFIX}.connection" not in graph[f"{PREFIX}.sending"]
    assert f"{PREFIX}.manager" not in graph[f"{PREFIX}.connection"]


def test_modules_stay_under_500_lines() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in ROOT.rglob("*.py")}
    assert all(n < 500 for n in sizes.values()), sizes
