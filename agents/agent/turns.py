"""`AgentTurns`: where a `FunctionAgent`'s conversation lives and what of it a prompt holds.

```
 AgentStart ─> setup ─> AgentInput (build_prompt: system prompt + the newest whole turns)
                 │ memory (memory_key) and run counters (run_state_key), in the context
 AgentFinish ─> finalize ─> AgentOutput (usage: the ledger's total less its total at setup)
```

A base class of `FunctionAgent` only to keep each module to one concern: the steps that open
and close a run, the state every step reads (`get_memory`, `get_run_state`) and the prompt
window over the memory (`build_prompt`, `whole_turns`, `is_feedback`). The tool calls are in
`ToolCalling` (`tool_calls.py`), the LLM turn in `FunctionAgent` (`function_agent.py`).
Override any of them in a `FunctionAgent` subclass as usual.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from agentflow import Context, step
from agentflow.context import DictState
from agents.agent.conversation import ConversationWorkflow
from agents.agent.events import AgentFinish, AgentInput, AgentOutput, AgentStart
from agents.agent.run_state import AgentRunState
from agents.agent.state_prompt import with_state
from agents.llm.ledger import usage_since
from agents.llm.metered import ledger_total
from agents.llm.protocol import LLM
from agents.llm.types import ChatMessage
from agents.memory import ChatMemory
from tools import ToolSet

ANSWER_RETRY_PROMPT = (
    "Your final answer did not match the required JSON schema. Validation errors:\n{errors}\n"
    "Reply again with only a JSON object that matches the schema."
)
"""The re-ask after a final answer fails `output_cls`: the agent's own user message, which
`is_feedback` recognises by its start."""
_RETRY_PREFIX = ANSWER_RETRY_PROMPT.partition("{")[0]


class AgentTurns(ConversationWorkflow):
    """The setup and finalize steps, the run's state and the prompt window of
    `FunctionAgent` (not run on its own)."""

    memory_key = "memory"
    """The state key of the conversation (`ChatMemory`)."""
    run_state_key = "agent_run"
    """The state key of the current run's counters (`AgentRunState`)."""
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
    state_key = "state"
    """The state key of the shared state dict (`initial_state`, `state_prompt`)."""
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
    async def setup(self, ctx: Context[DictState], ev: AgentStart) -> AgentInput:
        """Add the new messages to the memory and start the run's counters afresh. A new
        context starts from the run's `memory` (else the agent's) and `initial_state`."""
        if ev.memory is not None and await ctx.store.get(self.memory_key, default=None) is None:
            await ctx.store.set(self.memory_key, ev.memory.model_copy(deep=True))
        state = await ctx.store.get(self.state_key, default=None)
        if state is None and self.initial_state:
            state = copy.deepcopy(self.initial_state)
            await ctx.store.set(self.state_key, state)
        memory = await self.get_memory(ctx)
        if ev.chat_history is not None:
            memory.reset()
            memory.put_messages(ev.chat_history)
        memory.put_messages(_unfinished_call_results(memory.messages))
        if ev.user_msg is not None:
            message = ev.user_msg
            message = ChatMessage.user(message) if isinstance(message, str) else message
            if self.state_prompt is not None and state:
                message = with_state(message, state, self.state_prompt)
            memory.put(message)
        await ctx.store.set(self.memory_key, memory)
        run_state = AgentRunState(
            usage_before=await ledger_total(ctx),
            max_iterations=ev.max_iterations,
            early_stopping_method=ev.early_stopping_method,
        )
        await ctx.store.set(self.run_state_key, run_state)
        return AgentInput(input=self.build_prompt(memory), agent_name=self.name)

    @step
    async def finalize(self, ctx: Context[DictState], ev: AgentFinish) -> AgentOutput:
        """The run's result: the answer, every tool result and the tokens used; with a
        `structured_output_fn` (and no `output_cls`), what it makes of the conversation."""
        state = await self.get_run_state(ctx)
        structured = ev.structured_response
        if self.structured_output_fn is not None and self.output_cls is None:
            structured = self.structured_output_fn(list((await self.get_memory(ctx)).messages))
            if inspect.isawaitable(structured):
                structured = await structured
        return AgentOutput(
            response=ev.response,
            tool_calls=state.tool_results,
            structured_response=structured,
            usage=usage_since(state.usage_before, await ledger_total(ctx)),
            agent_name=self.name,
        )

    # -- the state and the prompt; override to change one behaviour ---------------------

    async def get_memory(self, ctx: Context[Any]) -> ChatMemory:
        """The context's conversation, made on first use."""
        memory = await ctx.store.get(self.memory_key, default=None)
        if memory is None:
            # A copy: contexts are separate conversations and must not write to one list.
            memory = (
                self.memory.model_copy(deep=True)
                if self.memory is not None
                else ChatMemory(llm=self.llm)
            )
        if not isinstance(memory, ChatMemory):
            raise TypeError(
                f"agent '{self.name}': state key '{self.memory_key}' holds a "
                f"{type(memory).__name__}, not a ChatMemory"
            )
        return memory

    async def get_run_state(self, ctx: Context[Any]) -> AgentRunState:
        """The current run's counters (a fresh set outside a run started by `setup`)."""
        state = await ctx.store.get(self.run_state_key, default=None)
        return state if isinstance(state, AgentRunState) else AgentRunState()

    def build_prompt(self, memory: ChatMemory) -> list[ChatMessage]:
        """The system prompt, then the newest turns of `memory` that fit beside it and the
        tool schemas."""
        from agents.llm.openai.tokens import count_message, count_tools

        system = [ChatMessage.system(self.system_prompt)] if self.system_prompt else []
        reserve = sum(count_message(message, memory.model) for message in system)
        if len(self.toolset):
            reserve += count_tools(list(self.toolset), memory.model)
        return system + self.whole_turns(memory, memory.get(reserve_tokens=reserve))

    def is_feedback(self, messages: Sequence[ChatMessage], index: int) -> bool:
        """Whether the user message at `index` is the agent's own (a structured re-ask), which
        belongs to the turn of the reply it answers rather than starting one."""
        return messages[index].text.startswith(_RETRY_PREFIX)

    def whole_turns(self, memory: ChatMemory, window: list[ChatMessage]) -> list[ChatMessage]:
        """`window` (a `memory.get()`) reaching back to the user's own message that began its
        first turn. The memory starts a turn at every user message, feedback included, so
        under a tight token limit the window could begin at a re-ask (or, for a
        `ReActAgent`, an observation) and leave out the question; like the memory, this keeps
        the newest turn whole even when it is over the budget."""
        messages = memory.messages
        first = 0
        while first < len(messages) and messages[first].role in ("system", "developer"):
            first += 1
        start = len(messages) - (len(window) - first)
        while start > first and (
            messages[start].role != "user" or self.is_feedback(messages, start)
        ):
            start -= 1
        return window[:first] + messages[start:]


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
