"""Code written for LlamaIndex's agents runs on ours after renaming the imports.

Each program of llamaindex_agent_programs.py runs on `llama_index.core.agent.workflow`
itself and again with `llama_index.core.agent.workflow` renamed `agents` and
`llama_index.core.workflow` renamed `agentflow`, its LlamaIndex LLM talking to a
respx-mocked server; the outcome, read from the events' and the output's LlamaIndex fields,
must be the same. The other tests check the rest of LlamaIndex's agent API: its constructor
options, `run()` options and event fields.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType
from typing import Any

import pytest
from llamaindex_agent_programs import PROGRAMS
from llm_wire import BASE_URL, sent_json
from wire_mock import mock_wire

ENGINES = ["llama_index", "agentflow"]
_RENAMES = {
    "llama_index.core.agent.workflow": "agents",
    "llama_index.core.workflow": "agentflow",
}


async def run_program(
    source: str, engine: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[dict[str, Any]]]:
    """`source` run as a module of its own on `engine` (its imports renamed for
    agentflow), against the mocked server: its outcome and the requests it sent."""
    if engine == "agentflow":
        for reference, ours in _RENAMES.items():
            source = re.sub(
                rf"^from {re.escape(reference)} import",
                f"from {ours} import",
                source,
                flags=re.MULTILINE,
            )
    slug = re.sub(r"\W+", "_", name)
    module = ModuleType(f"agent_compat_{slug}_{engine}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    # dont_inherit: the program gets no `from __future__` of this module (annotations stay
    # classes, as in a program of its own).
    code = compile(source, f"<{name} on {engine}>", "exec", dont_inherit=True)
    exec(code, module.__dict__)
    _, replies, _ = PROGRAMS[name]
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as router:
        route = router.post("/chat/completions").mock(side_effect=replies())
        outcome = await module.main(BASE_URL)
    return outcome, [sent_json(call.request) for call in route.calls]


def texts(request: dict[str, Any]) -> list[tuple[str, str]]:
    """Each message's role and text, however the client laid its content out."""

    def text(content: Any) -> str:
        if isinstance(content, list):
            return "".join(part.get("text", "") for part in content)
        return content or ""

    return [(message["role"], text(message.get("content"))) for message in request["messages"]]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(PROGRAMS))
async def test_program_runs_unchanged_after_renaming_the_imports(
    name: str, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _, expected = PROGRAMS[name]
    outcome, _ = await run_program(source, engine, name, monkeypatch)
    assert outcome == expected


@pytest.mark.parametrize("engine", ENGINES)
async def test_llamaindex_messages_reach_the_llm(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "FunctionAgent with two tools"
    _, sent = await run_program(PROGRAMS[name][0], engine, name, monkeypatch)
    assert texts(sent[0]) == [
        ("system", "You calculate."),
        ("user", "Hi"),
        ("assistant", "Hello"),
        ("user", "What is (2 * 3) + 4?"),
    ]
    assert [tool["function"]["name"] for tool in sent[0]["tools"]] == ["multiply", "add"]


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_llamaindex_memory_seeds_the_conversation(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "ReActAgent"
    _, sent = await run_program(PROGRAMS[name][0], engine, name, monkeypatch)
    users = [text for role, text in texts(sent[0]) if role == "user"]
    assert users[:2] == ["I am Ada.", "What is 2 times 3?"]
