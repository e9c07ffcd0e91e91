"""`chat {model}` spans (agents.llm.spans) from every client, at the wire (respx): the GenAI
conventions' request, response and usage attributes, failures, and message contents only
when they are recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import anthropic_wire
import openai
import pytest
import respx
from llama_index.core.llms import ChatMessage as LlamaChatMessage
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llm_wire import calls_reply, completion, text_reply, usage
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel
from span_text import recorded_text
from wire_mock import mock_wire

from agents.llm import Anthropic, ChatMessage, ImagePart, TextPart, ToolCallPart
from agents.llm.anthropic.tool_specs import output_tool_name
from agents.llm.llama_index_llm import LlamaIndexLLM
from agents.llm.openai.client import OpenAI

CONVERSATION = [
    ChatMessage.system("Be brief."),
    ChatMessage.user([TextPart(text="Look:"), ImagePart(url="https://x.test/a.png")]),
    ChatMessage.assistant(None, [ToolCallPart.from_raw("c1", "weather", '{"city": "Oslo"}')]),
    ChatMessage.tool("rain", tool_call_id="c1"),
]


@pytest.fixture
def anthropic_api() -> Iterator[respx.MockRouter]:
    with mock_wire(base_url=anthropic_wire.BASE_URL, assert_all_called=True) as router:
        yield router


def only_span(spans: InMemorySpanExporter) -> ReadableSpan:
    (span,) = spans.get_finished_spans()
    return span


def attributes(span: ReadableSpan) -> dict[str, Any]:
    assert span.attributes is not None
    return dict(span.attributes)


async def test_an_openai_call_is_a_client_span_with_every_attribute(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").respond(
        200, json=completion("Hi.", model="gpt-4o-mini-2024-07-18")
    )
    client = OpenAI(
        "gpt-4o-mini",
        api_key="sk-test",
        base_url=llm.client.base_url,
        temperature=0.2,
        max_tokens=50,
    )
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("step call_llm") as parent:
        await client.achat([ChatMessage.user("hi")], top_p=0.9, seed=7, stop=["END"])
    span = next(s for s in captured_spans.get_finished_spans() if s.name.startswith("chat"))
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id
    assert attributes(span) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.output.type": "text",
        "server.address": "llm.test",
        "server.port": 443,
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_an_openai_stream_is_one_span_with_the_last_chunks_usage(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").mock(
        return_value=calls_reply(("c1", "add", '{"a": 1}'), ("c2", "add", '{"a": 2}'), prompt=30)
    )
    items = [item async for item in llm.astream_chat([ChatMessage.user("add")])]
    assert len(items[-1].message.tool_calls) == 2
    values = attributes(only_span(captured_spans))
    assert values["gen_ai.response.id"] == "chatcmpl-1"
    assert values["gen_ai.response.model"] == "gpt-4o-mini"
    assert values["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert (values["gen_ai.usage.input_tokens"], values["gen_ai.usage.output_tokens"]) == (30, 6)
    assert "gen_ai.input.messages" not in values
    assert "gen_ai.output.messages" not in values


async def test_a_stream_left_early_ends_its_span_unfailed(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").mock(return_value=text_reply("a", "b", "c"))
    stream = llm.astream_chat([ChatMessage.user("hi")])
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    span = only_span(captured_spans)
    assert span.status.status_code is StatusCode.UNSET


async def test_a_failed_call_is_a_failed_span_with_the_error_type(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").respond(
        400, json={"error": {"message": "bad model", "type": "invalid_request_error"}}
    )
    with pytest.raises(openai.BadRequestError):
        await llm.achat([ChatMessage.user("hi")])
    span = only_span(captured_spans)
    assert attributes(span)["error.type"] == "BadRequestError"
    assert span.status.status_code is StatusCode.ERROR
    assert "exception" in [event.name for event in span.events]
    assert "gen_ai.response.id" not in attributes(span)


async def test_an_error_quoting_the_prompt_leaves_it_out_of_the_span(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    message = "This model's context is too long: 'card 4111-1111-SECRET'"
    api.post("/chat/completions").respond(
        400, json={"error": {"message": message, "type": "invalid_request_error"}}
    )
    with pytest.raises(openai.BadRequestError, match="SECRET"):
        await llm.achat([ChatMessage.user("card 4111-1111-SECRET")])
    span = only_span(captured_spans)
    assert "SECRET" not in recorded_text(span)
    assert span.status.description == "BadRequestError"
    (event,) = span.events
    assert dict(event.attributes or {}) == {"exception.type": "BadRequestError"}


async def test_a_failed_stream_is_a_failed_span(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").respond(
        400, json={"error": {"message": "bad model", "type": "invalid_request_error"}}
    )
    with pytest.raises(openai.BadRequestError):
        async for _ in llm.astream_chat([ChatMessage.user("hi")]):
            pass
    assert attributes(only_span(captured_spans))["error.type"] == "BadRequestError"


async def test_contents_recorded_in_the_conventions_shape(
    api: respx.MockRouter,
    llm: OpenAI,
    captured_spans: InMemorySpanExporter,
    content_recorded: None,
) -> None:
    api.post("/chat/completions").mock(return_value=text_reply("It ", "rains."))
    async for _ in llm.astream_chat(CONVERSATION):
        pass
    values = attributes(only_span(captured_spans))
    assert json.loads(values["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert json.loads(values["gen_ai.input.messages"]) == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Look:"},
                {"type": "uri", "modality": "image", "uri": "https://x.test/a.png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "c1", "name": "weather", "arguments": {"city": "Oslo"}}
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "rain"}]},
    ]
    assert json.loads(values["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "It rains."}],
            "finish_reason": "stop",
        }
    ]


async def test_an_anthropic_call_and_stream_are_spans(
    anthropic_api: respx.MockRouter, captured_spans: InMemorySpanExporter
) -> None:
    anthropic_api.post(anthropic_wire.MESSAGES).mock(
        side_effect=[
            anthropic_wire.whole(anthropic_wire.text("Hi."), input_tokens=20, output_tokens=3),
            anthropic_wire.streamed(
                anthropic_wire.tool_use("tu_1", "weather", {"city": "Oslo"}),
                input_tokens=25,
                output_tokens=9,
            ),
        ]
    )
    llm = Anthropic(
        anthropic_wire.MODEL,
        api_key="sk-ant-test",
        base_url=anthropic_wire.BASE_URL,
        max_retries=0,
        temperature=0.5,
        max_tokens=300,
    )
    await llm.achat([ChatMessage.user("hi")])
    async for _ in llm.astream_chat([ChatMessage.user("weather?")], top_k=5):
        pass
    finished = captured_spans.get_finished_spans()
    whole, streamed = [span for span in finished if span.name.startswith("chat")]
    # The SDK traces its API calls too: under ours, which is current while a request goes out.
    sdk_spans = [span for span in finished if span.name == "anthropic.messages.create"]
    assert [span.parent.span_id for span in sdk_spans if span.parent] == [
        whole.context.span_id,
        streamed.context.span_id,
    ]
    for span in (whole, streamed):
        assert span.name == f"chat {anthropic_wire.MODEL}"
        assert span.kind is SpanKind.CLIENT
        values = attributes(span)
        assert values["gen_ai.provider.name"] == "anthropic"
        assert values["gen_ai.request.model"] == anthropic_wire.MODEL
        assert values["gen_ai.request.temperature"] == 0.5
        assert values["gen_ai.request.max_tokens"] == 300
        assert values["gen_ai.response.id"] == "msg_01XFDUDYJgAACzvnptvVoYEL"
        assert values["gen_ai.response.model"] == anthropic_wire.MODEL
        assert values["server.address"] == "anthropic.test"
    assert attributes(whole)["gen_ai.response.finish_reasons"] == ("stop",)
    usage = attributes(whole)
    assert (usage["gen_ai.usage.input_tokens"], usage["gen_ai.usage.output_tokens"]) == (20, 3)
    assert attributes(streamed)["gen_ai.request.top_k"] == 5
    assert attributes(streamed)["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert attributes(streamed)["gen_ai.usage.output_tokens"] == 9


class Answer(BaseModel):
    value: int


async def test_structured_output_is_json_and_cached_tokens_are_counted(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    reply = completion('{"value": 3}')
    reply["usage"] = usage(prompt=40, completion=5, cached=32)
    api.post("/chat/completions").respond(200, json=reply)
    assert await llm.astructured_predict(Answer, [ChatMessage.user("3?")]) == Answer(value=3)
    values = attributes(only_span(captured_spans))
    assert values["gen_ai.output.type"] == "json"
    assert values["gen_ai.usage.cache_read.input_tokens"] == 32
    assert values["gen_ai.usage.input_tokens"] == 40


async def test_no_cached_tokens_no_cache_attribute(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").respond(200, json=completion("Hi."))
    await llm.achat([ChatMessage.user("hi")])
    assert "gen_ai.usage.cache_read.input_tokens" not in attributes(only_span(captured_spans))


async def test_anthropic_structured_output_is_json(
    anthropic_api: respx.MockRouter, captured_spans: InMemorySpanExporter
) -> None:
    llm = Anthropic(
        anthropic_wire.MODEL, api_key="k", base_url=anthropic_wire.BASE_URL, max_retries=0
    )
    anthropic_api.post(anthropic_wire.MESSAGES).mock(
        return_value=anthropic_wire.whole(
            anthropic_wire.tool_use("tu_1", output_tool_name(Answer), {"value": 3}),
            stop_reason="tool_use",
            cache_read=7,
        )
    )
    assert await llm.astructured_predict(Answer, [ChatMessage.user("3?")]) == Answer(value=3)
    finished = captured_spans.get_finished_spans()
    (span,) = [span for span in finished if span.name.startswith("chat")]
    assert attributes(span)["gen_ai.output.type"] == "json"
    assert attributes(span)["gen_ai.usage.cache_read.input_tokens"] == 7


async def test_an_anthropic_failure_is_a_failed_span(
    anthropic_api: respx.MockRouter, captured_spans: InMemorySpanExporter
) -> None:
    anthropic_api.post(anthropic_wire.MESSAGES).respond(
        401, json={"type": "error", "error": {"type": "authentication_error", "message": "no"}}
    )
    llm = Anthropic(api_key="sk-ant-test", base_url=anthropic_wire.BASE_URL, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        await llm.achat([ChatMessage.user("hi")])
    (span,) = [span for span in captured_spans.get_finished_spans() if span.name.startswith("chat")]
    assert attributes(span)["error.type"] == "AuthenticationError"
    assert span.status.status_code is StatusCode.ERROR


async def test_a_llamaindex_llm_call_is_a_span(captured_spans: InMemorySpanExporter) -> None:
    def reply(messages: Any, **kwargs: Any) -> LlamaChatMessage:
        return LlamaChatMessage(role="assistant", content="It rains.")

    wrapped = MockFunctionCallingLLM(response_generator=reply)
    llm = LlamaIndexLLM(wrapped)
    await llm.achat([ChatMessage.user("weather?")])
    async for _ in llm.astream_chat([ChatMessage.user("weather?")]):
        pass
    spans = captured_spans.get_finished_spans()
    assert len(spans) == 2
    for span in spans:
        assert span.name == f"chat {wrapped.metadata.model_name}"
        values = attributes(span)
        assert values["gen_ai.provider.name"] == "llama_index"
        assert values["gen_ai.request.model"] == wrapped.metadata.model_name
        assert values["gen_ai.response.finish_reasons"] == ("stop",)


async def test_a_llamaindex_llm_failure_is_a_failed_span(
    captured_spans: InMemorySpanExporter,
) -> None:
    def fail(messages: Any, **kwargs: Any) -> LlamaChatMessage:
        raise ConnectionError("server gone")

    llm = LlamaIndexLLM(MockFunctionCallingLLM(response_generator=fail))
    with pytest.raises(ConnectionError):
        await llm.achat([ChatMessage.user("weather?")])
    span = only_span(captured_spans)
    assert attributes(span)["error.type"] == "ConnectionError"
    assert span.status.status_code is StatusCode.ERROR


@pytest.mark.parametrize(
    ("package", "provider"),
    [
        ("mistralai", "mistral_ai"),
        ("azure_openai", "azure.ai.openai"),
        ("bedrock_converse", "aws.bedrock"),
        ("vertex", "gcp.vertex_ai"),
        ("google_genai", "gcp.gen_ai"),
        ("ibm", "ibm.watsonx.ai"),
        ("ollama", "ollama"),
    ],
)
def test_a_llama_index_integration_is_named_by_the_conventions_value(
    package: str, provider: str
) -> None:
    integration = type(
        "Integration", (MockFunctionCallingLLM,), {"__module__": f"llama_index.llms.{package}.base"}
    )
    assert LlamaIndexLLM(integration()).provider_name == provider
