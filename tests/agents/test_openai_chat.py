"""OpenAI.achat against respx-mocked HTTP: plain chat, request shape, tools, errors, retries."""

from __future__ import annotations

import httpx
import openai
import pytest
import respx
from llm_wire import BASE_URL, completion, sent_json, tool_call
from wire_mock import mock_wire

from agents.llm import (
    LLM,
    ChatMessage,
    EmptyResponseError,
    ImagePart,
    LLMConfigurationError,
    LLMLengthError,
    LLMRefusalError,
    TextPart,
    ToolCallPart,
    ToolSchemaError,
)
from agents.llm.openai.client import OpenAI


async def test_plain_chat(api: respx.MockRouter, llm: OpenAI) -> None:
    route = api.post("/chat/completions").respond(200, json=completion("Hello!"))

    response = await llm.achat([ChatMessage.system("Be brief."), ChatMessage.user("Hi")])

    assert response.message.role == "assistant"
    assert response.message.text == "Hello!"
    assert response.delta == "Hello!"
    assert response.finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (12, 5)
    assert response.usage.total_tokens == 17
    assert not response.refused
    assert not response.truncated
    assert isinstance(response.raw, openai.types.chat.ChatCompletion)
    sent = sent_json(route.calls.last.request)
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert "stream" not in sent
    assert route.calls.last.request.headers["authorization"] == "Bearer sk-test"


async def test_request_carries_parts_tool_history_and_options(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions").respond(200, json=completion("ok"))
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL, temperature=0.2, max_tokens=50)

    class ToolMetadata:  # what a tool says of itself, whatever the provider
        name = "clock"
        description = ""

        def get_parameters_dict(self) -> dict[str, object]:
            return {}

    class FunctionToolLike:
        metadata = ToolMetadata()

    weather = {"type": "function", "function": {"name": "weather", "parameters": {}}}
    call = ChatMessage.assistant(
        None, [ToolCallPart.from_raw("call_1", "weather", '{"city": "Oslo"}')]
    )
    await llm.achat(
        [
            ChatMessage.user([TextPart(text="What is this?"), ImagePart(url="https://i/x.png")]),
            call,
            ChatMessage.tool("rain", tool_call_id="call_1"),
        ],
        tools=[weather, FunctionToolLike()],
        tool_choice="auto",
        parallel_tool_calls=True,
    )

    sent = sent_json(route.calls.last.request)
    assert sent["temperature"] == 0.2
    assert sent["max_tokens"] == 50
    assert sent["tool_choice"] == "auto"
    assert sent["parallel_tool_calls"] is True
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["weather", "clock"]
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://i/x.png"}},
    ]
    assert sent["messages"][1]["tool_calls"] == [tool_call("call_1", "weather", '{"city": "Oslo"}')]
    assert sent["messages"][2] == {"role": "tool", "content": "rain", "tool_call_id": "call_1"}


async def test_reasoning_model_gets_max_completion_tokens(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions").respond(200, json=completion("ok", model="o3-mini"))
    llm = OpenAI(
        "o3-mini",
        api_key="k",
        base_url=BASE_URL,
        temperature=0.5,
        max_tokens=300,
        reasoning_effort="low",
    )

    await llm.achat([ChatMessage.user("think")])

    sent = sent_json(route.calls.last.request)
    assert sent["max_completion_tokens"] == 300
    assert sent["reasoning_effort"] == "low"
    assert "max_tokens" not in sent
    assert "temperature" not in sent  # reasoning models reject it


async def test_key_and_base_url_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://env.test/v1")
    with mock_wire(assert_all_called=True) as router:
        route = router.post("https://env.test/v1/chat/completions").respond(
            200, json=completion("hi")
        )
        response = await OpenAI("gpt-4o-mini").achat([ChatMessage.user("hi")])

    assert response.message.text == "hi"
    assert route.calls.last.request.headers["authorization"] == "Bearer sk-from-env"


async def test_an_httpx_client_given_as_http_client_carries_the_requests() -> None:
    seen: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completion("through your client"))

    http_client = httpx.AsyncClient(
        transport=httpx.MockTransport(server), headers={"x-team": "research"}
    )
    llm = OpenAI("gpt-4o-mini", api_key="sk-test", base_url=BASE_URL, http_client=http_client)

    response = await llm.achat([ChatMessage.user("hi")])

    assert response.message.text == "through your client"
    [request] = seen
    assert str(request.url) == f"{BASE_URL}/chat/completions"
    assert request.headers["x-team"] == "research"
    assert request.headers["authorization"] == "Bearer sk-test"
    with pytest.raises(LLMConfigurationError, match="both client and http_client"):
        OpenAI("gpt-4o-mini", client=llm.client, http_client=http_client)
    await http_client.aclose()


async def test_from_env_reads_server_and_model_and_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    with pytest.raises(LLMConfigurationError, match=r"set OPENAI_API_KEY .* or OPENAI_BASE_URL"):
        OpenAI.from_env()

    monkeypatch.setenv("OPENAI_BASE_URL", "https://local.test/v1")
    monkeypatch.setenv("OPENAI_MODEL", "qwen2.5")
    llm = OpenAI.from_env(temperature=0.0)
    with mock_wire(assert_all_called=True) as router:
        route = router.post("https://local.test/v1/chat/completions").respond(
            200, json=completion("hi")
        )
        await llm.achat([ChatMessage.user("hi")])

    sent = sent_json(route.calls.last.request)
    assert (sent["model"], sent["temperature"]) == ("qwen2.5", 0.0)
    assert route.calls.last.request.headers["authorization"] == "Bearer not-needed"
    assert OpenAI.from_env("gpt-4.1").model == "gpt-4.1"


async def test_tool_calls_with_malformed_arguments_are_flagged(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").respond(
        200,
        json=completion(
            None,
            finish_reason="tool_calls",
            tool_calls=[
                tool_call("call_a", "weather", '{"city": "Oslo"}'),
                tool_call("call_b", "weather", '{"city": "Bergen"'),
                tool_call("call_c", "weather", "[1, 2]"),
            ],
        ),
    )

    response = await llm.achat([ChatMessage.user("weather?")], tools=[])

    good, truncated, listed = response.message.tool_calls
    assert good.arguments == {"city": "Oslo"}
    assert not good.malformed
    assert truncated.malformed
    assert truncated.arguments == {}
    assert truncated.raw_arguments == '{"city": "Bergen"'
    assert truncated.arguments_error is not None
    assert "not valid JSON" in truncated.arguments_error
    assert listed.malformed
    assert "list" in (listed.arguments_error or "")
    assert response.message.content is None
    assert response.finish_reason == "tool_calls"


async def test_refusal_is_reported(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").respond(
        200, json=completion(None, refusal="I can't help with that.")
    )

    response = await llm.achat([ChatMessage.user("bad idea")])

    assert response.refused
    assert response.message.refusal == "I can't help with that."
    with pytest.raises(LLMRefusalError, match="I can't help with that"):
        response.raise_for_finish()


async def test_length_finish_is_reported(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").respond(
        200, json=completion("Once upon a", finish_reason="length")
    )

    response = await llm.achat([ChatMessage.user("story")])

    assert response.truncated
    with pytest.raises(LLMLengthError, match="token limit") as caught:
        response.raise_for_finish()
    assert caught.value.partial_text == "Once upon a"


async def test_429_then_200_is_retried(api: respx.MockRouter, llm: OpenAI) -> None:
    # retry-after-ms: the SDK waits what the server asks (1 ms), not its 0.5 s backoff.
    route = api.post("/chat/completions").mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"retry-after-ms": "1"},
                json={"error": {"message": "Rate limit", "type": "requests", "code": None}},
            ),
            httpx.Response(200, json=completion("after the wait")),
        ]
    )

    response = await llm.achat([ChatMessage.user("hi")])

    assert response.message.text == "after the wait"
    assert route.call_count == 2


async def test_500_until_retries_run_out(api: respx.MockRouter, llm: OpenAI) -> None:
    route = api.post("/chat/completions").respond(
        500,
        headers={"retry-after-ms": "1"},
        json={"error": {"message": "boom", "type": "server_error", "code": None}},
    )

    with pytest.raises(openai.InternalServerError):
        await llm.achat([ChatMessage.user("hi")])

    assert route.call_count == 3  # the first try and max_retries=2


async def test_a_reply_without_choices_is_named(api: respx.MockRouter, llm: OpenAI) -> None:
    body = completion("x")
    body["choices"] = []
    api.post("/chat/completions").respond(200, json=body)

    with pytest.raises(EmptyResponseError, match="no choices for model 'gpt-4o-mini'"):
        await llm.achat([ChatMessage.user("hi")])


def test_metadata(llm: OpenAI) -> None:
    assert llm.metadata.model == "gpt-4o-mini"
    assert llm.metadata.context_window == 128_000
    assert llm.metadata.is_function_calling_model
    custom = OpenAI("my-local-model", api_key="k", base_url=BASE_URL, context_window=32_000)
    assert custom.metadata.context_window == 32_000


def test_openai_is_an_llm(llm: OpenAI) -> None:
    assert isinstance(llm, LLM)


async def test_unknown_tool_type_is_named(llm: OpenAI) -> None:
    with pytest.raises(ToolSchemaError, match="cannot pass a int as a tool"):
        await llm.achat([ChatMessage.user("hi")], tools=[3])


async def test_tool_calls_without_ids_get_ids(api: respx.MockRouter, llm: OpenAI) -> None:
    # Some OpenAI-compatible servers leave the id out (or send null).
    calls = [tool_call("", "f", '{"a": 1}'), tool_call("", "g", "{}")]
    calls[0]["id"] = None
    del calls[1]["id"]
    api.post("/chat/completions").respond(
        200, json=completion(None, finish_reason="tool_calls", tool_calls=calls)
    )

    response = await llm.achat([ChatMessage.user("go")])

    first, second = response.message.tool_calls
    assert (first.id, first.name, first.arguments) == ("call_0", "f", {"a": 1})
    assert (second.id, second.name) == ("call_1", "g")


async def test_a_finish_reason_outside_openais_set_does_not_fail(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    # Together sends "eos", other OpenAI-compatible servers their own words.
    api.post("/chat/completions").respond(200, json=completion("Hi", finish_reason="eos"))

    response = await llm.achat([ChatMessage.user("hi")])

    assert response.message.text == "Hi"
    assert response.finish_reason == "stop"
    assert not response.truncated


async def test_tool_arguments_sent_as_an_object_are_read(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    # Some OpenAI-compatible servers send the arguments object, not its JSON text.
    call = tool_call("call_1", "weather", "")
    call["function"]["arguments"] = {"city": "Oslo"}
    api.post("/chat/completions").respond(
        200, json=completion(None, finish_reason="tool_calls", tool_calls=[call])
    )

    response = await llm.achat([ChatMessage.user("weather?")])

    (parsed,) = response.message.tool_calls
    assert parsed.arguments == {"city": "Oslo"}
    assert parsed.raw_arguments == '{"city": "Oslo"}'
