"""`AgentRunState`: what one agent run has done so far, kept in the context's state.

It lives in the store (not on the agent object) so that several runs of one agent can go on
at once in different contexts, and so that a saved context carries it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agents.agent.errors import MaxIterationsError
from agents.agent.events import ToolCallResult
from agents.agent.repeated_calls import CallRecord, RepeatLimitReached
from agents.llm.types import Usage


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
    usage_before: Usage = Field(default_factory=Usage)
    """The context's ledger total when the run started: the run's usage is what the
    ledger booked since (`AgentOutput.usage`)."""
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
