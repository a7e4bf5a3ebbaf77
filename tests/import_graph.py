"""The static import graph of a package, read from the source with ``ast`` (nothing is imported).

Every ``import`` and ``from ... import`` counts: at module level, inside functions (lazy
imports) and under ``if TYPE_CHECKING:``, because each is a dependency a reader has to hold
in mind and a lazy import is how a cycle usually hides. ``from pkg import name`` is an edge to
``pkg`` and, when ``pkg.name`` is a module, to it too. Importing ``a.b.c`` is not counted as
importing the packages ``a`` and ``a.b`` (Python runs their ``__init__`` first, but an
``__init__`` that re-exports would otherwise put every module in one cycle).

Print the picture (``module -> what it imports``) with::

    python -m tests.import_graph facekit
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["cycles", "import_graph"]


def _modules(package_dir: Path) -> dict[str, Path]:
    root = package_dir.parent
    found: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (anywhere in its source)."""
    modules = _modules(package_dir)
    return {
        module: {name for name in _imported(module, path) if name in modules and name != module}
        for module, path in modules.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (each holds a cycle), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:  # Tarjan's algorithm
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def main(argv: list[str]) -> int:
    """Print ``module -> imports`` for the package named in ``argv[0]`` (default ``facekit``)."""
    name = argv[0] if argv else "facekit"
    graph = import_graph(Path(__file__).resolve().parent.parent / name)
    for module in sorted(graph):
        print(f"{module} -> {', '.join(sorted(graph[module])) or '-'}")
    for component in cycles(graph):
        print("CYCLE:", " <-> ".join(component))
    return 1 if cycles(graph) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
