"""Every LLM example ends a run that ran out of time (`WorkflowTimeoutError`, the run's
own `timeout`, which a slow local model can reach) with one stderr line and exit 1, as it
does the agents' and LLM errors, instead of a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from example_scripts import load_example

from agentflow.errors import WorkflowTimeoutError


@pytest.mark.parametrize(
    "name",
    [
        "function_agent",
        "agent_custom_step",
        "multi_agent",
        "research",
        "extract_invoice",
        "iterative_extraction",
    ],
)
def test_a_run_that_times_out_says_it_in_one_line_and_exits_1(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "local")
    example = load_example(name)

    async def times_out(*args: Any, **kwargs: Any) -> None:
        raise WorkflowTimeoutError("Operation timed out after 600.0 seconds")

    monkeypatch.setattr(example, "main", times_out)  # the script's own run, not the library
    assert example.cli([]) == 1

    stderr = capsys.readouterr().err
    assert stderr == f"examples/{name}.py: Operation timed out after 600.0 seconds\n"
