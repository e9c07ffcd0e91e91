"""`OpenAI`: the `LLM` protocol over the official SDK's `AsyncOpenAI`.

Works with OpenAI and with any OpenAI-compatible server (`base_url`). The key and base URL
come from `OPENAI_API_KEY` and `OPENAI_BASE_URL` when not given. Retries are the SDK's: 408,
409, 429 and 5xx are retried `max_retries` times with exponential backoff, or after the wait
the server asks for in `Retry-After`/`retry-after-ms` (up to two minutes); when they run out
the SDK's own error (`openai.RateLimitError`, `openai.InternalServerError`, ...) is raised.
A 200 reply that is not a chat completion (a web page, broken JSON, a body where a stream
was asked for, a stream without a chunk) raises `UnexpectedResponseError` (`openai_replies`).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import openai
from pydantic import BaseModel

from agents.llm.errors import EmptyResponseError, LLMConfigurationError
from agents.llm.openai_messages import (
    finish_reason_from,
    from_openai_message,
    from_openai_usage,
    to_openai_messages,
)
from agents.llm.openai_replies import (
    chunkless_stream,
    completion_from,
    stream_from,
    undecodable_event,
)
from agents.llm.protocol import LLMMetadata, OutputT, ToolChoice
from agents.llm.stream_accumulator import StreamAccumulator
from agents.llm.structured import predict_structured, response_format_for
from agents.llm.tool_specs import to_openai_tools
from agents.llm.types import ChatMessage, ChatResponse

# Longest prefix first: "gpt-4o" must win over "gpt-4".
_CONTEXT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("gpt-4.1", 1_047_576),
    ("gpt-4o", 128_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-4-32k", 32_768),
    ("gpt-4", 8_192),
    ("gpt-3.5-turbo", 16_385),
    ("gpt-5", 400_000),
    ("o1-mini", 128_000),
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4", 200_000),
)
_DEFAULT_CONTEXT_WINDOW = 8_192
_DEFAULT_MODEL = "gpt-4o-mini"
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def is_reasoning_model(model: str) -> bool:
    """Whether `model` is an OpenAI reasoning model: it takes `max_completion_tokens` and
    `reasoning_effort`, and refuses `temperature`."""
    name = model.rsplit("/", 1)[-1]
    return name.startswith(_REASONING_PREFIXES) and not name.startswith("gpt-5-chat")


def known_context_window(model: str) -> int | None:
    """The context window of a known OpenAI model, else None."""
    name = model.rsplit("/", 1)[-1]
    for prefix, window in _CONTEXT_WINDOWS:
        if name.startswith(prefix):
            return window
    return None


class OpenAI:
    """A chat model served by OpenAI or an OpenAI-compatible server.

    ```python
    llm = OpenAI("gpt-4o-mini")
    reply = await llm.achat([ChatMessage.user("hello")])
    async for step in llm.astream_chat(messages, tools=[search_tool]):
        print(step.delta, end="")
    ```
    """

    def __init__(
        self,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        *,
        reasoning_effort: str | None = None,
        context_window: int | None = None,
        is_function_calling_model: bool = True,
        stream_usage: bool = True,
        structured_max_attempts: int = 3,
        additional_kwargs: Mapping[str, Any] | None = None,
        client: openai.AsyncOpenAI | None = None,
        # Any: the SDK's own type is httpx.AsyncClient in 2.x and httpx2.AsyncClient in 3.x
        # (which takes an httpx.AsyncClient too).
        http_client: Any = None,
    ) -> None:
        """`max_tokens` limits the reply (sent as `max_completion_tokens` to reasoning
        models); `reasoning_effort` is sent only to reasoning models. `stream_usage=False`
        leaves out `stream_options` for servers that reject it. `additional_kwargs` go to
        every request. `http_client` (an `httpx.AsyncClient`, or with openai 3.x an
        `httpx2.AsyncClient`) is the HTTP client the SDK sends through: for proxies,
        certificates, headers or a test transport. `client` replaces the `AsyncOpenAI` this
        would build (give it the `http_client` then)."""
        if client is not None and http_client is not None:
            raise LLMConfigurationError(
                "OpenAI got both client and http_client: pass http_client to the AsyncOpenAI "
                "given as client"
            )
        self.model = model
        """The model's name as the server knows it."""
        self.temperature = temperature
        """Sampling temperature; None for the server's default (never sent to reasoning models)."""
        self.max_tokens = max_tokens
        """Reply token limit; None for the server's default."""
        self.reasoning_effort = reasoning_effort
        """"low", "medium" or "high" for reasoning models; None for the default."""
        self.stream_usage = stream_usage
        """Whether streams ask for usage in their last chunk."""
        self.structured_max_attempts = structured_max_attempts
        """How many times `astructured_predict` asks before giving up."""
        self.additional_kwargs = dict(additional_kwargs or {})
        """Extra parameters sent with every request."""
        self.client = client or openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )
        """The SDK client requests go through."""
        self._metadata = LLMMetadata(
            model=model,
            context_window=context_window or known_context_window(model) or _DEFAULT_CONTEXT_WINDOW,
            is_function_calling_model=is_function_calling_model,
            max_output_tokens=max_tokens,
        )

    @classmethod
    def from_env(cls, model: str | None = None, **kwargs: Any) -> OpenAI:
        """The model the environment names: `OPENAI_API_KEY` (for OpenAI), `OPENAI_BASE_URL`
        (for an OpenAI-compatible server; a key is then optional), `OPENAI_MODEL` (default
        gpt-4o-mini, unless `model` is given). `kwargs` go to the constructor.

        Raises `LLMConfigurationError`, saying what to set, when neither a key nor a base
        URL is set: scripts can print that instead of the SDK's error at the first call."""
        api_key = os.environ.get("OPENAI_API_KEY")
        base_url = os.environ.get("OPENAI_BASE_URL")
        if not api_key and not base_url:
            raise LLMConfigurationError(
                "no model server is configured: set OPENAI_API_KEY (for OpenAI) or "
                "OPENAI_BASE_URL (for an OpenAI-compatible server), and optionally "
                f"OPENAI_MODEL (default {_DEFAULT_MODEL})"
            )
        chosen = model or os.environ.get("OPENAI_MODEL") or _DEFAULT_MODEL
        # Local servers usually take any key, but the SDK refuses to start without one.
        return cls(chosen, api_key=api_key or "not-needed", base_url=base_url, **kwargs)

    @property
    def metadata(self) -> LLMMetadata:
        """The model, its context window and whether it takes tools."""
        return self._metadata

    def _request(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None,
        tool_choice: ToolChoice | None,
        kwargs: Mapping[str, Any],
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": to_openai_messages(messages)}
        reasoning = is_reasoning_model(self.model)
        if self.max_tokens is not None:
            request["max_completion_tokens" if reasoning else "max_tokens"] = self.max_tokens
        if self.temperature is not None and not reasoning:
            request["temperature"] = self.temperature
        if self.reasoning_effort is not None and reasoning:
            request["reasoning_effort"] = self.reasoning_effort
        if tools:
            request["tools"] = to_openai_tools(tools)
        if tool_choice is not None:
            request["tool_choice"] = tool_choice
        request.update(self.additional_kwargs)
        request.update(kwargs)
        return request

    async def achat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> ChatResponse:
        """The model's reply. Malformed tool arguments are flagged on the `ToolCall`; a
        refusal or `length` finish is reported on the response (`refused`, `truncated`)."""
        request = self._request(messages, tools, tool_choice, kwargs)
        raw = await self.client.chat.completions.with_raw_response.create(**request)
        completion = completion_from(raw, str(self.client.base_url))
        if not completion.choices:
            raise EmptyResponseError(self.model)
        choice = completion.choices[0]
        message = from_openai_message(choice.message)
        return ChatResponse(
            message=message,
            delta=message.text,
            usage=from_openai_usage(completion.usage),
            finish_reason=finish_reason_from(choice.finish_reason),
            raw=completion,
        )

    async def astream_chat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[ChatResponse, None]:
        """The reply as it arrives: one item per chunk, `delta` the new text, `message` all
        so far (tool calls merged by index; their arguments parsed once the choice has
        finished, or the stream has ended). The last item carries `usage` when the server
        sends it."""
        request = self._request(messages, tools, tool_choice, kwargs)
        request["stream"] = True
        if self.stream_usage:
            request.setdefault("stream_options", {"include_usage": True})
        raw = await self.client.chat.completions.with_raw_response.create(**request)
        base_url = str(self.client.base_url)
        stream = await stream_from(raw, base_url)
        accumulator = StreamAccumulator()
        usage = None
        read_any = False  # a chunk with a choice or usage: a stream without one is no reply
        async with stream:
            try:
                async for chunk in stream:
                    # Some servers leave `choices` out of the last chunk (the one with usage).
                    choices = chunk.choices if isinstance(chunk.choices, list) else []
                    read_any = read_any or bool(choices) or chunk.usage is not None
                    delta = accumulator.add(choices[0]) if choices else ""
                    usage = from_openai_usage(chunk.usage) or usage
                    yield ChatResponse(
                        message=accumulator.message(),
                        delta=delta,
                        usage=from_openai_usage(chunk.usage),
                        finish_reason=accumulator.finish_reason,
                        raw=chunk,
                    )
            except json.JSONDecodeError as error:
                content_type = raw.http_response.headers.get("content-type", "")
                raise undecodable_event(error, base_url, content_type) from error
        if not read_any:
            raise chunkless_stream(base_url, raw.http_response.headers.get("content-type", ""))
        final = accumulator.message(final=True)
        if accumulator.finish_reason is None and final.tool_calls:
            # The stream ended without a finish reason (a server that sends none, or a
            # cut connection): one more item with the calls' arguments parsed (or flagged
            # as malformed), so the last item never holds unparsed calls.
            yield ChatResponse(message=final, delta="", usage=usage, finish_reason=None)

    def structured_kwargs(self, output_cls: type[BaseModel]) -> dict[str, Any]:
        """The request parameters asking for `output_cls`: a strict JSON schema
        `response_format`."""
        return {"response_format": response_format_for(output_cls)}

    async def astructured_predict(
        self,
        output_cls: type[OutputT],
        messages: Sequence[ChatMessage],
        **kwargs: Any,
    ) -> OutputT:
        """An `output_cls` instance, asked for with a strict JSON schema `response_format`.
        A reply that fails validation is sent back with the errors and asked again, up to
        `structured_max_attempts` times (then StructuredOutputError); a refusal raises
        LLMRefusalError and a cut-off reply LLMLengthError."""
        request = {**self.structured_kwargs(output_cls), **kwargs}

        async def chat(conversation: list[ChatMessage]) -> ChatResponse:
            return await self.achat(conversation, **request)

        return await predict_structured(
            chat, output_cls, messages, max_attempts=self.structured_max_attempts
        )
