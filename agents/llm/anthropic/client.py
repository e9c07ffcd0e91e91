"""`Anthropic`: the `LLM` protocol over the official SDK's `AsyncAnthropic` (Messages API).

The key and base URL come from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` when not given
(the SDK reads them); `from_env()` reads the model and `ANTHROPIC_TIMEOUT` too. Requests go
through the SDK, with its retries (connection errors, 408, 409, 429, 5xx and 529 overloaded,
`max_retries` times with backoff or after the server's `retry-after`); when they run out the
SDK's own error is raised (`anthropic.RateLimitError`, `anthropic.InternalServerError`, ...),
as `OpenAI` raises openai's. A timeout is `AnthropicTimeoutError`, an `LLMTimeoutError` that
is also `anthropic.APITimeoutError`. `max_concurrency` keeps requests beyond that many to one
server waiting in this process (`server_slots`), as `OpenAI`'s does.

What the Messages API says differently (the system prompt, tool results, stop sequences,
`max_tokens`, which the API requires) is translated in `messages` and `tool_specs`;
structured output is a forced tool whose input becomes the reply's text (`tool_specs`).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from agentflow.extras import extra_needed

with extra_needed("anthropic", "agents.llm.Anthropic"):
    import anthropic

from agents.llm.anthropic.errors import AnthropicTimeoutError
from agents.llm.anthropic.messages import (
    from_anthropic_message,
    from_anthropic_usage,
    to_anthropic_messages,
)
from agents.llm.anthropic.stream_accumulator import StreamAccumulator
from agents.llm.anthropic.tokens import estimate_prompt
from agents.llm.anthropic.tool_specs import (
    OUTPUT_CLS,
    output_tool,
    output_tool_name,
    to_anthropic_tool_choice,
    to_anthropic_tools,
)
from agents.llm.client_settings import checked_setting, from_env_settings, server_from_env
from agents.llm.errors import EmptyResponseError, LLMConfigurationError
from agents.llm.protocol import LLMMetadata, OutputT, ToolChoice
from agents.llm.server_slots import held, slots_for
from agents.llm.spans import chat_span, recorded_stream
from agents.llm.structured import predict_with
from agents.llm.token_counts import estimate_reply
from agents.llm.types import ChatMessage, ChatResponse

DEFAULT_MODEL = "claude-sonnet-4-5"
DEFAULT_MAX_TOKENS = 4096
"""The reply limit sent when none is given: the Messages API requires one."""
_CONTEXT_WINDOW = 200_000
# OpenAI's names for parameters the Messages API names otherwise.
_RENAMED = {"stop": "stop_sequences", "max_completion_tokens": "max_tokens"}


class Anthropic:
    """A Claude model served by Anthropic's Messages API.

    ```python
    llm = Anthropic("claude-sonnet-4-5")
    reply = await llm.achat([ChatMessage.user("hello")])
    async for step in llm.astream_chat(messages, tools=[search_tool]):
        print(step.delta, end="")
    ```
    """

    provider_name = "anthropic"
    """`gen_ai.provider.name` on this client's spans."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        timeout: float | None = None,
        max_retries: int | None = None,
        *,
        max_concurrency: int | None = None,
        context_window: int = _CONTEXT_WINDOW,
        structured_max_attempts: int = 3,
        additional_kwargs: Mapping[str, Any] | None = None,
        client: anthropic.AsyncAnthropic | None = None,
        # Any: the SDK's type is its HTTP client's (httpx or httpx2, by version).
        http_client: Any = None,
    ) -> None:
        """`max_tokens` limits the reply (the API requires a limit); `additional_kwargs` go
        to every request (`top_k`, `thinking`, `metadata`, ...). `timeout` (seconds; the
        SDK's default when None) and `max_retries` (the SDK's default, 2, when None) are
        the SDK's, checked here as `OpenAI`'s are; `client` replaces the `AsyncAnthropic` this
        would build. `max_concurrency` (a whole number, 1 or more) is how many requests may
        be in flight to this server at once; the others wait in this process."""
        if client is not None and (timeout, max_retries, http_client) != (None, None, None):
            raise LLMConfigurationError(
                "Anthropic got both client and timeout, max_retries or http_client: pass them "
                "to the AsyncAnthropic given as client"
            )
        self.model = model
        """The model's name as the API knows it."""
        self.temperature = temperature
        """Sampling temperature; None for the API's default."""
        self.max_tokens = max_tokens
        """Reply token limit."""
        self.structured_max_attempts = structured_max_attempts
        """How many times `astructured_predict` asks before giving up."""
        self.additional_kwargs = dict(additional_kwargs or {})
        """Extra parameters sent with every request."""
        if client is None:
            options: dict[str, Any] = {"api_key": api_key, "base_url": base_url}
            if timeout is not None:
                options["timeout"] = checked_setting("timeout", timeout)
            if max_retries is not None:
                options["max_retries"] = checked_setting("max_retries", max_retries)
            if http_client is not None:
                options["http_client"] = http_client
            client = anthropic.AsyncAnthropic(**options)
        self.client = client
        """The SDK client requests go through."""
        self._slots = slots_for(str(client.base_url), max_concurrency)
        self._metadata = LLMMetadata(
            model=model,
            context_window=context_window,
            is_function_calling_model=True,
            max_output_tokens=max_tokens,
        )

    @classmethod
    def from_env(cls, model: str | None = None, **kwargs: Any) -> Anthropic:
        """The model the environment names: `ANTHROPIC_API_KEY` (or `ANTHROPIC_BASE_URL`
        for a compatible server), `ANTHROPIC_MODEL` (default claude-sonnet-4-5, unless
        `model` is given) and `ANTHROPIC_TIMEOUT` (seconds) when set; `kwargs` go to the
        constructor and win over the environment; a `client` among them keeps its own
        timeout, as it keeps its key and URL (`client_settings.from_env_settings`, as
        `OpenAI.from_env`). Raises `LLMConfigurationError` saying
        what to set when neither a key nor a base URL is set, and naming the variable and
        its value when the timeout is not a positive number."""
        api_key, base_url = server_from_env(
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "no Anthropic model is configured: set ANTHROPIC_API_KEY (or "
            "ANTHROPIC_BASE_URL for a compatible server), and optionally ANTHROPIC_MODEL "
            f"(default {DEFAULT_MODEL})",
        )
        settings = from_env_settings({"timeout": "ANTHROPIC_TIMEOUT"}, kwargs)
        settings = {"api_key": api_key, "base_url": base_url, **settings}
        return cls(model or os.environ.get("ANTHROPIC_MODEL") or DEFAULT_MODEL, **settings)

    @property
    def metadata(self) -> LLMMetadata:
        """The model, its context window and reply limit."""
        return self._metadata

    def _request(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None,
        tool_choice: ToolChoice | None,
        kwargs: Mapping[str, Any],
    ) -> tuple[dict[str, Any], str | None]:
        """The request's parameters, and the output tool's name when it asks for a class."""
        options = {_RENAMED.get(name, name): value for name, value in kwargs.items()}
        output_cls: type[BaseModel] | None = options.pop(OUTPUT_CLS, None)
        parallel = options.pop("parallel_tool_calls", None)
        system, wire = to_anthropic_messages(messages)
        request: dict[str, Any] = {"model": self.model, "messages": wire}
        request["max_tokens"] = self.max_tokens
        if system is not None:
            request["system"] = system
        if self.temperature is not None:
            request["temperature"] = self.temperature
        specs = to_anthropic_tools(tools or [])
        output = None
        if output_cls is not None:
            output = output_tool_name(output_cls)
            specs.append(output_tool(output_cls))
        if specs:
            request["tools"] = specs
            choice = to_anthropic_tool_choice(tool_choice, output, other_tools=bool(tools))
            if parallel is False and (choice is None or choice["type"] != "none"):
                choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
            if choice is not None:
                request["tool_choice"] = choice
        request.update(self.additional_kwargs)
        request.update(options)
        return _with_extra_body(request), output

    def _timed_out(
        self, error: anthropic.APITimeoutError, streaming: bool
    ) -> AnthropicTimeoutError:
        return AnthropicTimeoutError(error, str(self.client.base_url), streaming)

    async def achat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> ChatResponse:
        """The model's reply: its text, its tool calls (several when it calls tools in
        parallel), the finish reason and usage. A refusal or a `max_tokens` stop is
        reported on the response (`refused`, `truncated`)."""
        request, output = self._request(messages, tools, tool_choice, kwargs)
        with chat_span(
            self.provider_name,
            self.model,
            request,
            messages,
            str(self.client.base_url),
            json_output=bool(output),
        ) as span:
            try:
                async with held(self._slots):
                    with span.sending():
                        reply = await self.client.messages.create(**request)
            except anthropic.APITimeoutError as error:
                raise self._timed_out(error, streaming=False) from error
            if reply.content is None:
                raise EmptyResponseError(self.model)
            message, finish = from_anthropic_message(reply.content, reply.stop_reason, output)
            response = ChatResponse(
                message=message,
                delta=message.text,
                usage=from_anthropic_usage(reply.usage),
                finish_reason=finish,
                raw=reply,
            )
            span.record(response, reply.id, reply.model)
        return response

    async def astream_chat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[ChatResponse, None]:
        """The reply as it arrives: one item per event, `delta` the new text, `message` all
        so far (each tool call's arguments parsed once its block has ended). The item of
        `message_delta` carries the finish reason and usage."""
        request, output = self._request(messages, tools, tool_choice, kwargs)
        base_url = str(self.client.base_url)
        span = chat_span(
            self.provider_name, self.model, request, messages, base_url, json_output=bool(output)
        )
        items = recorded_stream(span, self._stream(request, output, span.sending), _started_ids)
        # aclosing: a caller that stops reading closes the stream (and its slot) now.
        async with contextlib.aclosing(items) as stream:
            async for response in stream:
                yield response

    async def _stream(
        self,
        request: dict[str, Any],
        output: str | None,
        sending: Callable[[], contextlib.AbstractContextManager[Any]],
    ) -> AsyncGenerator[ChatResponse, None]:
        """`astream_chat`'s items; `sending()` is entered while the request goes out."""
        accumulator = StreamAccumulator(output)
        try:
            async with held(self._slots):  # held until the stream ends: the server is still busy
                with sending():
                    stream = await self.client.messages.create(**request, stream=True)
                async with stream:
                    async for event in stream:
                        delta = accumulator.add(event)
                        message, finish = accumulator.message()
                        usage = accumulator.usage if event.type == "message_delta" else None
                        yield ChatResponse(
                            message=message,
                            delta=delta,
                            usage=usage,
                            finish_reason=finish,
                            raw=event,
                        )
        except anthropic.APITimeoutError as error:
            raise self._timed_out(error, streaming=True) from error
        if accumulator.stop_reason is None:
            # The stream ended without a stop reason (a cut connection): one more item with
            # the calls' arguments parsed, so the last item never holds unparsed calls.
            final, _ = accumulator.message(final=True)
            yield ChatResponse(message=final, delta="", usage=accumulator.usage)

    def structured_kwargs(self, output_cls: type[BaseModel]) -> dict[str, Any]:
        """The request parameters asking for `output_cls`: the output tool, which the model
        is made to call; its input is the reply's text (see `tool_specs`)."""
        return {OUTPUT_CLS: output_cls}

    async def astructured_predict(
        self,
        output_cls: type[OutputT],
        messages: Sequence[ChatMessage],
        **kwargs: Any,
    ) -> OutputT:
        """An `output_cls` instance, asked for through the output tool. A reply that fails
        validation is sent back with the errors and asked again, up to
        `structured_max_attempts` times (then StructuredOutputError); a refusal raises
        LLMRefusalError and a cut-off reply LLMLengthError."""
        return await predict_with(self, output_cls, messages, kwargs)

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The request's prompt tokens, estimated (`tokens`)."""
        return estimate_prompt(messages, tools)

    def count_reply_tokens(self, message: ChatMessage) -> int:
        """The tokens of `message`'s text and tool calls, estimated (`tokens`)."""
        return estimate_reply(message)


@functools.cache
def _create_parameters() -> frozenset[str]:
    from anthropic.resources.messages import AsyncMessages

    return frozenset(inspect.signature(AsyncMessages.create).parameters)


def _with_extra_body(request: dict[str, Any]) -> dict[str, Any]:
    """`request` with the parameters the installed SDK's `messages.create` does not name
    (`temperature` in some releases, newer API fields in older ones) moved into its
    `extra_body`, which the SDK sends as they are: the API takes them either way."""
    known = _create_parameters()
    extra = {name: request.pop(name) for name in list(request) if name not in known}
    if extra:
        request["extra_body"] = {**request.get("extra_body", {}), **extra}
    return request


def _started_ids(response: ChatResponse) -> tuple[str | None, str | None]:
    """The reply's id and model, which `message_start`'s item carries."""
    started = getattr(response.raw, "message", None)
    return getattr(started, "id", None), getattr(started, "model", None)
