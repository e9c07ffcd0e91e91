"""Retry policies against the reference: each program of compat_retry_programs.py runs on
llama-index-workflows 2.26.1 and, its import renamed, on agentflow; the outcomes must be
equal (seeded jitter included, to the last bit)."""

from __future__ import annotations

import pytest
from compat_retry_programs import PROGRAMS
from test_llamaindex_compat import reference_installed, run_program

pytestmark = pytest.mark.skipif(
    not reference_installed(), reason="llama-index-workflows 2.26.1 is not installed"
)


# agentflow warns where tenacity's positional order would read a wait otherwise; the
# programs are the reference's, and the warning has tests of its own.
@pytest.mark.filterwarnings("ignore:.*positional arguments, read in:UserWarning")
@pytest.mark.parametrize("name", list(PROGRAMS))
async def test_agentflow_decides_as_the_reference(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_reference = await run_program(PROGRAMS[name], "workflows", name, monkeypatch)
    on_agentflow = await run_program(PROGRAMS[name], "agentflow", name, monkeypatch)
    assert on_agentflow == on_reference
