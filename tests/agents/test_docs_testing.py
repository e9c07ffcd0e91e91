"""docs/testing.md stays true: each of its Python blocks is a test a user would write, and
every `test_*` function in them passes here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def _doc_tests() -> list[tuple[str, Any]]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    found = []
    for number, block in enumerate(blocks, 1):
        namespace: dict[str, Any] = {"__name__": f"docs_testing_block_{number}"}
        exec(compile(block, f"{DOC.name} block {number}", "exec"), namespace)
        found += [
            (name, value)
            for name, value in namespace.items()
            if name.startswith("test_") and inspect.iscoroutinefunction(value)
        ]
    return found


DOC_TESTS = _doc_tests()


def test_the_page_holds_its_examples() -> None:
    assert [name for name, _ in DOC_TESTS] == [
        "test_the_agent_adds_with_its_tool",
        "test_the_invoice_is_read_from_two_documents",
        "test_usage_is_counted_the_documented_way",
    ]


@pytest.mark.parametrize(("name", "test"), DOC_TESTS, ids=[name for name, _ in DOC_TESTS])
async def test_an_example_of_the_page_passes(name: str, test: Any) -> None:
    await test()
