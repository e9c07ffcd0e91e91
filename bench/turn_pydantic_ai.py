"""The bench turn on PydanticAI's `Agent` (`pydantic-ai-slim`), with a `FunctionModel`.

The model function replies to the user's prompt with both `ToolCallPart`s, and to the tool
results (`ToolReturnPart`s) with the answer built from them.

The approval wait is PydanticAI's deferred tools: `multiply` is registered with
`requires_approval=True`, so the run ends with a `DeferredToolRequests` output (after `add`
has run); a new run given the message history and `DeferredToolResults(approvals=...)`
goes on. A parked turn is its message history (the objects the run returned) and the
pending call ids; saved, the history is dumped to JSON text with `ModelMessagesTypeAdapter`
and validated back to resume, the pending calls found in it.
"""

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
from pydantic_ai import (
    Agent,
    DeferredToolRequests,
    DeferredToolResults,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.messages import ModelMessagesTypeAdapter
from pydantic_ai.models.function import AgentInfo, FunctionModel


def _reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    returns = [
        part
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    ]
    if returns:
        results = {part.tool_call_id: str(part.content) for part in returns}
        return ModelResponse(parts=[TextPart(answer_from(results))])
    return ModelResponse(
        parts=[
            ToolCallPart("add", dict(CALL_ARGUMENTS), tool_call_id=ADD_CALL_ID),
            ToolCallPart("multiply", dict(CALL_ARGUMENTS), tool_call_id=MULTIPLY_CALL_ID),
        ]
    )


class _Parked:
    def __init__(self, agent: Any, history: list[ModelMessage], pending: list[str]) -> None:
        self._agent = agent
        self._history = history
        self._pending = pending

    async def approve(self) -> str:
        approvals = DeferredToolResults(approvals=dict.fromkeys(self._pending, True))
        result = await self._agent.run(
            message_history=self._history, deferred_tool_results=approvals
        )
        return str(result.output)


class _Saved:
    def __init__(self, agent: Any, history: bytes) -> None:
        self._agent = agent
        self._history = history

    async def approve(self) -> str:
        history = ModelMessagesTypeAdapter.validate_json(self._history)
        return await _Parked(self._agent, history, _unanswered_calls(history)).approve()


def _unanswered_calls(history: list[ModelMessage]) -> list[str]:
    """The ids of the calls in the history's last response without a return after it: the
    ones waiting for approval, found from the saved text alone, as the others' saves are."""
    last = max(i for i, message in enumerate(history) if isinstance(message, ModelResponse))
    answered = {
        part.tool_call_id
        for message in history[last + 1 :]
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    }
    calls = [part for part in history[last].parts if isinstance(part, ToolCallPart)]
    return [call.tool_call_id for call in calls if call.tool_call_id not in answered]


class Suite:
    """PydanticAI's `Agent` with the `FunctionModel` and the two tools."""

    def __init__(self) -> None:
        self._agent: Agent[None, str] = Agent(FunctionModel(_reply))
        self._agent.tool_plain(add)
        self._agent.tool_plain(multiply)
        self._approving: Agent[None, str | DeferredToolRequests] = Agent(
            FunctionModel(_reply), output_type=[str, DeferredToolRequests]
        )
        self._approving.tool_plain(add)
        self._approving.tool_plain(requires_approval=True)(multiply)

    async def run_turn(self) -> str:
        return str((await self._agent.run(QUESTION)).output)

    async def park(self) -> ParkedAgent:
        return _Parked(self._approving, *await self._until_approval())

    async def park_saved(self) -> ParkedAgent:
        history, _ = await self._until_approval()
        return _Saved(self._approving, ModelMessagesTypeAdapter.dump_json(history))

    async def _until_approval(self) -> tuple[list[ModelMessage], list[str]]:
        """The message history of a turn stopped for `multiply`'s approval, and the ids
        of the calls waiting for it."""
        result = await self._approving.run(QUESTION)
        if not isinstance(result.output, DeferredToolRequests):
            raise RuntimeError("the turn ended without asking for an approval")
        pending = [call.tool_call_id for call in result.output.approvals]
        return result.all_messages(), pending
