"""Exceptions the prebuilt agents raise; each message names the agent."""

from __future__ import annotations


class AgentError(Exception):
    """Base class of the agents' own errors."""


class MaxIterationsError(AgentError):
    """The agent called its LLM `max_iterations` times without reaching a final answer.

    Raised rather than returning a partial answer: a loop that does not converge (a tool
    that keeps failing, a model that keeps calling tools) is a bug to see, not an output.
    """

    def __init__(self, agent_name: str, max_iterations: int) -> None:
        self.agent_name = agent_name
        """The agent that gave up."""
        self.max_iterations = max_iterations
        """The limit it reached."""
        super().__init__(
            f"agent '{agent_name}' reached max_iterations={max_iterations} without a final "
            "answer; raise max_iterations or check the tool results the model kept reacting to"
        )


class ReActFormatLimitError(AgentError):
    """A ReAct model kept replying in neither the action nor the answer form.

    Each malformed reply goes back to the model with what was wrong; after
    `max_format_errors` of them the run stops instead of looping on a model that cannot
    follow the format.
    """

    def __init__(self, agent_name: str, errors: int, last_error: str, reply: str) -> None:
        self.agent_name = agent_name
        """The agent that gave up."""
        self.errors = errors
        """Malformed replies in this run."""
        self.reply = reply
        """The last reply, as the model wrote it."""
        super().__init__(
            f"agent '{agent_name}' got {errors} replies in neither the ReAct action nor answer "
            f"form; the last: {last_error} (reply: {reply[:200]!r})"
        )


class HandoffError(AgentError):
    """An `AgentWorkflow` whose agents or handoff rules do not fit together."""
