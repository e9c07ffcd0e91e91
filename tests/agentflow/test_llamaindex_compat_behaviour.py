"""Ported code that depends on when and how LlamaIndex Workflows refuses bad code, on its
error messages and on its StopEvent's shape: each program of compat_behaviour_programs.py
runs on agentflow with its imports renamed, and on llama-index-workflows 2.26.1 itself when
installed, with the same outcome."""

from __future__ import annotations

import pytest
from compat_behaviour_programs import BEHAVES_THE_SAME
from test_llamaindex_compat import ENGINES, run_program


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(BEHAVES_THE_SAME))
async def test_behaves_as_the_reference(
    name: str, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, expected = BEHAVES_THE_SAME[name]
    assert await run_program(source, engine, name, monkeypatch) == expected
