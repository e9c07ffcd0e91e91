"""agents.llm.Anthropic at the wire (respx, real Messages API shapes): requests, replies,
streams with tool-use deltas, parallel calls, structured output through a forced tool,
usage and errors."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import pytest
import respx
from anthropic_wire import (
    BASE_URL,
    MESSAGES,
    MODEL,
    sent_json,
    streamed,
    text,
    tool_use,
    whole,
)
from pydantic import BaseModel
from wire_mock import mock_wire

from agents.llm import (
    LLM,
    Anthropic,
    ChatMessage,
    ImagePart,
    LLMConfigurationError,
    LLMLengthError,
    LLMTimeoutError,
    StructuredOutputError,
    TextPart,
    ToolCallPart,
    Usage,
)
from tools import tool


def read_timeout(message: str) -> Exception:
    """A read timeout of the HTTP client the SDK sends through (httpx2, else httpx)."""
    try:
        import httpx2
    except ImportError:
        return httpx.ReadTimeout(message)
    return httpx2.ReadTimeout(message)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as router:
        yield router


@pytest.fixture
def llm() -> Anthropic:
    return Anthropic(MODEL, api_key="sk-ant-test", base_url=BASE_URL, max_retries=0)


@tool
def weather(city: str, days: int = 1) -> str:
    """The weather in a city."""
    return f"rain in {city}"


def test_it_is_an_llm_with_the_models_context_window(llm: Anthropic) -> None:
    assert isinstance(llm, LLM)
    assert llm.metadata.model == MODEL
    assert llm.metadata.context_window == 200_000
    assert llm.metadata.max_output_tokens == 4096


async def test_a_reply_with_text_and_parallel_tool_calls(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    route = api.post(MESSAGES).respond(
        200,
        json=whole(
            text("Let me look."),
            tool_use("toolu_01", "weather", {"city": "Oslo"}),
            tool_use("toolu_02", "weather", {"city": "Bergen", "days": 2}),
            input_tokens=30,
            output_tokens=9,
            cache_read=10,
        ).json(),
    )

    reply = await llm.achat(
        [ChatMessage.system("Be brief."), ChatMessage.user("Weather in Oslo and Bergen?")],
        tools=[weather],
    )

    assert reply.message.text == "Let me look."
    assert [(c.id, c.name, c.arguments) for c in reply.message.tool_calls] == [
        ("toolu_01", "weather", {"city": "Oslo"}),
        ("toolu_02", "weather", {"city": "Bergen", "days": 2}),
    ]
    assert reply.finish_reason == "tool_calls"
    assert reply.usage == Usage(
        prompt_tokens=40, completion_tokens=9, cached_tokens=10, total_tokens=49
    )
    sent = sent_json(route.calls.last.request)
    assert sent["system"] == "Be brief."
    assert sent["messages"] == [{"role": "user", "content": "Weather in Oslo and Bergen?"}]
    assert sent["max_tokens"] == 4096
    assert sent["tools"] == [
        {
            "name": "weather",
            "description": "The weather in a city.",
            "input_schema": weather.metadata.get_parameters_dict(),
        }
    ]
    assert "sk-ant-test" in route.calls.last.request.headers["authorization"]


async def test_history_goes_in_the_messages_apis_shape(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    route = api.post(MESSAGES).respond(200, json=whole(text("Done.")).json())
    calls = [
        ToolCallPart.from_raw("toolu_01", "weather", '{"city": "Oslo"}'),
        ToolCallPart.from_raw("toolu_02", "weather", '{"city": "Bergen"'),  # malformed
    ]

    await llm.achat(
        [
            ChatMessage.user([TextPart(text="And this?"), ImagePart(url="https://i/x.png")]),
            ChatMessage.assistant("Looking.", calls),
            ChatMessage.tool("rain", tool_call_id="toolu_01"),
            ChatMessage.tool("Error: bad arguments", tool_call_id="toolu_02"),
            ChatMessage.user("Thanks"),
        ],
        tools=[weather],
        tool_choice={"type": "function", "function": {"name": "weather"}},
        stop=["\nObservation:"],
        temperature=0.2,
    )

    sent = sent_json(route.calls.last.request)
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "And this?"},
                {"type": "image", "source": {"type": "url", "url": "https://i/x.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "weather",
                    "input": {"city": "Oslo"},
                },
                {"type": "tool_use", "id": "toolu_02", "name": "weather", "input": {}},
            ],
        },
        {  # results of one turn and what follows them: one user message, as the API wants
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "rain"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_02",
                    "content": "Error: bad arguments",
                },
                {"type": "text", "text": "Thanks"},
            ],
        },
    ]
    assert sent["tool_choice"] == {"type": "tool", "name": "weather"}
    assert sent["stop_sequences"] == ["\nObservation:"]
    assert sent["temperature"] == 0.2


async def test_a_stream_gives_text_deltas_then_calls_parsed_at_their_blocks_end(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    route = api.post(MESSAGES).mock(
        return_value=streamed(
            text("Checking both cities."),
            tool_use("toolu_01", "weather", {"city": "Oslo"}),
            tool_use("toolu_02", "weather", {"city": "Bergen"}),
            input_tokens=20,
            output_tokens=31,
        )
    )

    items = [item async for item in llm.astream_chat([ChatMessage.user("Weather?")], [weather])]

    assert sent_json(route.calls.last.request)["stream"] is True
    assert "".join(item.delta for item in items) == "Checking both cities."
    partial = [c for item in items for c in item.message.tool_calls if c.raw_arguments == ""]
    assert partial, "a call shows up as soon as its block starts"
    unparsed = [
        c for item in items for c in item.message.tool_calls if c.raw_arguments and not c.arguments
    ]
    assert unparsed, "arguments are not parsed while their JSON is still arriving"
    last = items[-1]
    assert [(c.id, c.arguments) for c in last.message.tool_calls] == [
        ("toolu_01", {"city": "Oslo"}),
        ("toolu_02", {"city": "Bergen"}),
    ]
    assert last.finish_reason == "tool_calls"
    # One item carries the usage (message_delta's), counted once by whoever adds them up.
    assert [item.usage for item in items if item.usage is not None] == [
        Usage(prompt_tokens=20, completion_tokens=31, total_tokens=51)
    ]


class City(BaseModel):
    name: str
    population: int


async def test_structured_output_is_a_forced_tool_and_is_re_asked_until_it_validates(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    route = api.post(MESSAGES).mock(
        side_effect=[
            whole(tool_use("toolu_1", "City", {"name": "Oslo"})),
            whole(tool_use("toolu_2", "City", {"name": "Oslo", "population": 717_710})),
        ]
    )

    city = await llm.astructured_predict(City, [ChatMessage.user("Norway's capital?")])

    assert city == City(name="Oslo", population=717_710)
    first, second = (sent_json(call.request) for call in route.calls)
    assert first["tool_choice"] == {"type": "tool", "name": "City"}
    assert first["tools"][0]["name"] == "City"
    assert first["tools"][0]["input_schema"] == City.model_json_schema()
    # The rejected answer goes back as the model's text, then the validation errors.
    assert second["messages"][1] == {"role": "assistant", "content": '{"name": "Oslo"}'}
    assert "population" in second["messages"][2]["content"]


async def test_structured_output_gives_up_after_its_attempts(api: respx.MockRouter) -> None:
    llm = Anthropic(MODEL, api_key="k", base_url=BASE_URL, structured_max_attempts=2)
    api.post(MESSAGES).mock(
        side_effect=[whole(tool_use(f"toolu_{n}", "City", {"name": "Oslo"})) for n in range(2)]
    )

    with pytest.raises(StructuredOutputError, match="no valid City after 2 attempts"):
        await llm.astructured_predict(City, [ChatMessage.user("Capital?")])


async def test_with_other_tools_the_answer_must_come_through_the_output_tool(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    route = api.post(MESSAGES).mock(
        return_value=streamed(tool_use("toolu_9", "City", {"name": "Oslo", "population": 1}))
    )

    items = [
        item
        async for item in llm.astream_chat(
            [ChatMessage.user("Capital?")], tools=[weather], **llm.structured_kwargs(City)
        )
    ]

    sent = sent_json(route.calls.last.request)
    assert [t["name"] for t in sent["tools"]] == ["weather", "City"]
    assert sent["tool_choice"] == {"type": "any"}
    last = items[-1]
    assert last.message.tool_calls == []  # the output tool's call is the answer's text
    assert City.model_validate_json(last.message.text) == City(name="Oslo", population=1)
    assert "".join(item.delta for item in items) == last.message.text  # streamed as text
    assert last.finish_reason == "stop"


async def test_a_reply_cut_at_max_tokens_is_truncated(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    api.post(MESSAGES).mock(return_value=whole(text("It is"), stop_reason="max_tokens"))

    reply = await llm.achat([ChatMessage.user("Tell me")])

    assert reply.truncated
    with pytest.raises(LLMLengthError):
        reply.raise_for_finish()


async def test_a_refusal_is_reported_as_one(api: respx.MockRouter, llm: Anthropic) -> None:
    api.post(MESSAGES).mock(
        return_value=streamed(text("I can't help with that."), stop_reason="refusal")
    )

    items = [item async for item in llm.astream_chat([ChatMessage.user("Something bad")])]

    assert items[-1].refused
    assert items[-1].message.refusal == "I can't help with that."


async def test_http_errors_are_the_sdks_own(api: respx.MockRouter, llm: Anthropic) -> None:
    api.post(MESSAGES).respond(
        529, json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )

    with pytest.raises(anthropic.InternalServerError, match="Overloaded"):
        await llm.achat([ChatMessage.user("hi")])


async def test_a_timeout_is_an_llm_timeout_error_and_the_sdks(api: respx.MockRouter) -> None:
    llm = Anthropic(MODEL, api_key="k", base_url=BASE_URL, timeout=2.5, max_retries=0)
    api.post(MESSAGES).mock(side_effect=read_timeout("slow"))

    with pytest.raises(LLMTimeoutError) as caught:
        await llm.achat([ChatMessage.user("hi")])

    assert isinstance(caught.value, anthropic.APITimeoutError)
    assert "did not answer within 2.5 s" in str(caught.value)
    assert "ANTHROPIC_TIMEOUT" in str(caught.value)


def test_from_env_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(LLMConfigurationError, match="ANTHROPIC_API_KEY"):
        Anthropic.from_env()

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-haiku-4-5")
    assert Anthropic.from_env().metadata.model == "claude-haiku-4-5"


def test_token_counts_are_estimates_without_a_call(llm: Anthropic) -> None:
    short = llm.count_prompt_tokens([ChatMessage.user("hi")])
    longer = llm.count_prompt_tokens([ChatMessage.user("hi " * 100)], tools=[weather])
    assert 0 < short < longer
    assert llm.count_reply_tokens(ChatMessage.assistant("one two three")) > 0


async def test_parallel_tool_calls_false_is_said_in_the_tool_choice(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    route = api.post(MESSAGES).mock(return_value=whole(text("ok")))

    await llm.achat([ChatMessage.user("hi")], tools=[weather], parallel_tool_calls=False)

    sent = sent_json(route.calls.last.request)
    assert sent["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert "parallel_tool_calls" not in sent


async def test_a_stream_cut_before_its_stop_reason_still_ends_with_parsed_calls(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    from anthropic_wire import sse, stream_events

    events = stream_events(tool_use("toolu_01", "weather", {"city": "Oslo"}))
    cut = [
        event
        for event in events
        if event["type"] not in ("content_block_stop", "message_delta", "message_stop")
    ]
    api.post(MESSAGES).mock(return_value=sse(cut))

    items = [item async for item in llm.astream_chat([ChatMessage.user("Weather?")], [weather])]

    assert items[-1].finish_reason is None
    assert [(c.id, c.arguments) for c in items[-1].message.tool_calls] == [
        ("toolu_01", {"city": "Oslo"})
    ]


async def test_a_data_url_image_goes_as_a_base64_source(
    api: respx.MockRouter, llm: Anthropic
) -> None:
    route = api.post(MESSAGES).mock(return_value=whole(text("A cat.")))

    await llm.achat([ChatMessage.user([ImagePart(url="data:image/png;base64,iVBORw0KGgo=")])])

    image = sent_json(route.calls.last.request)["messages"][0]["content"][0]
    assert image == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
