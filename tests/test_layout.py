"""The package's shape: imports point down, small modules, documented folders, one export table.

The import graph is read from the source with ``ast`` (every ``from .x import``
and ``import h2oauth_lite.x``, at module level, inside functions and under
``TYPE_CHECKING``), so a lazy import counts like any other: it runs too.
Imports under ``TYPE_CHECKING`` never run and are counted on their own.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import h2oauth_lite

PACKAGE = Path(h2oauth_lite.__file__).resolve().parent
MAX_LINES = 420

# Layer -> rank. A module may import its own layer and any layer of a lower rank.
LAYERS: dict[str, int] = {
    "pure": 0,
    "wire": 1,
    "client_auth": 2,
    "grants": 3,
    "store": 4,
    "cache": 5,
    "login": 6,
    "bearer_auth": 7,
    "environment": 7,
    "h2o": 8,
    "integrations": 9,
    "cli": 9,
    "auth": 9,
}
# The modules of the package's top level that import nothing above themselves.
PURE = {"token", "errors", "settings", "durations", "_redact", "_log", "_fork", "protocols"}
# Layers that may not import every lower layer: the only ones they may import.
RESTRICTED: dict[str, set[str]] = {"store": {"pure", "store"}}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["h2oauth_lite", *parts])


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def layer(module: str) -> str:
    """The layer of ``h2oauth_lite.<first>...``: its folder, or ``pure``, or its own name."""
    first = module.split(".")[1]
    if first == "__main__":
        return "cli"  # python -m h2oauth_lite runs the command
    return "pure" if first in PURE else first


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _targets(module: str, node: ast.ImportFrom | ast.Import) -> Iterator[str]:
    """The package modules an import statement in ``module`` loads."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.startswith("h2oauth_lite."):
                yield alias.name
        return
    if node.level:
        base = module.split(".")
        if not _is_package(module):
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    elif node.module and node.module.startswith("h2oauth_lite"):
        target = node.module
    else:
        return
    if target != "h2oauth_lite" and target in MODULES:
        yield target
    for alias in node.names:
        if f"{target}.{alias.name}" in MODULES:
            yield f"{target}.{alias.name}"


def _imports(module: str) -> Iterator[tuple[str, bool]]:
    """(target, type_checking_only) for every import statement of ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))

    def walk(node: ast.AST, typing_only: bool) -> Iterator[tuple[str, bool]]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target in _targets(module, node):
                yield target, typing_only
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from walk(child, True)
            for child in node.orelse:
                yield from walk(child, typing_only)
            return
        for inner in ast.iter_child_nodes(node):
            yield from walk(inner, typing_only)

    yield from walk(tree, False)


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    runtime: dict[str, set[str]] = {name: set() for name in MODULES}
    typing_only: dict[str, set[str]] = {name: set() for name in MODULES}
    for module in MODULES:
        if module == "h2oauth_lite":
            continue  # the facade: the export table, checked below
        for target, only_for_types in _imports(module):
            if target != module:
                (typing_only if only_for_types else runtime)[module].add(target)
    for module in MODULES:
        typing_only[module] -= runtime[module]
    return runtime, typing_only


RUNTIME, TYPING_ONLY = _graph()


def _upward(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for source, targets in sorted(edges.items()):
        if source == "h2oauth_lite":
            continue
        for target in sorted(targets):
            if target == "h2oauth_lite":
                wrong.append(f"{source} -> {target} (the facade)")
                continue
            here, there = layer(source), layer(target)
            allowed = RESTRICTED.get(here)
            if allowed is not None and there not in allowed:
                wrong.append(f"{source} -> {target} ({here} may import only {sorted(allowed)})")
            elif here != there and LAYERS[there] >= LAYERS[here]:
                ranks = f"{here} {LAYERS[here]} -> {there} {LAYERS[there]}"
                wrong.append(f"{source} -> {target} ({ranks})")
    return wrong


def test_every_module_has_a_layer() -> None:
    assert sorted(m for m in MODULES if m != "h2oauth_lite" and layer(m) not in LAYERS) == []


def test_the_graph_is_read() -> None:
    # A guard against a parser that silently finds nothing.
    assert "h2oauth_lite.token" in RUNTIME["h2oauth_lite.cache"]
    assert sum(map(len, RUNTIME.values())) > 50
    assert sum(map(len, TYPING_ONLY.values())) >= 1


def test_no_cycle_among_runtime_imports() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(RUNTIME[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for module in sorted(RUNTIME):
        if module not in state:
            visit(module)
    assert [" -> ".join(cycle) for cycle in cycles] == []


def test_runtime_imports_point_down_the_layers() -> None:
    assert _upward(RUNTIME) == []


def test_type_checking_imports_point_down_the_layers() -> None:
    assert _upward(TYPING_ONLY) == []


def test_no_module_is_too_long() -> None:
    lengths = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in MODULES.values()
    }
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_every_sub_package_says_what_it_holds() -> None:
    packages = [path for path in MODULES.values() if path.name == "__init__.py"]
    assert len(packages) > 5
    missing = [
        str(path.relative_to(PACKAGE))
        for path in packages
        if not (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").strip()
    ]
    assert missing == []


def test_all_is_the_export_table_and_every_name_imports() -> None:
    exports: dict[str, str] = h2oauth_lite._EXPORTS
    assert sorted(h2oauth_lite.__all__) == sorted(["__version__", *exports])
    assert len(h2oauth_lite.__all__) == len(set(h2oauth_lite.__all__))
    for name, module in exports.items():
        value = getattr(h2oauth_lite, name)
        assert getattr(importlib.import_module(f"h2oauth_lite.{module}"), name) is value


def test_the_type_checking_block_repeats_the_export_table() -> None:
    tree = ast.parse(MODULES["h2oauth_lite"].read_text(encoding="utf-8"))
    blocks = [n for n in tree.body if isinstance(n, ast.If) and _is_type_checking(n.test)]
    assert len(blocks) == 1
    imported: dict[str, str] = {}
    for statement in blocks[0].body:
        assert isinstance(statement, ast.ImportFrom) and statement.level == 1, ast.dump(statement)
        assert statement.module is not None
        for alias in statement.names:
            assert alias.asname == alias.name, f"{alias.name} is re-exported as {alias.asname}"
            assert alias.name not in imported, f"{alias.name} is imported twice"
            imported[alias.name] = statement.module
    assert imported == h2oauth_lite._EXPORTS


def test_each_layer_named_here_exists() -> None:
    to_come = {"integrations"}  # named by the design, not written yet
    present = {layer(m) for m in MODULES if m != "h2oauth_lite"}
    assert sorted(set(LAYERS) - present - to_come) == []
