"""A durable FunctionAgent killed with SIGKILL in a real child process while one of its
three parallel tool calls runs, and resumed in another (tests/agents/durable_agent_flows.py,
its LLM answered at the wire inside the child): from the side-effect log, the LLM request
that asked for the calls is not sent again, the two calls that had finished do not run
again, the third runs, and the answer is right; on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from postgres_databases import DATABASES

FLOWS = Path(__file__).parents[2] / "agents" / "durable_agent_flows.py"


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(FLOWS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after_collected(process: subprocess.Popen[str], results: int) -> list[str]:
    """The lines the child printed until its collector had received `results` tool
    results, at which point it is killed with SIGKILL."""
    assert process.stdout is not None
    lines: list[str] = []
    while sum(line.startswith("collected:") for line in lines) < results:
        line = process.stdout.readline()
        assert line, f"the child ended early: {process.stderr.read() if process.stderr else ''}"
        lines.append(line.strip())
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return lines


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    return DATABASES.fresh_url()


def test_an_agent_killed_during_parallel_tool_calls_resumes_without_repeating_any(
    tmp_path: Path, store_url: str
) -> None:
    log = tmp_path / "log"
    before = kill_after_collected(child("start", store_url, str(log), "agent-1"), 2)
    assert sorted(line for line in before if line.startswith(("llm:", "tool:"))) == [
        "llm:ask",
        "tool:Oslo",
        "tool:Rome",
    ]
    resumed = child("resume", store_url, str(log), "agent-1")
    out, err = resumed.communicate(timeout=50)
    assert resumed.returncode == 0, err
    *after, result = out.splitlines()
    assert result == "result:Done: Oslo: 4C Rome: 4C Lima: 4C"
    # The log holds both processes' side effects: each LLM request and tool once.
    logged = log.read_text(encoding="utf-8").splitlines()
    effects = sorted(line for line in logged if line.startswith(("llm:", "tool:")))
    assert effects == ["llm:answer", "llm:ask", "tool:Lima", "tool:Oslo", "tool:Rome"]
    assert [line for line in after if line.startswith(("llm:", "tool:"))] == [
        "tool:Lima",
        "llm:answer",
    ]
