"""Resources and `Workflow.validate` checked against llama-index-workflows itself: each
program in compat_resource_programs.py runs on both engines and must give the same outcome."""

from __future__ import annotations

import pytest
from compat_resource_programs import PROGRAMS
from test_llamaindex_compat import ENGINES, run_program


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(PROGRAMS))
async def test_resource_program_gives_the_reference_outcome(
    name: str, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, expected = PROGRAMS[name]
    assert await run_program(source, engine, name, monkeypatch) == expected
