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
