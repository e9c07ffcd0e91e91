"""The `LLM` protocol: what agents and workflows need from any chat model.

A client is anything with what `LLM` declares; `OpenAI`, `Anthropic`, `ScriptedLLM`,
`LlamaIndexLLM` and `MeteredLLM` are five. Tools are passed as anything
`agents.llm.tool_schema` reads (a `FunctionTool`, a LlamaIndex tool, a tool dict): each
client turns them into its provider's format.

Structured output and token counting are part of the protocol, so no caller has to guess:
`structured_kwargs(output_cls)` are the request parameters that make a reply an
`output_cls` as JSON text (OpenAI's strict `response_format`, Anthropic's forced tool), which
the workflows send request by request (an agent's every call with `output_cls`, each
metered attempt of `MeteredLLM.astructured_predict`); `count_prompt_tokens` and
`count_reply_tokens` are the client's own estimates, which budgets and the usage ledger use
when a server reports no usage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from agents.llm.types import ChatMessage, ChatResponse

OutputT = TypeVar("OutputT", bound=BaseModel)

ToolChoice = str | Mapping[str, Any]
""""auto", "none", "required", or `{"type": "function", "function": {"name": ...}}` (each
client says it in its provider's words)."""


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
        """A validated `output_cls` instance answering `messages`, asked for with
        `structured_kwargs` and re-asked up to `structured_max_attempts` times."""
        ...

    @property
    def structured_max_attempts(self) -> int:
        """How many times a structured request is asked before `StructuredOutputError`."""
        ...

    def structured_kwargs(self, output_cls: type[BaseModel]) -> dict[str, Any]:
        """The request parameters (for `achat` and `astream_chat`) that make the reply's
        text an `output_cls` as JSON."""
        ...

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The tokens a request of `messages` and `tools` reads, estimated without a call."""
        ...

    def count_reply_tokens(self, message: ChatMessage) -> int:
        """The tokens the model wrote for `message` (text and tool calls), estimated."""
        ...
