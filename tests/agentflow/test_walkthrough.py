"""The reference's own published feature walkthrough, run on both engines.

Each file in walkthrough/ is a program that the LlamaIndex Workflows docs publish (its
first lines name the page and any change made to run it here), written for `workflows`.
It runs on llama-index-workflows 2.26.1 and again with the import renamed to agentflow
(`run_program`), and must print the same, which for the feature walkthrough notebook is
also what the notebook shows. Object addresses are numbered in order of appearance, so
that "the same connection again" is checked and not where it lives in memory, and the lines
`verbose=True` prints are left out: each engine prints its own (docs/porting-from-llamaindex.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_llamaindex_compat import ENGINES, reference_installed, run_program

PROGRAMS = Path(__file__).parent / "walkthrough"

PUBLISHED = {
    "uppercase": "HELLO\n",
    "typed_start_stop": "HELLO\nWorkflowRuntimeError\n",
    "branches_and_loops": "hello!!!!!!!!!!\n10\n",
    "typed_state": "2\n2\n2\n4\n6\n",
    "human_in_the_loop": (
        "What is your name?\n"
        "Workflow completed! Got result: Logan\n"
        "Workflow completed! Got result: Logan\n"
    ),
    "resources_cached": (
        "Creating a new DB connection\n"
        "Using DB connection <DBConnection 1>\n"
        "Using DB connection <DBConnection 1>\n"
    ),
    "resources_uncached": (
        "Creating a new DB connection\n"
        "Using DB connection <DBConnection 1>\n"
        "Creating a new DB connection\n"
        "Using DB connection <DBConnection 2>\n"
    ),
}
"""What the feature walkthrough notebook shows each of its programs print (the typed
start event's failure as the name of the error it raises)."""


VERBOSE_LINE = re.compile(
    r"^(\[\w+(:\d+)?\] .*|Running step \w+|Step \w+ produced .*)\n", re.MULTILINE
)
"""A line `verbose=True` prints: the reference's `[step:0] started from ...`, `[tick] ...`,
`[result] ...`; agentflow's `Running step ...` and `Step ... produced ...`."""


def numbered_objects(output: str) -> str:
    """`output` with each `<module.Class object at 0x...>` written `<Class n>`, n counting
    distinct addresses from 1."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        address = numbers.setdefault(match[2], len(numbers) + 1)
        return f"<{match[1]} {address}>"

    return re.sub(r"<(?:[\w.]+\.)?(\w+) object at (0x[0-9a-fA-F]+)>", number, output)


async def printed(
    name: str, engine: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """What program `name` prints on `engine`, every input() answered "Logan"."""
    monkeypatch.setattr("builtins.input", lambda prompt="": "Logan")
    capsys.readouterr()
    source = (PROGRAMS / f"{name}.py").read_text(encoding="utf-8")
    await run_program(source, engine, f"walkthrough {name}", monkeypatch)
    return numbered_objects(VERBOSE_LINE.sub("", capsys.readouterr().out))


@pytest.mark.filterwarnings("ignore:ConstantDelayRetryPolicy is deprecated:DeprecationWarning")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(path.stem for path in PROGRAMS.glob("*.py")))
async def test_the_published_program_prints_what_it_does_on_the_reference(
    name: str, engine: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if name in PUBLISHED:
        expected = PUBLISHED[name]
    elif engine == "workflows":
        pytest.skip("the reference's own output is what the agentflow run is compared with")
    elif reference_installed():
        expected = await printed(name, "workflows", monkeypatch, capsys)
    else:
        pytest.skip("llama-index-workflows 2.26.1 is not installed")
    assert await printed(name, engine, monkeypatch, capsys) == expected
