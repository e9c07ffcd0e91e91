"""The drawing and command-line packages: small modules that use other modules' public
names only (issue 14: nobody calls another module's underscore names)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agentflow

PACKAGE = Path(agentflow.__file__).parent
MODULES = sorted([*(PACKAGE / "drawing").glob("*.py"), *(PACKAGE / "cli").glob("*.py")])


def private_names_used(source: str) -> list[str]:
    """`thing._name` on anything but `self` or `cls`, and `from x import _name`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            private = node.attr.startswith("_") and not node.attr.endswith("__")
            own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if private and not own:
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            found.extend(
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            )
    return found


def test_the_check_finds_a_private_method_called_on_another_class() -> None:
    assert private_names_used("table = type(flow)._step_table()\n") == ["line 1: ._step_table"]
    assert private_names_used("from agentflow.x import _helper\n") == ["line 1: import _helper"]
    assert private_names_used("self._used.add(x)\ncls._seen = 1\n") == []


@pytest.mark.parametrize("module", MODULES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_a_module_uses_no_other_module_s_private_names(module: Path) -> None:
    assert private_names_used(module.read_text(encoding="utf-8")) == []


def test_the_drawing_code_is_in_modules_of_at_most_400_lines() -> None:
    modules = [*PACKAGE.glob("drawing.py"), *(PACKAGE / "drawing").glob("*.py")]
    lengths = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in modules}
    assert {name: length for name, length in lengths.items() if length > 400} == {}
    assert len(lengths) > 1, "drawing is a package: the graph model apart from its renderers"
