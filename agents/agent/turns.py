"""`AgentTurns`: where a `FunctionAgent`'s conversation lives and what of it a prompt holds.

```
 AgentStart ─> setup ─> AgentInput (build_prompt: system prompt + the newest whole turns)
                 │ AgentState in the context: memory, the run's counters (run), shared state
 AgentFinish ─> finalize ─> AgentOutput (usage: what the ledger booked since setup)
```

A base class of `FunctionAgent` only to keep each module to one concern: the steps that open
and close a run, the conversation every step reads (`conversation`) and the prompt window
over the memory (`build_prompt`). Every step edits the context's `AgentState` in place
under `ctx.store.edit_state()`. The tool calls are in `ToolCalling` (`tool_calls.py`), the
LLM turn in `FunctionAgent` (`function_agent.py`). Override any of them in a
`FunctionAgent` subclass as usual.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from agentflow import Context, step
from agentflow.context.compact_models import non_default_fields
from agents.agent.conversation import ConversationWorkflow
from agents.agent.events import AgentFinish, AgentInput, AgentOutput, AgentStart
from agents.agent.run_state import AgentRunState, AgentState
from agents.agent.state_prompt import with_state
from agents.llm.protocol import LLM
from agents.llm.token_counts import added_prompt_tokens
from agents.llm.types import ChatMessage
from agents.memory import ChatMemory
from tools import ToolSet

ANSWER_RETRY_PROMPT = (
    "Your final answer did not match the required JSON schema. Validation errors:\n{errors}\n"
    "Reply again with only a JSON object that matches the schema."
)
"""The re-ask after a final answer fails `output_cls`: the agent's own user message, put in
the memory as feedback (it continues the turn of the answer it rejects)."""


class AgentTurns(ConversationWorkflow):
    """The setup and finalize steps, the conversation and the prompt window of
    `FunctionAgent` (not run on its own)."""

    toolset: ToolSet
    """The agent's tools by name (set by `FunctionAgent.__init__`)."""
    llm: LLM
    """The chat model (set by `FunctionAgent.__init__`)."""
    system_prompt: str | None
    """Sent first in every call (set by `FunctionAgent.__init__`)."""
    name: str
    """Names the agent in events, errors and the output (set by `FunctionAgent.__init__`)."""
    memory: ChatMemory | None
    """What each new context's memory starts as (set by `FunctionAgent.__init__`)."""
    initial_state: dict[str, Any]
    """The shared state a new context starts with (set by `FunctionAgent.__init__`)."""
    state_prompt: str | None
    """How a non-empty shared state goes into the user message (set by
    `FunctionAgent.__init__`)."""
    output_cls: type[BaseModel] | None
    """The model the final answer must validate as (set by `FunctionAgent.__init__`)."""
    structured_output_fn: Callable[[list[ChatMessage]], Any] | None
    """Makes `structured_response` from the conversation (set by `FunctionAgent.__init__`)."""

    # -- steps --------------------------------------------------------------------------

    @step
    async def setup(self, ctx: Context[AgentState], ev: AgentStart) -> AgentInput:
        """Add the new messages to the memory and start the run's counters afresh. A new
        context starts from the run's `memory` (else the agent's) and `initial_state`."""
        async with ctx.store.edit_state() as state:
            if ev.memory is not None and state.memory is None:
                state.memory = ev.memory.model_copy(deep=True)
            if state.state is None and self.initial_state:
                state.state = copy.deepcopy(self.initial_state)
            memory = self.conversation(state)
            if ev.chat_history is not None:
                memory.reset()
                memory.put_messages(ev.chat_history)
            memory.put_messages(_unfinished_call_results(memory.messages))
            if ev.user_msg is not None:
                message = ev.user_msg
                message = ChatMessage.user(message) if isinstance(message, str) else message
                if self.state_prompt is not None and state.state:
                    message = with_state(message, state.state, self.state_prompt)
                memory.put(message)
            state.begin_run(
                AgentRunState(
                    **non_default_fields(
                        AgentRunState,
                        max_iterations=ev.max_iterations,
                        early_stopping_method=ev.early_stopping_method,
                    )
                )
            )
            prompt = self.build_prompt(memory)
        return AgentInput(input=prompt, agent_name=self.name)

    @step
    async def finalize(self, ctx: Context[AgentState], ev: AgentFinish) -> AgentOutput:
        """The run's result: the answer, every tool result and the tokens used; with a
        `structured_output_fn` (and no `output_cls`), what it makes of the conversation."""
        async with ctx.store.edit_state() as state:
            tool_results = state.current_run().tool_results
            usage = state.run_usage()
            messages = list(self.conversation(state).messages)
        structured = ev.structured_response
        if self.structured_output_fn is not None and self.output_cls is None:
            structured = self.structured_output_fn(messages)
            if inspect.isawaitable(structured):
                structured = await structured
        return AgentOutput(
            response=ev.response,
            tool_calls=tool_results,
            structured_response=structured,
            usage=usage,
            agent_name=self.name,
        )

    # -- the conversation and the prompt; override to change one behaviour --------------

    def conversation(self, state: AgentState) -> ChatMemory:
        """The context's conversation (`state.memory`), made on first use: a copy of the
        agent's `memory`, else an empty one sized for its LLM. Call it inside
        `ctx.store.edit_state()`."""
        if state.memory is None:
            # A copy: contexts are separate conversations and must not write to one list.
            state.memory = (
                self.memory.model_copy(deep=True)
                if self.memory is not None
                else ChatMemory(llm=self.llm)
            )
        return state.memory

    def build_prompt(self, memory: ChatMemory) -> list[ChatMessage]:
        """The system prompt, then the newest turns of `memory` that fit beside it and the
        tool schemas, all counted by the agent's LLM."""
        system = [ChatMessage.system(self.system_prompt)] if self.system_prompt else []
        reserve = added_prompt_tokens(self.llm, system, list(self.toolset) or None)
        return system + memory.get(reserve_tokens=reserve, llm=self.llm)


def _unfinished_call_results(messages: list[ChatMessage]) -> list[ChatMessage]:
    """A result for each call of the last reply that has none: a run cancelled, failed or
    timed out while its calls ran or awaited approval leaves them unanswered, and the API
    refuses every later request whose calls lack results."""
    position = next(
        (i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "assistant"), None
    )
    if position is None or not messages[position].tool_calls:
        return []
    last = messages[position]
    answered = {m.tool_call_id for m in messages[position + 1 :] if m.role == "tool"}
    return [
        ChatMessage.tool(
            f"Error: no result from tool '{call.name}': the run ended before every call of "
            "this reply had finished",
            tool_call_id=call.id,
        )
        for call in last.tool_calls
        if call.id not in answered
    ]
