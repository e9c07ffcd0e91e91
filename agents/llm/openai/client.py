"""`OpenAI`: the `LLM` protocol over the official SDK's `AsyncOpenAI`.

Works with OpenAI and with any OpenAI-compatible server (`base_url`). The key and base URL
come from `OPENAI_API_KEY` and `OPENAI_BASE_URL` when not given; `from_env()` reads the
timeout, retries and concurrency limit too (`settings`). Retries follow the SDK's
rules: connection errors, 408, 409, 429 and 5xx are sent again `max_retries` times with
exponential backoff, or after the wait the server asks for in `Retry-After`/`retry-after-ms`
(up to two minutes); when they run out the SDK's own error (`openai.RateLimitError`,
`openai.InternalServerError`, ...) is raised. A request that timed out is not sent again
unless `retry_timeouts=True` (one that timed out before it went out, waiting to connect, is
a connection error), and raises `OpenAITimeoutError` (`retries`), as does a stream
that stalls part-way; a stream whose connection is cut raises `openai.APIConnectionError`
(with openai 2.x as with 3.x: `transport`).
`max_concurrency` keeps requests beyond that many to one server waiting in this process,
before the timeout starts (`server_slots`).
A 200 reply that is not a chat completion (a web page, broken JSON, a body where a stream
was asked for, a stream without a chunk) raises `UnexpectedResponseError` (`replies`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any

import openai
from pydantic import BaseModel

from agents.llm.client_settings import checked_setting, from_env_settings, server_from_env
from agents.llm.errors import EmptyResponseError, LLMConfigurationError
from agents.llm.openai.messages import (
    finish_reason_from,
    from_openai_message,
    from_openai_usage,
    to_openai_messages,
)
from agents.llm.openai.models import (
    DEFAULT_CONTEXT_WINDOW,
    is_reasoning_model,
    known_context_window,
)
from agents.llm.openai.replies import (
    chunkless_stream,
    completion_from,
    stream_from,
    undecodable_event,
)
from agents.llm.openai.retries import OpenAITimeoutError, RetryRules, send_with_retries
from agents.llm.openai.settings import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENVIRONMENT_VARIABLES,
)
from agents.llm.openai.stream_accumulator import StreamAccumulator
from agents.llm.openai.strict_schema import response_format_for
from agents.llm.openai.tokens import count_prompt, count_reply
from agents.llm.openai.tool_specs import to_openai_tools
from agents.llm.openai.transport import raised_as_sdk_errors
from agents.llm.protocol import LLMMetadata, OutputT, ToolChoice
from agents.llm.server_slots import held, slots_for
from agents.llm.spans import chat_span, recorded_stream
from agents.llm.structured import predict_with
from agents.llm.types import ChatMessage, ChatResponse

_DEFAULT_MODEL = "gpt-4o-mini"


def _refuse_with_client(**settings: object) -> None:
    """Raise `LLMConfigurationError` for the first setting given (not None) along with a
    `client`: a client given is used as it is."""
    for name, value in settings.items():
        if value is None:
            continue
        where = (
            "the AsyncOpenAI given as client sends timed-out requests again by its own max_retries"
            if name == "retry_timeouts"
            else f"pass {name} to the AsyncOpenAI given as client"
        )
        raise LLMConfigurationError(f"OpenAI got both client and {name}: {where}")


class OpenAI:
    """A chat model served by OpenAI or an OpenAI-compatible server.

    ```python
    llm = OpenAI("gpt-4o-mini")
    reply = await llm.achat([ChatMessage.user("hello")])
    async for step in llm.astream_chat(messages, tools=[search_tool]):
        print(step.delta, end="")
    ```
    """

    provider_name = "openai"
    """`gen_ai.provider.name` on this client's spans (an OpenAI-compatible server's too)."""

    def __init__(
        self,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        *,
        max_concurrency: int | None = None,
        retry_timeouts: bool = False,
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
        certificates, headers or a test transport.

        `timeout` (default 60) is the SDK's: seconds to wait for the server, for a stream
        between two chunks. `max_retries` (default 3) is how many times a request is sent
        again after a connection error or a 408, 409, 429 or 5xx; a request that timed out
        is sent again only with `retry_timeouts=True`, as the reply would take as long the
        next time. `max_concurrency` is how many requests may be in flight to this server at
        once, shared by every client of its base URL with a limit (in one event loop): the
        others wait in this process, where their timeout has not started yet.

        `client` replaces the `AsyncOpenAI` this would build, with its own `http_client`,
        `timeout` and retries (the SDK's, which send timed-out requests again)."""
        if client is not None:
            _refuse_with_client(
                http_client=http_client,
                timeout=timeout,
                max_retries=max_retries,
                retry_timeouts=retry_timeouts or None,
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
        if client is None:
            seconds = checked_setting("timeout", DEFAULT_TIMEOUT if timeout is None else timeout)
            retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
            self._retry_rules = RetryRules(checked_setting("max_retries", retries), retry_timeouts)
            # The SDK's retries off: `send_with_retries` runs them (it leaves timeouts out).
            client = openai.AsyncOpenAI(
                api_key=api_key,
                base_url=base_url,
                timeout=seconds,
                max_retries=0,
                http_client=http_client,
            )
        else:
            self._retry_rules = RetryRules(max_retries=0)  # the given client's own apply
        self.client = client
        """The SDK client requests go through."""
        self._slots = slots_for(str(client.base_url), max_concurrency)
        self._metadata = LLMMetadata(
            model=model,
            context_window=context_window or known_context_window(model) or DEFAULT_CONTEXT_WINDOW,
            is_function_calling_model=is_function_calling_model,
            max_output_tokens=max_tokens,
        )

    @classmethod
    def from_env(cls, model: str | None = None, **kwargs: Any) -> OpenAI:
        """The model the environment names: `OPENAI_API_KEY` (for OpenAI), `OPENAI_BASE_URL`
        (for an OpenAI-compatible server; a key is then optional), `OPENAI_MODEL` (default
        gpt-4o-mini, unless `model` is given), and the client's `OPENAI_TIMEOUT` (seconds),
        `OPENAI_MAX_RETRIES` and `OPENAI_MAX_CONCURRENCY` when set. `kwargs` go to the
        constructor and win over the environment (a None among them counts as not given);
        a `client` among them keeps its own timeout and retries, as it keeps its key and URL.

        Raises `LLMConfigurationError`, saying what to set, when neither a key nor a base
        URL is set (scripts can print that instead of the SDK's error at the first call),
        and naming the variable and its value when one of the client's is not a number it
        can be."""
        api_key, base_url = server_from_env(
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "no model server is configured: set OPENAI_API_KEY (for OpenAI) or "
            "OPENAI_BASE_URL (for an OpenAI-compatible server), and optionally "
            f"OPENAI_MODEL (default {_DEFAULT_MODEL})",
        )
        chosen = model or os.environ.get("OPENAI_MODEL") or _DEFAULT_MODEL
        settings = from_env_settings(ENVIRONMENT_VARIABLES, kwargs)
        return cls(chosen, api_key=api_key, base_url=base_url, **settings)

    @property
    def metadata(self) -> LLMMetadata:
        """The model, its context window and whether it takes tools."""
        return self._metadata

    async def _create(self, request: dict[str, Any]) -> tuple[Any, int]:
        """The SDK's raw response to `request`, and how many times it was sent."""
        return await send_with_retries(
            lambda: self.client.chat.completions.with_raw_response.create(**request),
            self._retry_rules,
            self._timed_out,
        )

    def _timed_out(
        self, error: openai.APITimeoutError, attempts: int, streaming: bool = False
    ) -> OpenAITimeoutError:
        return OpenAITimeoutError(
            error,
            str(self.client.base_url),
            attempts,
            streaming=streaming,
            without_concurrency_limit=self._slots is None,
        )

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
        """The model's reply. Malformed tool arguments are flagged on the `ToolCallPart`; a
        refusal or `length` finish is reported on the response (`refused`, `truncated`)."""
        request = self._request(messages, tools, tool_choice, kwargs)
        with chat_span(
            self.provider_name, self.model, request, messages, str(self.client.base_url)
        ) as span:
            async with held(self._slots):
                with span.sending():
                    raw, _ = await self._create(request)
            completion = completion_from(raw, str(self.client.base_url))
            if not completion.choices:
                raise EmptyResponseError(self.model)
            choice = completion.choices[0]
            message = from_openai_message(choice.message)
            response = ChatResponse(
                message=message,
                delta=message.text,
                usage=from_openai_usage(completion.usage),
                finish_reason=finish_reason_from(choice.finish_reason),
                raw=completion,
            )
            span.record(response, completion.id, completion.model)
        return response

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
        base_url = str(self.client.base_url)
        span = chat_span(self.provider_name, self.model, request, messages, base_url)
        items = recorded_stream(span, self._stream(request, base_url, span.sending), _chunk_ids)
        # aclosing: a caller that stops reading closes the stream (and its slot) now.
        async with contextlib.aclosing(items) as stream:
            async for response in stream:
                yield response

    async def _stream(
        self,
        request: dict[str, Any],
        base_url: str,
        sending: Callable[[], contextlib.AbstractContextManager[Any]],
    ) -> AsyncGenerator[ChatResponse, None]:
        """`astream_chat`'s items; `sending()` is entered while the request goes out."""
        accumulator = StreamAccumulator()
        usage = None
        read_any = False  # a chunk with a choice or usage: a stream without one is no reply
        async with held(self._slots):  # held until the stream ends: the server is still busy
            with sending():
                raw, attempts = await self._create(request)
            stream = await stream_from(raw, base_url)
            async with stream:
                try:
                    # openai 2.x lets the HTTP client's errors out of a stream, 3.x raises its
                    # own: the same under both (a timeout caught as the SDK's, below).
                    with raised_as_sdk_errors(raw.http_response.request):
                        async for chunk in stream:
                            # Some servers leave `choices` out of the last chunk (the one with
                            # usage).
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
                except openai.APITimeoutError as error:
                    raise self._timed_out(error, attempts, streaming=True) from error
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
        `response_format` (`StrictSchemaError` for a class strict mode cannot express)."""
        return {"response_format": response_format_for(output_cls)}

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The request's prompt tokens, counted with tiktoken by OpenAI's rules (`tokens`)."""
        return count_prompt(messages, self.model, tools)

    def count_reply_tokens(self, message: ChatMessage) -> int:
        """The tokens of `message`'s text and tool calls, counted with tiktoken."""
        return count_reply(message, self.model)

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
        return await predict_with(self, output_cls, messages, kwargs)


def _chunk_ids(response: ChatResponse) -> tuple[str | None, str | None]:
    """The reply's id and model, from a chunk (None for the last item the stream makes)."""
    return getattr(response.raw, "id", None), getattr(response.raw, "model", None)
