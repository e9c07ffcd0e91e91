"""The `LLM` protocol: what agents and workflows need from any chat model.

A client is anything with `metadata`, `achat`, `astream_chat` and `astructured_predict`;
`OpenAI`, `ScriptedLLM` and `LlamaIndexLLM` are three. Tools are passed as OpenAI tool dicts
or as objects with `.metadata.to_openai_tool()` (see `agents.llm.tool_specs`).

A client may also say how a request asks for structured output (`StructuredRequests`, as
`OpenAI` and `ScriptedLLM` do). The workflows then ask for a class request by request with
those parameters (an agent's every call with `output_cls`, each metered attempt of
`MeteredLLM.astructured_predict`); without it they send OpenAI's `response_format`, and
`MeteredLLM` hands `astructured_predict` over whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from agents.llm.types import ChatMessage, ChatResponse

OutputT = TypeVar("OutputT", bound=BaseModel)

ToolChoice = str | Mapping[str, Any]
""""auto", "none", "required", or `{"type": "function", "function": {"name": ...}}`."""


@dataclass(frozen=True, slots=True)
class LLMMetadata:
    """What a client can do, for code that adapts to the model."""

    model: str
    """The model's name as the server knows it."""
    context_window: int
    """How many tokens prompt and reply may hold together."""
    is_function_calling_model: bool = True
    """Whether the model accepts tools."""
    max_output_tokens: int | None = None
    """The reply token limit the client sends, or None for the server's default."""


@runtime_checkable
class LLM(Protocol):
    """A chat model."""

    @property
    def metadata(self) -> LLMMetadata:
        """The model and what it supports."""
        ...

    async def achat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> ChatResponse:
        """The model's reply to `messages`."""
        ...

    def astream_chat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatResponse]:
        """The reply as it is written: each item's `delta` is new text, `message` the whole."""
        ...

    async def astructured_predict(
        self,
        output_cls: type[OutputT],
        messages: Sequence[ChatMessage],
        **kwargs: Any,
    ) -> OutputT:
        """A validated `output_cls` instance answering `messages`."""
        ...


@runtime_checkable
class StructuredRequests(Protocol):
    """A client that says which request parameters ask for a class (see the module). Its
    `structured_max_attempts`, when it has one, is how often `MeteredLLM` asks (else 3)."""

    def structured_kwargs(self, output_cls: type[BaseModel]) -> dict[str, Any]:
        """The parameters that make a request's reply an `output_cls` as JSON."""
        ...
