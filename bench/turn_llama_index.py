"""The bench turn on LlamaIndex's `FunctionAgent` (`llama_index.core.agent.workflow`).

The model is llama-index-core's own `MockFunctionCallingLLM` with a `response_generator`:
the reply to the user's message holds both calls as `ToolCallBlock`s; the reply to the
tool results is the answer built from them.

LlamaIndex has no approval option on a tool: its documented way is a tool that takes the
`Context` and waits with `ctx.wait_for_event(HumanResponseEvent, waiter_event=
InputRequiredEvent(...))`. A parked turn is a live run, as in agentflow. It has no saved
form that resumes: `handler.ctx.to_dict()` leaves out the agent's memory ("known
unserializable key: memory ... will require this item to be set manually after
deserialization"), and a run restored from it did not finish when tried here.
"""

from collections.abc import AsyncIterator, Sequence
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
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ToolCallBlock
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.tools import FunctionTool
from llama_index.core.workflow import Context, HumanResponseEvent, InputRequiredEvent

APPROVED = "yes"


def _reply(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
    if messages[-1].role == MessageRole.TOOL:
        results = {
            str(m.additional_kwargs.get("tool_call_id")): str(m.content)
            for m in messages
            if m.role == MessageRole.TOOL
        }
        return ChatMessage(role=MessageRole.ASSISTANT, content=answer_from(results))
    calls = [
        ToolCallBlock(tool_call_id=ADD_CALL_ID, tool_name="add", tool_kwargs=CALL_ARGUMENTS),
        ToolCallBlock(
            tool_call_id=MULTIPLY_CALL_ID, tool_name="multiply", tool_kwargs=CALL_ARGUMENTS
        ),
    ]
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=list(calls))


async def _multiply_after_approval(ctx: Context, a: int, b: int) -> int | str:
    """Multiply two integers."""
    answer = await ctx.wait_for_event(
        HumanResponseEvent, waiter_event=InputRequiredEvent(prefix=f"Run multiply({a}, {b})? ")
    )
    return await multiply(a, b) if answer.response == APPROVED else "denied"


def _agent(*tools: Any) -> FunctionAgent:
    return FunctionAgent(tools=list(tools), llm=MockFunctionCallingLLM(response_generator=_reply))


class _Parked:
    def __init__(self, handler: Any, events: AsyncIterator[Any]) -> None:
        self._handler = handler
        self._events = events

    async def approve(self) -> str:
        self._handler.ctx.send_event(HumanResponseEvent(response=APPROVED))
        async for _ in self._events:
            pass
        return str((await self._handler).response.content)


class Suite:
    """LlamaIndex's `FunctionAgent` with the mock model and the two tools."""

    def __init__(self) -> None:
        self._agent = _agent(add, multiply)
        approving = FunctionTool.from_defaults(_multiply_after_approval, name="multiply")
        self._approving = _agent(add, approving)

    async def run_turn(self) -> str:
        output = await self._agent.run(user_msg=QUESTION)
        return str(output.response.content)

    async def park(self) -> ParkedAgent:
        handler = self._approving.run(user_msg=QUESTION)
        events = handler.stream_events()
        async for event in events:
            if isinstance(event, InputRequiredEvent):
                return _Parked(handler, events)
        raise RuntimeError("the turn ended without asking for an approval")

    async def park_saved(self) -> ParkedAgent:
        raise NotImplementedError("its to_dict() drops the memory")
