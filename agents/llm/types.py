"""The message types every LLM client here speaks.

`ChatMessage` is one turn of a conversation (text or text-and-image parts, tool calls made by
the assistant, or a tool's result); `ToolCallPart` is one call the model asked for, with its
arguments both parsed and exactly as sent; `ChatResponse` is a whole reply, or one step of a
streamed reply; `Usage` is what a call cost in tokens. All are pydantic models, so the
workflow context's `JsonSerializer` saves and restores them by class.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from agentflow.context.compact_models import non_default_fields
from agents.llm.errors import LLMLengthError, LLMRefusalError

Role = Literal["system", "developer", "user", "assistant", "tool"]
"""Who wrote a message."""


class TextPart(BaseModel):
    """A piece of text inside a message made of parts."""

    type: Literal["text"] = "text"
    """Always "text"."""
    text: str
    """The text."""


class ImagePart(BaseModel):
    """An image, by URL (a `data:` URL works too), inside a message made of parts."""

    type: Literal["image_url"] = "image_url"
    """Always "image_url"."""
    url: str
    """Where the image is: https or a base64 `data:image/...` URL."""
    detail: Literal["auto", "low", "high"] | None = None
    """How closely the model should look; None leaves it to the server."""


ContentPart = TextPart | ImagePart
"""One part of a message's content."""


class ToolCallPart(BaseModel):
    """A call to a tool that the model asked for.

    `raw_arguments` is the JSON text exactly as the model sent it; `arguments` is that text
    parsed. When the text is not a JSON object, `arguments` is empty and `arguments_error`
    says what was wrong, so the caller can send the error back to the model rather than crash.
    """

    id: str
    """The id the tool's result must quote (`ChatMessage.tool_call_id`)."""
    name: str
    """The tool's name."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """The parsed arguments; empty when `raw_arguments` did not parse."""
    raw_arguments: str = ""
    """The arguments as the model wrote them."""
    arguments_error: str | None = None
    """Why `raw_arguments` is not a JSON object, or None when it is."""

    @property
    def malformed(self) -> bool:
        """True when the model's arguments were not a JSON object."""
        return self.arguments_error is not None

    @classmethod
    def from_raw(cls, id: str, name: str, raw_arguments: str) -> ToolCallPart:
        """A call whose `arguments` are parsed from `raw_arguments`; never raises on bad JSON."""
        arguments, error = _parse_arguments(raw_arguments)
        if error is None:
            # Left at its default rather than given: pydantic keeps the names of the fields
            # a model was given in a set of its own, 216 bytes for up to four names and 728
            # from five on, and every call of every reply in memory holds one.
            return cls(id=id, name=name, arguments=arguments, raw_arguments=raw_arguments)
        return cls(
            id=id,
            name=name,
            arguments=arguments,
            raw_arguments=raw_arguments,
            arguments_error=error,
        )


def _parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    if not raw.strip():
        return {}, None  # a tool without parameters
    try:
        value = json.loads(raw)
    # ValueError besides JSONDecodeError: an integer of more than 4300 digits;
    # RecursionError: arrays or objects nested thousands deep.
    except (ValueError, RecursionError) as error:
        return {}, f"arguments are not valid JSON: {error}"
    if not isinstance(value, dict):
        return {}, f"arguments are a JSON {type(value).__name__}, expected an object"
    return value, None


class ChatMessage(BaseModel):
    """One message of a conversation."""

    role: Role
    """Who wrote it."""
    content: str | list[ContentPart] | None = None
    """Text, or parts (text and images); None for an assistant turn made only of tool calls."""
    tool_calls: list[ToolCallPart] = Field(default_factory=list)
    """The tools an assistant message asks to call, in the model's order."""
    tool_call_id: str | None = None
    """For a tool message: the id of the call this is the result of."""
    name: str | None = None
    """An optional name for the author (several users, or several tools)."""
    refusal: str | None = None
    """For an assistant message: the model's refusal, when it declined to answer."""

    @property
    def text(self) -> str:
        """The text content, parts joined; images left out."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, TextPart))

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        """A system message."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str | list[ContentPart]) -> ChatMessage:
        """A user message."""
        return cls(role="user", content=content)

    @classmethod
    def assistant(
        cls, content: str | None, tool_calls: list[ToolCallPart] | None = None
    ) -> ChatMessage:
        """An assistant message."""
        # Defaults are left unset, so that a save leaves them out.
        given = non_default_fields(cls, content=content, tool_calls=tool_calls or [])
        return cls(role="assistant", **given)

    @classmethod
    def tool(cls, content: str, tool_call_id: str, name: str | None = None) -> ChatMessage:
        """A tool's result for the call `tool_call_id`."""
        return cls(role="tool", content=content, tool_call_id=tool_call_id, name=name)


class Usage(BaseModel):
    """Tokens one call (or several, added together) used."""

    prompt_tokens: int = 0
    """Tokens read, cached ones included."""
    completion_tokens: int = 0
    """Tokens written, reasoning tokens included."""
    cached_tokens: int = 0
    """Of `prompt_tokens`, how many the server had cached (billed at a lower rate)."""
    reasoning_tokens: int = 0
    """Of `completion_tokens`, how many a reasoning model spent thinking."""
    total_tokens: int = 0
    """`prompt_tokens + completion_tokens`, as the server reported it."""

    def __add__(self, other: Usage) -> Usage:
        # Only the counts that are not 0 are given: pydantic keeps the names of the fields a
        # model was given in a set of its own, 216 bytes for up to four names but 728 for
        # all five, and a usage ledger holds three sums per run (total, model, step).
        sums: dict[str, int] = {}
        for name in _USAGE_COUNTS:
            count = getattr(self, name) + getattr(other, name)
            if count:
                sums[name] = count
        return Usage(**sums)


_USAGE_COUNTS = (
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "total_tokens",
)
"""The counts `Usage.__add__` adds up."""


FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
"""Why the model stopped writing."""


class ChatResponse(BaseModel):
    """A reply, or, when streaming, the reply so far.

    While streaming, `message` holds everything received until now and `delta` the text this
    step added. A refusal or a `length` finish is not an exception here: `refused` and
    `truncated` say so, and `raise_for_finish()` turns them into `LLMRefusalError` and
    `LLMLengthError` for callers that cannot use a partial answer.
    """

    message: ChatMessage
    """The assistant's message (accumulated so far, when streaming)."""
    delta: str = ""
    """The text this streamed step added; the whole text for a non-streamed reply."""
    usage: Usage | None = None
    """Tokens used, when the server reported them (the last step of a stream)."""
    finish_reason: FinishReason | None = None
    """Why the model stopped; None while a stream is still going."""
    # Private, not a field: the SDK's object is not data to save with the context.
    _raw: Any = PrivateAttr(default=None)

    def __init__(self, *, raw: Any = None, **fields: Any) -> None:
        super().__init__(**fields)
        if raw is not None:  # else it holds its default, None, already
            self._raw = raw

    @property
    def raw(self) -> Any:
        """The provider's own object for this reply or chunk (not saved with the context)."""
        return self._raw

    @property
    def refused(self) -> bool:
        """True when the model declined to answer (`message.refusal` holds its words)."""
        return self.message.refusal is not None

    @property
    def truncated(self) -> bool:
        """True when the reply stopped because it reached the token limit."""
        return self.finish_reason == "length"

    def raise_for_finish(self) -> None:
        """Raise `LLMRefusalError` for a refusal and `LLMLengthError` for a cut-off reply."""
        if self.message.refusal is not None:
            raise LLMRefusalError(self.message.refusal)
        if self.finish_reason == "length":
            raise LLMLengthError(self.message.text)
