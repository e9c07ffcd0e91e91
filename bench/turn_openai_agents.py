"""The bench turn on the OpenAI Agents SDK (`openai-agents`, imported as `agents`).

The SDK's import name is `agents`, this project's own package name: installed beside it, it
hides it (or is hidden). So it runs in an interpreter of its own (`bench/agents.py
--openai-agents-python`), which imports this module and `agent_turn` only.

The model is a `Model` subclass (`ScriptedModel`), the SDK's documented way to bring a
model: `get_response` returns both `ResponseFunctionToolCall`s, or, once the input holds
`function_call_output` items, a message with the answer built from them. Tracing is off: it
would send spans to OpenAI's servers.

The approval wait is the SDK's: `multiply` is a `function_tool(needs_approval=True)`; the run
returns with `interruptions`, and `Runner.run(agent, state)` with the `RunState` approved
goes on. A parked turn is that `RunState`; saved, it is the text of `RunState.to_string()`,
and `RunState.from_string` resumes it.
"""

from collections.abc import AsyncIterator
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
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from agents import (
    Agent,
    Model,
    ModelResponse,
    Runner,
    RunState,
    Usage,
    function_tool,
    set_tracing_disabled,
)

set_tracing_disabled(True)


class ScriptedModel(Model):
    """Calls both tools when no tool output is in the input; else answers from the outputs."""

    async def get_response(
        self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
    ) -> ModelResponse:
        items = input if isinstance(input, list) else []
        results = {
            item["call_id"]: str(item["output"])
            for item in items
            if isinstance(item, dict) and item.get("type") == "function_call_output"
        }
        output: list[Any]
        if results:
            text = ResponseOutputText(type="output_text", text=answer_from(results), annotations=[])
            output = [
                ResponseOutputMessage(
                    id="msg_answer",
                    type="message",
                    role="assistant",
                    status="completed",
                    content=[text],
                )
            ]
        else:
            output = [
                ResponseFunctionToolCall(
                    type="function_call",
                    call_id=ADD_CALL_ID,
                    name="add",
                    arguments=CALL_ARGUMENTS_JSON,
                ),
                ResponseFunctionToolCall(
                    type="function_call",
                    call_id=MULTIPLY_CALL_ID,
                    name="multiply",
                    arguments=CALL_ARGUMENTS_JSON,
                ),
            ]
        usage = Usage(requests=1, input_tokens=40, output_tokens=20, total_tokens=60)
        return ModelResponse(output=output, usage=usage, response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the bench turn is not streamed")


class _Parked:
    def __init__(self, agent: Agent[Any], state: Any, interruptions: list[Any]) -> None:
        self._agent = agent
        self._state = state
        self._interruptions = interruptions

    async def approve(self) -> str:
        for interruption in self._interruptions:
            self._state.approve(interruption)
        return str((await Runner.run(self._agent, self._state)).final_output)


class _Saved:
    def __init__(self, agent: Agent[Any], saved: str) -> None:
        self._agent = agent
        self._saved = saved

    async def approve(self) -> str:
        state = await RunState.from_string(self._agent, self._saved)
        return await _Parked(self._agent, state, list(state.get_interruptions())).approve()


class Suite:
    """The SDK's `Agent` with `ScriptedModel` and the two tools."""

    def __init__(self) -> None:
        self._agent = Agent(
            name="agent", model=ScriptedModel(), tools=[function_tool(add), function_tool(multiply)]
        )
        self._approving = Agent(
            name="agent",
            model=ScriptedModel(),
            tools=[function_tool(add), function_tool(multiply, needs_approval=True)],
        )

    async def run_turn(self) -> str:
        return str((await Runner.run(self._agent, QUESTION)).final_output)

    async def park(self) -> ParkedAgent:
        result = await Runner.run(self._approving, QUESTION)
        if not result.interruptions:
            raise RuntimeError("the turn ended without asking for an approval")
        return _Parked(self._approving, result.to_state(), list(result.interruptions))

    async def park_saved(self) -> ParkedAgent:
        result = await Runner.run(self._approving, QUESTION)
        if not result.interruptions:
            raise RuntimeError("the turn ended without asking for an approval")
        return _Saved(self._approving, result.to_state().to_string())
