"""`chat {model}` spans: one per LLM call, by OpenTelemetry's GenAI conventions.

Each client (`OpenAI`, `Anthropic`, `LlamaIndexLLM`) wraps a call, streamed or not, in
`chat_span(...)` and hands it what the reply said (`ChatSpan.record`); everything the span
holds is decided here, once for all of them:

- on start: `gen_ai.operation.name` "chat", `gen_ai.provider.name`, `gen_ai.request.model`,
  the request parameters that were set (`gen_ai.request.temperature`, `max_tokens`,
  `top_p`, `top_k`, `frequency_penalty`, `presence_penalty`, `seed`, `stop_sequences`,
  `choice.count`), `gen_ai.output.type` ("json" when the call asks for structured output,
  by `response_format` or `json_output`, else "text"), `server.address` and `server.port`;
- on the reply: `gen_ai.response.model`, `gen_ai.response.id`,
  `gen_ai.response.finish_reasons`, `gen_ai.usage.input_tokens` and `output_tokens`, and
  `gen_ai.usage.cache_read.input_tokens` when the server read some from its cache;
- on failure: `error.type` (the exception's class name) and status ERROR
  (`agentflow.tracing.mark_raised`: the error's text only with contents, as it may quote
  the prompt);
- with contents recorded (`agentflow.tracing.content_recorded`): `gen_ai.system_instructions`,
  `gen_ai.input.messages` and `gen_ai.output.messages`, as JSON text (`span_messages`).

The span is the step's child (the current span when the call starts) and is current only
while the request goes out (`ChatSpan.sending`), so that a span the SDK makes of its own
(Anthropic's does) sits under it: a stream's generator may be read and closed from another
context than the one it started in, which must not be left holding the span. Without a tracer
provider `chat_span` gives a recorder that does nothing, and nothing is imported.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, aclosing, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentflow.tracing import active_tracer, content_recorded, mark_raised
from agents.llm.span_messages import input_messages, output_messages, system_instructions
from agents.llm.types import ChatMessage, ChatResponse

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

# A request's parameter -> the attribute it is recorded as (OpenAI's and Anthropic's names).
_REQUEST_ATTRIBUTES = {
    "temperature": "gen_ai.request.temperature",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
    "stop": "gen_ai.request.stop_sequences",
    "stop_sequences": "gen_ai.request.stop_sequences",
    "n": "gen_ai.request.choice.count",
}


class ChatSpan:
    """What one LLM call's span records; the reply's values are written when it ends."""

    def __init__(self, span: Span | None, messages: Sequence[ChatMessage]) -> None:
        self._span = span
        self._messages = messages
        self._last: ChatResponse | None = None
        self._usage: Any = None
        self._response_id: str | None = None
        self._response_model: str | None = None

    def record(
        self,
        response: ChatResponse,
        response_id: str | None = None,
        response_model: str | None = None,
    ) -> None:
        """The reply, or a stream's latest item (the last one counts; usage and the ids are
        kept from whichever item carried them)."""
        if self._span is None:
            return
        self._last = response
        self._usage = response.usage or self._usage
        self._response_id = response_id or self._response_id
        self._response_model = response_model or self._response_model

    def sending(self) -> AbstractContextManager[Any]:
        """Around the request going out: the span is current there, so what the SDK or
        its HTTP client traces of the request sits under it (made current only there, as a
        stream's later items may be read from another context)."""
        if self._span is None:
            return nullcontext()
        from opentelemetry.trace import use_span

        return use_span(
            self._span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        )

    def __enter__(self) -> ChatSpan:
        return self

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        span = self._span
        if span is None:
            return
        self._write_reply(span)
        # GeneratorExit: a caller that stopped reading a stream; not a failed call.
        if error is not None and not isinstance(error, GeneratorExit):
            mark_raised(span, error)
        span.end()

    def _write_reply(self, span: Span) -> None:
        if self._response_id is not None:
            span.set_attribute("gen_ai.response.id", self._response_id)
        if self._response_model is not None:
            span.set_attribute("gen_ai.response.model", self._response_model)
        if self._usage is not None:
            span.set_attribute("gen_ai.usage.input_tokens", self._usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", self._usage.completion_tokens)
            if self._usage.cached_tokens:
                span.set_attribute(
                    "gen_ai.usage.cache_read.input_tokens", self._usage.cached_tokens
                )
        last = self._last
        if last is not None and last.finish_reason is not None:
            span.set_attribute("gen_ai.response.finish_reasons", [last.finish_reason])
        if content_recorded():
            instructions = system_instructions(self._messages)
            if instructions is not None:
                span.set_attribute("gen_ai.system_instructions", instructions)
            span.set_attribute("gen_ai.input.messages", input_messages(self._messages))
            if last is not None:
                span.set_attribute(
                    "gen_ai.output.messages", output_messages(last.message, last.finish_reason)
                )


_UNTRACED = ChatSpan(None, ())


def provider_of(llm: object) -> str:
    """`gen_ai.provider.name` for `llm`: its `provider_name` ("openai", "anthropic", ...),
    else its class's name ("ScriptedLLM"), a custom value as the conventions allow for a
    provider they do not list, so that the attribute they require is always there."""
    name = getattr(llm, "provider_name", None)
    return name if isinstance(name, str) and name else type(llm).__name__


def chat_span(
    provider: str,
    model: str,
    request: Mapping[str, Any],
    messages: Sequence[ChatMessage],
    server_url: str | None = None,
    *,
    json_output: bool = False,
) -> ChatSpan:
    """The span of one call to `model` of `provider` ("openai", "anthropic", ...) with the
    wire `request`'s parameters (an `extra_body` is read too), started now; use it as a
    context manager around the call. `json_output`: the call asks for structured output in
    a way the request does not show (Anthropic's output tool). Does nothing without a
    tracer provider."""
    tracer = active_tracer()
    if tracer is None:
        return _UNTRACED
    span = _start(tracer, provider, model, request, server_url, json_output)
    return ChatSpan(span, messages)


async def recorded_stream(
    span: ChatSpan,
    items: AsyncGenerator[ChatResponse, None],
    reply_ids: Callable[[ChatResponse], tuple[str | None, str | None]],
) -> AsyncGenerator[ChatResponse, None]:
    """A client's stream `items` within `span`: each item recorded, with the reply's id
    and model as `reply_ids` reads them off it; the span ends with the stream, and a caller
    that stops reading closes `items` (its connection and slot) at once."""
    with span:
        async with aclosing(items) as stream:
            async for response in stream:
                span.record(response, *reply_ids(response))
                yield response


def _start(
    tracer: Tracer,
    provider: str,
    model: str,
    request: Mapping[str, Any],
    server_url: str | None,
    json_output: bool,
) -> Span:
    from opentelemetry.trace import SpanKind

    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
    }
    extra = request.get("extra_body")
    parameters = {**request, **extra} if isinstance(extra, Mapping) else request
    for name, attribute in _REQUEST_ATTRIBUTES.items():
        value = parameters.get(name)
        if value is None or (name == "n" and value == 1):
            continue
        attributes[attribute] = [value] if isinstance(value, str) else value
    response_format = parameters.get("response_format")
    asks_json = isinstance(response_format, Mapping) and response_format.get("type") in (
        "json_object",
        "json_schema",
    )
    attributes["gen_ai.output.type"] = "json" if json_output or asks_json else "text"
    if server_url:
        address = urlsplit(server_url)
        if address.hostname:
            attributes["server.address"] = address.hostname
            port = address.port or (443 if address.scheme == "https" else 80)
            attributes["server.port"] = port
    return tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes)
