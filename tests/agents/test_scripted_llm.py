"""ScriptedLLM on its own: scripts and reply functions, streamed text and tool calls, structured
output, usage estimates, and the errors a wrong script gets."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pydantic import BaseModel, Field

from agentflow import Context, Workflow, step
from agentflow.events import StartEvent, StopEvent
from agents.llm import (
    LLM,
    ChatMessage,
    ChatResponse,
    LLMRefusalError,
    MeteredLLM,
    ScriptedLLM,
    ScriptedRequest,
    StructuredOutputError,
    ToolCallPart,
    Usage,
    UsageLedger,
    tool_call,
)
from agents.llm.errors import ScriptedReplyError, ScriptExhaustedError
from tools import tool

HELLO = [ChatMessage.user("Say hello")]
WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}},
}


class City(BaseModel):
    name: str
    population: int = Field(alias="people")


def test_it_is_an_llm_and_loads_without_the_sdk() -> None:
    assert isinstance(ScriptedLLM(["hi"]), LLM)
    script = textwrap.dedent(
        """
        import sys
        from agents.llm import ScriptedLLM, tool_call
        ScriptedLLM(["hi", tool_call("search", {"q": "x"})])
        heavy = [m for m in ("openai", "tiktoken", "llama_index") if m in sys.modules]
        assert not heavy, heavy
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_a_script_answers_in_order_and_keeps_every_request() -> None:
    llm = ScriptedLLM(["first", "second"])

    one = await llm.achat(HELLO)
    two = await llm.achat([*HELLO, one.message, ChatMessage.user("again")], temperature=0.2)

    assert (one.message.text, one.delta, one.finish_reason) == ("first", "first", "stop")
    assert two.message.text == "second"
    assert [r.index for r in llm.requests] == [0, 1]
    assert llm.requests[1].messages[-1].text == "again"
    assert llm.requests[1].kwargs == {"temperature": 0.2}
    assert llm.requests[1].stream is False


async def test_a_script_that_runs_out_says_how_many_replies_it_held() -> None:
    llm = ScriptedLLM(["only one"], model="triage")
    await llm.achat(HELLO)

    with pytest.raises(ScriptExhaustedError) as raised:
        await llm.achat([ChatMessage.user("What is the weather in Oslo today?")])

    assert str(raised.value) == (
        "ScriptedLLM 'triage' was asked for reply 2, but its script holds 1 reply; the "
        "request ended with a user message: 'What is the weather in Oslo today?'"
    )
    assert (raised.value.scripted, raised.value.index) == (1, 1)
    with pytest.raises(ScriptExhaustedError, match="script holds 0 replies"):
        await ScriptedLLM([]).achat(HELLO)


async def test_a_stream_that_runs_out_raises_before_its_first_item() -> None:
    llm = ScriptedLLM(["a", "b", "c"])
    for _ in range(3):
        await llm.achat(HELLO)

    stream = llm.astream_chat(HELLO)
    with pytest.raises(ScriptExhaustedError, match="reply 4, but its script holds 3 replies"):
        await anext(stream)


async def test_a_reply_function_sees_the_request_sync_or_async() -> None:
    seen: list[ScriptedRequest] = []

    def reply(request: ScriptedRequest) -> str:
        seen.append(request)
        return f"you said: {request.messages[-1].text}; tools: {request.tool_names}"

    async def areply(request: ScriptedRequest) -> str:
        return "async " + request.messages[-1].text

    sync_llm = ScriptedLLM(reply)
    response = await sync_llm.achat(HELLO, tools=[WEATHER_TOOL], tool_choice="auto")
    assert response.message.text == "you said: Say hello; tools: ['weather']"
    assert seen[0].tool_choice == "auto"
    assert seen[0].tools == [WEATHER_TOOL]
    assert (await ScriptedLLM(areply).achat(HELLO)).message.text == "async Say hello"


async def test_a_stream_sends_the_text_word_by_word() -> None:
    llm = ScriptedLLM(["Hello there,  dear world.\n"])

    items = [item async for item in llm.astream_chat(HELLO)]

    assert [item.delta for item in items] == ["Hello", " there,", "  dear", " world.", "\n", ""]
    assert [item.message.text for item in items[:2]] == ["Hello", "Hello there,"]
    assert all(item.finish_reason is None and item.usage is None for item in items[:-1])
    last = items[-1]
    assert last.message.text == "Hello there,  dear world.\n"
    assert last.finish_reason == "stop"
    assert last.usage == Usage(prompt_tokens=2, completion_tokens=6, total_tokens=8)
    assert llm.requests[0].stream is True


async def test_a_stream_sends_tool_calls_name_first_then_arguments_in_pieces() -> None:
    llm = ScriptedLLM(
        [
            [
                "Looking.",
                tool_call("weather", {"city": "Oslo", "unit": "C"}),
                tool_call("weather", {"city": "Rome"}, id="mine"),
            ]
        ]
    )

    items = [item async for item in llm.astream_chat(HELLO, tools=[WEATHER_TOOL])]

    assert items[0].delta == "Looking."
    partial = [item.message.tool_calls for item in items[1:-1]]
    # the first call: its id and name with no arguments yet, then the arguments grow
    assert [(c[-1].id, c[-1].name, c[-1].raw_arguments) for c in partial[:2]] == [
        ("call_0_0", "weather", ""),
        ("call_0_0", "weather", '{"city":'),
    ]
    assert all(call.arguments == {} for calls in partial for call in calls)  # not yet parsed
    assert [c.raw_arguments for c in partial[-1]] == [
        '{"city": "Oslo", "unit": "C"}',
        '{"city": "Rome"}',
    ]
    last = items[-1]
    assert last.finish_reason == "tool_calls"
    assert [(c.id, c.arguments) for c in last.message.tool_calls] == [
        ("call_0_0", {"city": "Oslo", "unit": "C"}),
        ("mine", {"city": "Rome"}),
    ]
    assert last.message.text == "Looking."
    assert all(item.delta == "" for item in items[1:])


async def test_calls_are_numbered_per_request_and_malformed_arguments_are_flagged() -> None:
    llm = ScriptedLLM(
        [
            tool_call("weather"),
            ToolCallPart(id="", name="weather", arguments={"city": "Oslo"}),
            tool_call("weather", '{"city": "Oslo"'),
        ]
    )

    first = await llm.achat(HELLO, tools=[WEATHER_TOOL])
    second = await llm.achat(HELLO, tools=[WEATHER_TOOL])
    third = await llm.achat(HELLO, tools=[WEATHER_TOOL])

    assert [(c.id, c.raw_arguments) for c in first.message.tool_calls] == [("call_0_0", "{}")]
    assert first.message.content is None
    # a ToolCallPart made with parsed arguments only is sent with them as JSON text
    assert second.message.tool_calls[0].raw_arguments == '{"city": "Oslo"}'
    assert second.message.tool_calls[0].id == "call_1_0"
    assert third.message.tool_calls[0].malformed
    assert third.message.tool_calls[0].raw_arguments == '{"city": "Oslo"'


async def test_a_tool_call_to_a_request_without_tools_is_refused() -> None:
    with pytest.raises(
        ScriptedReplyError, match="reply 1 calls tool 'weather', but its request offered no tools"
    ):
        await ScriptedLLM([tool_call("weather")]).achat(HELLO)
    with pytest.raises(ScriptedReplyError, match='set tool_choice="none"'):
        await ScriptedLLM([tool_call("weather")]).achat(
            HELLO, tools=[WEATHER_TOOL], tool_choice="none"
        )


async def test_a_reply_of_another_type_is_named() -> None:
    llm = ScriptedLLM(["fine", 42, ["text", 3.5], ChatMessage.user("me")])  # type: ignore[list-item]
    await llm.achat(HELLO)

    with pytest.raises(ScriptedReplyError, match=r"^reply 2 is a int; a reply is text"):
        await llm.achat(HELLO)
    with pytest.raises(ScriptedReplyError, match=r"^reply 3 holds a float;"):
        await llm.achat(HELLO)
    with pytest.raises(ScriptedReplyError, match="reply 4 is a 'user' message"):
        await llm.achat(HELLO)
    with pytest.raises(ScriptedReplyError, match="reply 1 is a NoneType"):
        await ScriptedLLM(lambda request: None).achat(HELLO)  # type: ignore[arg-type,return-value]


def test_one_string_is_not_taken_for_a_script() -> None:
    with pytest.raises(TypeError, match="got a str: for one reply, pass a list of one"):
        ScriptedLLM("hello")  # type: ignore[arg-type]


async def test_an_exception_in_the_script_is_raised_by_its_call() -> None:
    llm = ScriptedLLM([TimeoutError("the server took too long"), "recovered"])

    with pytest.raises(TimeoutError, match="took too long"):
        await llm.achat(HELLO)
    assert (await llm.achat(HELLO)).message.text == "recovered"


async def test_structured_output_from_a_model_a_dict_or_text_that_fails_then_passes() -> None:
    llm = ScriptedLLM(['{"name": "Oslo"}', {"name": "Oslo", "people": 709_000}])

    city = await llm.astructured_predict(City, [ChatMessage.user("The capital of Norway?")])

    assert city == City(name="Oslo", people=709_000)
    first, second = llm.requests
    assert first.output_cls is City
    assert first.response_format is not None
    assert first.response_format["json_schema"]["name"] == "City"
    assert first.response_format["json_schema"]["strict"] is True
    assert "people" in second.messages[-1].text  # the validation errors went back
    # a model instance is sent by alias, as the schema names its fields
    again = ScriptedLLM([City(name="Rome", people=2_800_000)])
    assert (await again.astructured_predict(City, HELLO)).population == 2_800_000


async def test_structured_output_gives_up_after_its_attempts_and_refusals_raise_at_once() -> None:
    stubborn = ScriptedLLM(["no JSON here"] * 2, structured_max_attempts=2)
    with pytest.raises(StructuredOutputError, match="no valid City after 2 attempts"):
        await stubborn.astructured_predict(City, HELLO)

    refusing = ScriptedLLM([ChatMessage(role="assistant", refusal="I cannot say.")])
    with pytest.raises(LLMRefusalError, match="I cannot say"):
        await refusing.astructured_predict(City, HELLO)
    assert len(refusing.requests) == 1


async def test_a_response_format_dict_is_passed_through() -> None:
    response_format = {"type": "json_object"}
    llm = ScriptedLLM(["{}"])

    await llm.achat(HELLO, response_format=response_format)

    assert llm.requests[0].response_format == response_format
    assert llm.requests[0].output_cls is None


async def test_usage_is_a_documented_estimate_or_absent() -> None:
    llm = ScriptedLLM([["Sure.", tool_call("weather", {"city": "Oslo"})]])
    # It ' s 20 ° C , isn ' t it ?
    assert llm.count_tokens("It's 20°C, isn't it?") == 12

    response = await llm.achat([ChatMessage.user("Weather in Oslo?")], tools=[WEATHER_TOOL])

    tools_tokens = llm.count_tokens(
        '[{"type": "function", "function": {"name": "weather", "parameters": '
        '{"type": "object", "properties": {}}}}]'
    )
    # prompt: "Weather in Oslo ?" and the tools; completion: "Sure .", weather, and
    # { " city " : " Oslo " }
    assert response.usage == Usage(
        prompt_tokens=4 + tools_tokens,
        completion_tokens=2 + 1 + 9,
        total_tokens=4 + tools_tokens + 12,
    )
    silent = ScriptedLLM(["hi", "hi"], report_usage=False)
    assert (await silent.achat(HELLO)).usage is None
    assert [item.usage async for item in silent.astream_chat(HELLO)] == [None, None]


async def test_a_chat_response_reply_is_sent_as_it_is() -> None:
    cut = ChatResponse(
        message=ChatMessage.assistant("It was a dark and"),
        usage=Usage(prompt_tokens=9, completion_tokens=5, total_tokens=14),
        finish_reason="length",
    )
    llm = ScriptedLLM([cut, cut])

    whole = await llm.achat(HELLO)
    items = [item async for item in llm.astream_chat(HELLO)]

    assert whole.truncated
    assert whole.usage == cut.usage
    assert items[-1].truncated
    assert items[-1].usage == cut.usage
    assert "".join(item.delta for item in items) == "It was a dark and"


async def test_stop_sequences_cut_the_text_as_a_server_does() -> None:
    llm = ScriptedLLM(["Action: add\nObservation: 5\nAnswer: 5", "a.b;c"])

    first = await llm.achat(HELLO, stop=["\nObservation:"])
    second = await llm.achat(HELLO, stop=[";", "."])

    assert first.message.text == "Action: add"
    assert second.message.text == "a"


async def test_every_attempt_is_booked_through_metered_llm() -> None:
    class Ask(Workflow):
        @step
        async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
            city = await MeteredLLM(llm, ctx, step="ask").astructured_predict(City, HELLO)
            ledger = await ctx.store.get("usage_ledger")
            return StopEvent(result=(city, ledger))

    llm = ScriptedLLM(["not JSON", {"name": "Oslo", "people": 1}], model="scripted-mini")

    city, ledger = await Ask().run()

    assert city.name == "Oslo"
    assert isinstance(ledger, UsageLedger)
    assert ledger.by_step["ask"].calls == 2
    assert ledger.by_model["scripted-mini"].usage.completion_tokens == 2 + 15


async def test_tools_may_be_function_tools() -> None:
    @tool
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"{city}: sunny"

    llm = ScriptedLLM(lambda request: tool_call(request.tool_names[0], {"city": "Oslo"}))

    response = await llm.achat(HELLO, tools=[weather])

    assert llm.requests[0].tools[0]["function"]["name"] == "weather"
    assert response.message.tool_calls[0].arguments == {"city": "Oslo"}
