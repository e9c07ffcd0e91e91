"""`AgentState`: an agent's context state; `AgentRunState`: what one run has done so far.

Both live in the context (not on the agent object) so that several runs of one agent can go
on at once in different contexts, and so that a saved context carries the conversation and
a run waiting for an approval.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.agent.errors import MaxIterationsError
from agents.agent.events import ToolCallResult
from agents.agent.repeated_calls import CallRecord, RepeatLimitReached
from agents.kit.state import KitState
from agents.memory import ChatMemory


class IterationLimitReached(BaseModel):
    """The run's LLM calls reached `max_iterations`: what `MaxIterationsError` says. An
    agent with `answer_on_max_iterations` keeps it in `AgentRunState.answer_without_tools`
    while it makes one more call, told to answer."""

    agent_name: str
    """The agent that reached the limit."""
    max_iterations: int
    """Its limit."""

    def error(self) -> MaxIterationsError:
        """The error that ends the run."""
        return MaxIterationsError(self.agent_name, self.max_iterations)


class AgentRunState(BaseModel):
    """Counters and results of the current run; reset by `setup`."""

    iterations: int = 0
    """LLM calls made so far."""
    max_iterations: int | None = None
    """The run's own limit of LLM calls (`run(max_iterations=...)`); None for the agent's."""
    early_stopping_method: Literal["force", "generate"] | None = None
    """The run's own choice at the limit (`run(early_stopping_method=...)`); None for the
    agent's `answer_on_max_iterations`."""
    structured_attempts: int = 0
    """Final answers that failed to validate as `output_cls`."""
    rejected_answers: list[int] = Field(default_factory=list)
    """Memory positions of those answers, each followed by its re-ask; both are dropped once
    an answer validates, so later turns do not read the model's mistakes as its answers."""
    format_errors: int = 0
    """ReAct replies that followed neither the action nor the answer form."""
    pending_calls: int = 0
    """How many tool results `aggregate_tool_results` waits for."""
    tool_results: list[ToolCallResult] = Field(default_factory=list)
    """Every tool result of the run, in call order."""
    call_record: CallRecord = Field(default_factory=CallRecord)
    """Each distinct tool call of the run with its answer, which answers the call again
    when the model repeats it (`agents.agent.repeated_calls`)."""
    answer_without_tools: IterationLimitReached | RepeatLimitReached | None = None
    """The limit the run reached, once an agent lets the model answer instead of ending the
    run there (`answer_on_max_iterations`, `answer_on_repeated_calls`): every LLM call of
    the run from then on offers its tools with `tool_choice="none"`, so the model answers
    with what it has, and a reply that asks for a tool anyway ends the run with the limit's
    error. None until then."""


class HandoffRequest(BaseModel):
    """A handoff the active agent asked for, waiting for its reply's other results."""

    from_agent: str
    """The agent that asked."""
    to_agent: str
    """The agent that takes over."""
    reason: str
    """Why, in the asking agent's words."""


class AgentState(KitState[AgentRunState]):
    """The context state of a `FunctionAgent`, a `ReActAgent` or an `AgentWorkflow` (whose
    agents share it: one conversation, one run). Steps edit it in place under
    `ctx.store.edit_state()`; tools read the shared dict as LlamaIndex's do,
    `await ctx.store.get("state")`."""

    memory: ChatMemory | None = None
    """The conversation; None until a run makes it (from the run's `memory`, else the
    agent's, else an empty one sized for its LLM)."""
    state: dict[str, Any] | None = None
    """The state the agents and their tools share (`initial_state`, `state_prompt`); None
    until a run with an `initial_state` seeds it, or a tool sets it."""
    active_agent: str | None = None
    """In an `AgentWorkflow`, the agent that is talking; None for the root agent."""
    handoff_request: HandoffRequest | None = None
    """In an `AgentWorkflow`, a handoff asked for in the reply under way, made once every
    result of that reply is in."""
