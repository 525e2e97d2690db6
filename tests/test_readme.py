"""The README's Python examples are valid Python that names only real public API."""

from __future__ import annotations

import ast
import importlib
import re
import textwrap
from pathlib import Path

import pytest

import h2oauth_lite

README = Path(__file__).resolve().parent.parent / "README.rst"
BLOCK = re.compile(r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", re.M)


def python_blocks() -> list[str]:
    blocks = [textwrap.dedent(match.group(1)) for match in BLOCK.finditer(README.read_text())]
    # Interactive sessions show output; they are illustrations, not programs.
    return [block for block in blocks if not block.lstrip().startswith(">>>")]


def test_there_are_examples() -> None:
    assert len(python_blocks()) >= 15


@pytest.mark.parametrize("source", python_blocks(), ids=lambda s: s.strip().splitlines()[0][:50])
def test_example_compiles_and_imports_exist(source: str) -> None:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("h2oauth_lite"):
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                assert hasattr(module, alias.name), f"README imports {node.module}.{alias.name}"
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "h2oauth_lite"
        ):
            assert hasattr(h2oauth_lite, node.attr), f"README uses h2oauth_lite.{node.attr}"
