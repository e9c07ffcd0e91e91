"""The bench turn on agentflow's `FunctionAgent` (`agents.FunctionAgent`).

The model is `ScriptedTurnLLM`, a minimal client of the `agents.llm.LLM` protocol, as the
other frameworks get theirs (PydanticAI's `FunctionModel`, a custom OpenAI Agents `Model`):
each reply is one `ChatResponse`, with usage, so the agent books it as it would a server's.
(`agents.llm.ScriptedLLM` would work too, but it streams word by word, estimates usage and
keeps every request for assertions: a test double's costs, not the agent's.) The model name
is one tiktoken knows, so the agent counts prompts as it does for a real model.

The approval wait is the agent's own: `approval=["multiply"]` makes the call emit
`ToolApprovalRequired` and wait for a `ToolApprovalResponse`; a parked turn is a live run.
Saved, it is the JSON text of `handler.ctx.to_dict()` once `add` has run (the live run then
cancelled), and `Context.from_dict` resumes it: the waiting call asks again, and `add` is not
run again.
"""

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agent_turn import (
    ADD_CALL_ID,
    CALL_ARGUMENTS_JSON,
    MULTIPLY_CALL_ID,
    QUESTION,
    ParkedAgent,
    add,
    answer_from,
    multiply,
)

from agentflow import Context
from agents import FunctionAgent, ToolApprovalRequired, ToolApprovalResponse, ToolCallResult
from agents.llm import ChatMessage, ChatResponse, LLMMetadata, Usage, tool_call
from agents.llm.openai import OpenAI


class ScriptedTurnLLM:
    """Calls both tools when the last message is the user's; else answers from the results."""

    metadata = LLMMetadata(model="gpt-4o-mini", context_window=128_000)

    async def achat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> ChatResponse:
        if messages[-1].role == "tool":
            results = {m.tool_call_id or "": m.text for m in messages if m.role == "tool"}
            message = ChatMessage.assistant(answer_from(results))
        else:
            calls = [
                tool_call("add", CALL_ARGUMENTS_JSON, id=ADD_CALL_ID),
                tool_call("multiply", CALL_ARGUMENTS_JSON, id=MULTIPLY_CALL_ID),
            ]
            message = ChatMessage.assistant(None, calls)
        return ChatResponse(
            message=message,
            delta=message.text,
            usage=Usage(prompt_tokens=40, completion_tokens=20, total_tokens=60),
            finish_reason="tool_calls" if message.tool_calls else "stop",
        )

    async def astream_chat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatResponse]:
        yield await self.achat(messages, tools, tool_choice, **kwargs)

    async def astructured_predict(self, output_cls: Any, messages: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the bench turn asks for no structured output")

    structured_max_attempts = 1

    def structured_kwargs(self, output_cls: Any) -> dict[str, Any]:
        return {"response_format": output_cls}

    _counter = OpenAI(model="gpt-4o-mini", api_key="never-sent")
    """Counts as the OpenAI client does (tiktoken, offline); it sends nothing."""

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        return self._counter.count_prompt_tokens(messages, tools)

    def count_reply_tokens(self, message: ChatMessage) -> int:
        return self._counter.count_reply_tokens(message)


async def _approve(handler: Any, events: AsyncIterator[Any], call_id: str) -> str:
    handler.ctx.send_event(ToolApprovalResponse(call_id=call_id, approved=True))
    async for _ in events:
        pass
    return str((await handler).response.text)


class _Parked:
    def __init__(self, handler: Any, events: AsyncIterator[Any], call_id: str) -> None:
        self._handler = handler
        self._events = events
        self._call_id = call_id

    async def approve(self) -> str:
        return await _approve(self._handler, self._events, self._call_id)


class _Saved:
    def __init__(self, agent: FunctionAgent, saved: str) -> None:
        self._agent = agent
        self._saved = saved

    async def approve(self) -> str:
        handler = self._agent.run(ctx=Context.from_dict(self._agent, json.loads(self._saved)))
        events = handler.stream_events()
        async for event in events:
            if isinstance(event, ToolApprovalRequired):
                return await _approve(handler, events, event.call_id)
        raise RuntimeError("the resumed turn did not ask for the approval again")


class Suite:
    """agentflow's `FunctionAgent` with `ScriptedTurnLLM` and the two tools."""

    def __init__(self) -> None:
        self._agent = FunctionAgent(tools=[add, multiply], llm=ScriptedTurnLLM())
        self._approving = FunctionAgent(
            tools=[add, multiply], llm=ScriptedTurnLLM(), approval=["multiply"]
        )

    async def run_turn(self) -> str:
        output = await self._agent.run(user_msg=QUESTION)
        return str(output.response.text)

    async def park(self) -> ParkedAgent:
        handler = self._approving.run(user_msg=QUESTION)
        events = handler.stream_events()
        async for event in events:
            if isinstance(event, ToolApprovalRequired):
                return _Parked(handler, events, event.call_id)
        raise RuntimeError("the turn ended without asking for an approval")

    async def park_saved(self) -> ParkedAgent:
        handler = self._approving.run(user_msg=QUESTION)
        events = handler.stream_events()
        seen: set[type] = set()
        async for event in events:
            if isinstance(event, ToolApprovalRequired | ToolCallResult):
                seen.add(type(event))
            if len(seen) == 2:  # add has run, multiply waits
                saved = json.dumps(handler.ctx.to_dict())
                await handler.cancel_run()
                # Closed here, not left to the garbage collector's finaliser task.
                await events.aclose()
                return _Saved(self._approving, saved)
        raise RuntimeError("the turn ended without asking for an approval")
