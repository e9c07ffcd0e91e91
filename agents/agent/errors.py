"""Exceptions the prebuilt agents raise; each message names the agent."""

from __future__ import annotations

from agents.llm.errors import EmptyResponseError, empty_stream_message


class AgentError(Exception):
    """Base class of the agents' own errors."""


class MaxIterationsError(AgentError):
    """The agent called its LLM `max_iterations` times without reaching a final answer.

    Raised rather than returning a partial answer: a loop that does not converge (a tool
    that keeps failing, a model that keeps calling tools) is a bug to see, not an output.
    An agent with `answer_on_max_iterations` makes one more call, told to answer without
    tools, and raises this only if that reply asks for a tool anyway.
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


class RepeatedToolCallError(AgentError):
    """The model kept making a tool call the run had already answered (same tool, same
    arguments).

    Each repeat gets the earlier answer with a note saying it is one; a model that goes on
    after `max_repeated_calls` of them is not reading its results, and every further LLM
    call would be spent going round the same loop. An agent with `answer_on_repeated_calls`
    tells the model to answer without tools instead, and raises this only if that reply
    asks for a tool anyway.
    """

    def __init__(
        self, agent_name: str, tool_name: str, arguments: str, calls: int, max_repeated_calls: int
    ) -> None:
        self.agent_name = agent_name
        """The agent whose model repeated the call."""
        self.tool_name = tool_name
        """The tool called."""
        self.arguments = arguments
        """The call's arguments as canonical JSON (keys sorted), or as the model wrote them
        when they were not a JSON object."""
        self.calls = calls
        """How many times the run made this call, the first included."""
        self.max_repeated_calls = max_repeated_calls
        """The repeats the agent allows a call in one run."""
        super().__init__(
            f"agent '{agent_name}' stopped the run: its model made the call "
            f"{tool_name}({arguments}) {calls} times in it, more than the first and "
            f"max_repeated_calls={max_repeated_calls} repeats (each answered with the first "
            "result, not run again): it keeps asking for a result it already has. Check the "
            "result it reacts to; to allow more repeats, pass FunctionAgent(..., "
            f"max_repeated_calls={max_repeated_calls + 1}) or higher, or mark the tool "
            "@tool(allow_repeats=True) if its answer changes between calls"
        )


class HandoffError(AgentError):
    """An `AgentWorkflow` whose agents or handoff rules do not fit together."""


class EmptyReplyError(AgentError, EmptyResponseError):
    """The LLM's reply held no text, no tool call and no refusal.

    Raised rather than ending the run with an empty answer, which would look like a model
    that chose to say nothing. A stream that ends before any content (a server that
    dropped it, or sent only a finish reason) is the usual cause. It is also an
    `EmptyResponseError`, so one `except` catches an empty reply from the client or the agent.
    """

    def __init__(self, agent_name: str, model: str, finish_reason: str | None) -> None:
        subject = f"agent '{agent_name}': the reply of model {model!r} had no text and no tool call"
        # Not EmptyResponseError.__init__: its message says the server sent no choices.
        Exception.__init__(self, empty_stream_message(subject, finish_reason))
        self.agent_name = agent_name
        """The agent whose LLM replied."""
        self.model = model
        """The model that replied."""
        self.finish_reason = finish_reason
        """Why the model stopped, as the stream said; None when it did not say."""


class AgentOptionError(AgentError, ValueError):
    """An agent or `AgentWorkflow` was given an option it cannot use (a prompt template
    without its placeholders, an unknown `early_stopping_method`, ...); the message names
    the agent and the option."""
