"""The events of an agent run: what the steps pass each other and what the stream shows.

On the stream, in order: `AgentInput` (the messages one LLM call gets), `AgentStream` (one
per streamed chunk), `ToolCall` and `ToolCallResult` (one each per call, results in the
order they finish; `ToolApprovalRequired` between them for a call that needs a human yes),
then `AgentOutput`, the run's result. `AgentReply` (a finished LLM reply) and `AgentFinish`
(the settled answer) pass between steps and are not written to the stream. In an
`AgentWorkflow`, `AgentHandoff` marks where one agent passes the conversation to another;
every event names its agent (`agent_name`).

Each event also carries the field names of its namesake in `llama_index.core.agent.workflow`
(`current_agent_name`, `tool_kwargs`, `tool_id`, `tool_output`; `AgentStream`'s `response`
and `delta`), read from agentflow's own fields rather than stored twice: they are in
`model_dump()` (so on the server's stream), not in `to_dict()` or a saved context, and the
constructors take them too (`ToolCall(tool_kwargs=..., tool_id=...)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, Field, computed_field, field_serializer

from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agents.llm.types import ChatMessage, ToolCallPart, Usage
from agents.memory import ChatMemory
from agents.streamed_text import StreamedTextEvent
from tools import ToolOutput

ModelT = TypeVar("ModelT", bound=BaseModel)


class _NamesItsAgent(Event):
    """An event naming its agent, under agentflow's name and LlamaIndex's."""

    agent_name: str = Field(validation_alias=AliasChoices("agent_name", "current_agent_name"))
    """The agent that wrote the event (`current_agent_name=` is accepted too)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def current_agent_name(self) -> str:
        """`agent_name`, under LlamaIndex's name."""
        return self.agent_name


class AgentStart(StartEvent):
    """What `agent.run(user_msg=..., chat_history=..., memory=...)` starts with."""

    user_msg: str | ChatMessage | None = None
    """The new user message; None to answer `chat_history` (or the memory) as it is."""
    chat_history: list[ChatMessage] | None = None
    """Replaces the conversation in memory when given; None continues the memory."""
    memory: ChatMemory | None = None
    """The conversation to start from when the context holds none yet (copied)."""
    max_iterations: int | None = None
    """This run's limit of LLM calls; None for the agent's `max_iterations`."""
    early_stopping_method: Literal["force", "generate"] | None = None
    """This run's choice at `max_iterations`: "force" raises `MaxIterationsError`,
    "generate" makes one last call told to answer; None for the agent's own."""


def agent_start_kwargs(
    user_msg: str | ChatMessage | None,
    chat_history: Sequence[ChatMessage] | None,
    **options: Any,
) -> dict[str, Any]:
    """The `run()` keyword arguments that fill an `AgentStart`, leaving out what was not
    given (so a run with neither message nor history resumes an unfinished one). `options`
    are the other `AgentStart` fields (`memory`, `max_iterations`,
    `early_stopping_method`)."""
    kwargs: dict[str, Any] = {name: value for name, value in options.items() if value is not None}
    if user_msg is not None:
        kwargs["user_msg"] = user_msg
    if chat_history is not None:
        kwargs["chat_history"] = list(chat_history)
    return kwargs


class AgentInput(_NamesItsAgent):
    """The messages the next LLM call gets (system prompt included); `agent_name` is the
    agent calling its LLM."""

    input: list[ChatMessage]
    """The prompt, as sent."""


class AgentStream(StreamedTextEvent, _NamesItsAgent):
    """One streamed chunk of the agent's LLM reply, with LlamaIndex's `AgentStream` fields.

    `response` (the reply's text so far) is read from the reply's shared `ReplyText`, not
    stored per event (`agents.streamed_text`); it is in `model_dump()` but not in
    `to_dict()` or a saved context, where an event restored from one gives its `delta` as
    `response`.
    """

    text_so_far_field = "response"

    tool_calls: list[ToolCallPart] = Field(default_factory=list)
    """Always empty here: the reply's tool calls arrive as `ToolCall` events once complete."""
    thinking_delta: str | None = None
    """Reasoning text this chunk added; None (the OpenAI client streams no reasoning)."""
    raw: Any = Field(default=None, exclude=True)
    """The provider's chunk; None here, so that an unread stream stays small."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def response(self) -> str:
        """The reply's text so far, this chunk's included."""
        return self.text_so_far()


class AgentReply(Event):
    """A finished LLM reply, handed from `call_llm` to `handle_reply`."""

    message: ChatMessage
    """The assistant message, tool calls included."""
    agent_name: str
    """The agent whose LLM replied."""


class AgentFinish(Event):
    """The answer is settled; `finalize` turns it into the run's `AgentOutput`."""

    response: ChatMessage
    """The final assistant message."""
    structured_response: Any = None
    """With `output_cls`, the validated instance."""


class _NamesItsCall(_NamesItsAgent):
    """An event about one tool call, under agentflow's names and LlamaIndex's."""

    call_id: str = Field(validation_alias=AliasChoices("call_id", "tool_id"))
    """The id the result quotes back to the LLM (`tool_id=` is accepted too)."""
    tool_name: str
    """The tool asked for (it may not exist: the result then says so)."""
    arguments: dict[str, Any] = Field(validation_alias=AliasChoices("arguments", "tool_kwargs"))
    """The parsed arguments (`tool_kwargs=` is accepted too)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tool_id(self) -> str:
        """`call_id`, under LlamaIndex's name."""
        return self.call_id

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tool_kwargs(self) -> dict[str, Any]:
        """`arguments`, under LlamaIndex's name."""
        return self.arguments


class ToolCall(_NamesItsCall):
    """A tool call the LLM asked for, about to run; `arguments` are empty when the LLM's
    were malformed, and `agent_name` is the agent making the call."""

    raw_arguments: str = ""
    """The arguments exactly as the LLM wrote them."""
    arguments_error: str | None = None
    """Why `raw_arguments` are not a JSON object (the call then gets an error result), or
    None: `arguments` are what the client parsed, once, and what the tool runs on."""
    index: int
    """The call's position in the reply; results go back to the LLM in this order."""
    repeat_of: str | None = None
    """The earlier call of the run (same tool, same arguments) whose answer this one gets
    instead of running the tool; None when the tool runs (`agents.agent.repeated_calls`).
    A call repeating one of its own reply is written to the stream but not sent to
    `run_tool_call`: `aggregate_tool_results` answers it."""


class ToolCallResult(_NamesItsCall):
    """What one tool call gave: the text the LLM reads, and whether it failed. `call_id`
    is the call this answers, `agent_name` the agent that made it."""

    content: str
    """The result as the LLM reads it; for an error, what went wrong."""
    is_error: bool = False
    """True for a tool that raised, timed out, got bad arguments or does not exist."""
    return_direct: bool = False
    """True when the tool's output ends the run as the answer."""
    index: int
    """The call's position in the reply."""
    denied: bool = False
    """True when a human did not approve the call, so the tool did not run."""
    repeat_of: str | None = None
    """The earlier call (of an earlier reply or of the same one) this one repeated: the
    tool did not run, and `content` is that call's result behind a note saying so. None when
    the tool ran."""
    raw_output: Any = Field(default=None, exclude=True)
    """The tool's return value (or exception); not saved with the context."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tool_output(self) -> ToolOutput:
        """The result as LlamaIndex's `ToolCallResult.tool_output` gives it: a `ToolOutput`
        (`content`, `tool_name`, `raw_input`, `raw_output`, `is_error`; `str()` is the
        content)."""
        return ToolOutput(
            self.tool_name, self.content, self.arguments, self.raw_output, self.is_error
        )

    @field_serializer("tool_output")
    def _dump_tool_output(self, output: ToolOutput) -> dict[str, Any]:
        # Without raw_output, which is not serialised with the event either.
        return {
            "tool_name": output.tool_name,
            "content": output.content,
            "raw_input": output.raw_input,
            "is_error": output.is_error,
        }


class ToolApprovalRequired(InputRequiredEvent):
    """A call to a tool named in `approval` waits for a human's yes or no."""

    call_id: str
    """The call to answer: `ToolApprovalResponse(call_id=...)`."""
    tool_name: str
    """The tool the model wants to run."""
    arguments: dict[str, Any]
    """The arguments it would run with."""
    agent_name: str
    """The agent asking."""


class ToolApprovalResponse(HumanResponseEvent):
    """A human's answer to one `ToolApprovalRequired`, matched by `call_id`."""

    call_id: str
    """The call this answers."""
    approved: bool
    """True to run the tool; False sends the denial to the model as the tool's result."""
    reason: str | None = None
    """Why, for the model to read (mostly useful with a denial)."""


class AgentHandoff(Event):
    """In an `AgentWorkflow`, the conversation passes from one agent to another."""

    from_agent: str
    """The agent that handed off."""
    to_agent: str
    """The agent that continues."""
    reason: str
    """Why, as the handing-off agent put it."""
    agent_name: str
    """The agent that emitted this event (the one handing off)."""


class AgentOutput(StopEvent, _NamesItsAgent):
    """The result of a run: `await agent.run(...)` gives this."""

    response: ChatMessage
    """The final assistant message."""
    tool_calls: list[ToolCallResult] = Field(default_factory=list)
    """Every tool call of the run, in the order the calls were made."""
    structured_response: Any = None
    """With `output_cls`, the validated instance; else None."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens the run's LLM calls used, added together: what the context's `UsageLedger`
    booked for them (the ledger's estimate for a call the server reported no usage for)."""

    def get_pydantic_model(self, model: type[ModelT]) -> ModelT | None:
        """`structured_response` as a `model` instance (None without one), as LlamaIndex's
        `AgentOutput.get_pydantic_model` gives it; raises pydantic's `ValidationError` when
        it does not validate as `model`."""
        structured = self.structured_response
        if structured is None or isinstance(structured, model):
            return structured
        if isinstance(structured, BaseModel):
            structured = structured.model_dump()
        return model.model_validate(structured)

    def __str__(self) -> str:
        """The answer's text, so that `print(await agent.run(...))` prints the answer."""
        return self.response.text
