"""The README's list of the LlamaIndex Workflows API that runs unchanged on agentflow.

Each program in compat_programs.py is written against `workflows`; here it runs with its
imports renamed to agentflow (the README's promise: rename the import, nothing else), and,
when llama-index-workflows 2.26.1 is installed, on it as well, so that the expected outcome
is the reference's own. A program listed as not yet working must still fail on agentflow
as noted: once it passes, the README's list is out of date.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any

import pytest
from compat_programs import NOT_YET, RUNS_UNCHANGED


def reference_installed() -> bool:
    try:
        return version("llama-index-workflows") == "2.26.1"
    except PackageNotFoundError:
        return False


ENGINES = [
    "agentflow",
    pytest.param(
        "workflows",
        marks=pytest.mark.skipif(
            not reference_installed(), reason="llama-index-workflows 2.26.1 is not installed"
        ),
    ),
]


async def run_program(source: str, engine: str, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`source` with `from workflows...` turned into `from <engine>...`, run as a module of
    its own (the engines resolve step annotations through `sys.modules`)."""
    code = re.sub(r"^(from|import) workflows\b", rf"\1 {engine}", source, flags=re.MULTILINE)
    slug = re.sub(r"\W+", "_", name)
    module = ModuleType(f"compat_{slug}_{engine}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, f"<{name} on {engine}>", "exec"), module.__dict__)
    return await module.main()


@pytest.mark.filterwarnings("ignore:ConstantDelayRetryPolicy is deprecated:DeprecationWarning")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(RUNS_UNCHANGED))
async def test_runs_unchanged_after_renaming_the_import(
    name: str, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, expected = RUNS_UNCHANGED[name]
    assert await run_program(source, engine, name, monkeypatch) == expected


@pytest.mark.parametrize("name", list(NOT_YET))
async def test_not_yet_supported_fails_on_agentflow_only(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, on_reference, error_type, message = NOT_YET[name]
    if reference_installed():
        assert await run_program(source, "workflows", name, monkeypatch) == on_reference
    with pytest.raises(error_type, match=re.escape(message)):
        await run_program(source, "agentflow", name, monkeypatch)


def test_the_readme_lists_each_program() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Coming from LlamaIndex Workflows\n") :]
    section = section[: section.index("\n## ", 1)]
    runs, _, not_yet = section.partition("\nNot yet")
    for name in RUNS_UNCHANGED:
        item = name.split(":")[0]
        assert f"- **{item}**" in runs, item
    for item in NOT_YET:
        assert f"**{item}**" in not_yet.replace("`", ""), item
