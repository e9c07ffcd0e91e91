"""Tokens are counted by the LLM a workflow runs with, through the `LLM` protocol: an
agent's memory window and its room for the system prompt and tools are the client's counts,
and no module outside `agents/llm/openai/` reaches for OpenAI's tokenizer."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import agents
from agentflow import Context
from agents import FunctionAgent, ReActAgent
from agents.llm import ChatMessage, ScriptedLLM
from agents.memory import ChatMemory
from tools import tool

ROOT = Path(agents.__file__).parent.parent
OPENAI_FOLDER = ROOT / "agents" / "llm" / "openai"


class HundredPerMessage(ScriptedLLM):
    """Counts 7 tokens for a prompt, 100 a message and 50 a tool: no tokenizer counts so,
    and the texts below are a few tokens each for any of them."""

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        return 7 + 100 * len(messages) + 50 * len(tools or ())


@tool
def add(a: int, b: int) -> int:
    """Adds two numbers."""
    return a + b


def agent_on(kind: str, llm: ScriptedLLM, token_limit: int) -> FunctionAgent:
    memory = ChatMemory(token_limit=token_limit)  # no llm: the agent's counts
    if kind == "react":
        return ReActAgent(tools=[add], llm=llm, system_prompt="Be brief.", memory=memory)
    return FunctionAgent(tools=[add], llm=llm, system_prompt="Be brief.", memory=memory)


@pytest.mark.parametrize("kind", ["function", "react"])
@pytest.mark.parametrize(("token_limit", "sent"), [(400, ["q2"]), (1_000, ["q1", "a1", "q2"])])
async def test_an_agent_trims_its_memory_by_its_llms_counts(
    kind: str, token_limit: int, sent: list[str]
) -> None:
    # 400: after 7 for the prompt, 100 for the system prompt (and 50 for the tool, sent
    # as a schema by a FunctionAgent, in the prompt by a ReActAgent) and 100 for "q2",
    # under 200 is left: the older turn ("q1", "a1") does not fit. 1,000: it does.
    answers = ["a1", "a2"] if kind == "function" else ["Answer: a1", "Answer: a2"]
    llm = HundredPerMessage(answers)
    agent = agent_on(kind, llm, token_limit)
    ctx: Context[Any] = Context(agent)

    await agent.run(user_msg="q1", ctx=ctx)
    await agent.run(user_msg="q2", ctx=ctx)

    second = llm.requests[1].messages
    assert [m.role for m in second[:1]] == ["system"]
    assert [m.text.removeprefix("Answer: ") for m in second[1:]] == sent


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path`, a `from package import name` as
    `package.name`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def test_nothing_outside_the_openai_folder_imports_its_token_counter() -> None:
    sources = [
        path
        for folder in ("agents", "agentflow", "tools", "bench", "examples")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not path.is_relative_to(OPENAI_FOLDER)
    ]
    assert len(sources) > 50
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources
        for line, module in imports_of(path)
        if module == "tiktoken" or module.startswith(("tiktoken.", "agents.llm.openai.tokens"))
    ]
    assert offending == []
