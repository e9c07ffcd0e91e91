"""The bench turn on LangGraph's prebuilt ReAct agent (`langgraph.prebuilt.create_react_agent`).

The model is a `BaseChatModel` of a few lines (`ScriptedChatModel`), as LangGraph's own
tests write theirs: `bind_tools` returns the model, and `_generate` replies with an
`AIMessage` holding both `tool_calls`, or with the answer built from the `ToolMessage`s.
LangGraph 1.x marks `create_react_agent` deprecated in favour of `langchain.agents.
create_agent` (another package); it is still LangGraph's prebuilt agent, and the warning is
silenced here.

The approval wait is LangGraph's: the `multiply` tool calls `interrupt(...)`, which needs a
checkpointer; the run returns with `__interrupt__`, and `Command(resume=True)` on the same
`thread_id` goes on. A parked turn is its checkpoints in an `InMemorySaver`, which keeps
them serialized already (as a persistent saver would write them): saved is the same.
"""

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

from agent_turn import (
    ADD_CALL_ID,
    CALL_ARGUMENTS,
    MULTIPLY_CALL_ID,
    QUESTION,
    ParkedAgent,
    add,
    answer_from,
    multiply,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, interrupt

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from langgraph.prebuilt import create_react_agent


class ScriptedChatModel(BaseChatModel):
    """Calls both tools when the last message is the user's; else answers from the results."""

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> "ScriptedChatModel":
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        if isinstance(messages[-1], ToolMessage):
            results = {
                m.tool_call_id: str(m.content) for m in messages if isinstance(m, ToolMessage)
            }
            message = AIMessage(content=answer_from(results))
        else:
            message = AIMessage(
                content="",
                tool_calls=[
                    {"name": "add", "args": CALL_ARGUMENTS, "id": ADD_CALL_ID},
                    {"name": "multiply", "args": CALL_ARGUMENTS, "id": MULTIPLY_CALL_ID},
                ],
            )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop)


async def _multiply_after_approval(a: int, b: int) -> int | str:
    """Multiply two integers."""
    if not interrupt({"tool": "multiply", "args": {"a": a, "b": b}}):
        return "denied"
    return await multiply(a, b)


def _tool(function: Any, name: str) -> StructuredTool:
    return StructuredTool.from_function(coroutine=function, name=name)


def _agent(*tools: StructuredTool, checkpointer: InMemorySaver | None = None) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return create_react_agent(ScriptedChatModel(), list(tools), checkpointer=checkpointer)


def _final_answer(state: dict[str, Any]) -> str:
    return str(state["messages"][-1].content)


class _Parked:
    def __init__(self, agent: Any, config: dict[str, Any]) -> None:
        self._agent = agent
        self._config = config

    async def approve(self) -> str:
        return _final_answer(await self._agent.ainvoke(Command(resume=True), self._config))


class Suite:
    """LangGraph's prebuilt ReAct agent with the scripted model and the two tools."""

    def __init__(self) -> None:
        self._agent = _agent(_tool(add, "add"), _tool(multiply, "multiply"))
        self._approving = _agent(
            _tool(add, "add"),
            _tool(_multiply_after_approval, "multiply"),
            checkpointer=InMemorySaver(),
        )
        self._threads = itertools.count()

    async def run_turn(self) -> str:
        return _final_answer(await self._agent.ainvoke({"messages": [("user", QUESTION)]}))

    async def park(self) -> ParkedAgent:
        config = {"configurable": {"thread_id": f"turn-{next(self._threads)}"}}
        state = await self._approving.ainvoke({"messages": [("user", QUESTION)]}, config)
        if not state.get("__interrupt__"):
            raise RuntimeError("the turn ended without asking for an approval")
        return _Parked(self._approving, config)

    async def park_saved(self) -> ParkedAgent:
        return await self.park()
