"""OpenAI.astream_chat against respx-mocked SSE: text deltas, parallel tool calls in
fragments, usage in the last chunk, malformed arguments, refusal and length finishes."""

from __future__ import annotations

from typing import Any

import respx
from llm_wire import BASE_URL, chunk, sent_json, sse, usage

from agents.llm import ChatMessage, ChatResponse
from agents.llm.openai.client import OpenAI


async def collect(llm: OpenAI, **kwargs: Any) -> list[ChatResponse]:
    return [step async for step in llm.astream_chat([ChatMessage.user("hi")], **kwargs)]


async def test_text_deltas_and_usage_in_last_chunk(api: respx.MockRouter, llm: OpenAI) -> None:
    route = api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"content": "Hel"}),
                chunk({"content": "lo"}),
                chunk({"content": "!"}),
                chunk({}, finish_reason="stop"),
                chunk(no_choices=True, usage_=usage(prompt=9, completion=3, cached=4)),
            ]
        )
    )

    steps = await collect(llm)

    assert [step.delta for step in steps] == ["", "Hel", "lo", "!", "", ""]
    assert [step.message.text for step in steps[1:4]] == ["Hel", "Hello", "Hello!"]
    assert all(step.usage is None for step in steps[:-1])
    last = steps[-1]
    assert last.message.text == "Hello!"
    assert last.finish_reason == "stop"
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (9, 3)
    assert (last.usage.cached_tokens, last.usage.total_tokens) == (4, 12)
    sent = sent_json(route.calls.last.request)
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


async def test_two_parallel_tool_calls_in_fragments(api: respx.MockRouter, llm: OpenAI) -> None:
    def call_start(index: int, id: str, name: str) -> dict[str, object]:
        return {
            "tool_calls": [
                {
                    "index": index,
                    "id": id,
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }
            ]
        }

    def args(index: int, fragment: str) -> dict[str, object]:
        return {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}

    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk({"role": "assistant", "content": None}),
                chunk(call_start(0, "call_oslo", "weather")),
                chunk(args(0, '{"ci')),
                chunk(call_start(1, "call_time", "clock")),
                chunk(args(0, 'ty": "Os')),
                chunk(args(1, '{"tz": ')),
                chunk(args(0, 'lo"}')),
                chunk(args(1, '"CET"}')),
                chunk({}, finish_reason="tool_calls"),
                chunk(no_choices=True, usage_=usage()),
            ]
        )
    )

    steps = await collect(llm, tools=[{"type": "function", "function": {"name": "weather"}}])

    midway = steps[4].message.tool_calls
    assert [call.raw_arguments for call in midway] == ['{"city": "Os', ""]
    assert all(call.arguments == {} and not call.malformed for call in midway)
    final = steps[-1]
    assert final.finish_reason == "tool_calls"
    assert final.usage is not None
    oslo, clock = final.message.tool_calls
    assert (oslo.id, oslo.name, oslo.arguments) == ("call_oslo", "weather", {"city": "Oslo"})
    assert (clock.id, clock.name, clock.arguments) == ("call_time", "clock", {"tz": "CET"})
    assert oslo.raw_arguments == '{"city": "Oslo"}'
    assert final.message.content is None
    assert all(step.delta == "" for step in steps)


async def test_malformed_streamed_arguments_are_flagged_not_raised(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "search", "arguments": '{"q": "ot'},
                            }
                        ]
                    }
                ),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": "ters"}}]}),
                chunk({}, finish_reason="tool_calls"),
            ]
        )
    )

    steps = await collect(llm)

    (call,) = steps[-1].message.tool_calls
    assert call.malformed
    assert call.raw_arguments == '{"q": "otters'
    assert call.arguments == {}


async def test_streamed_refusal(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk({"role": "assistant", "content": None, "refusal": ""}),
                chunk({"refusal": "I can't "}),
                chunk({"refusal": "help with that."}),
                chunk({}, finish_reason="stop"),
            ]
        )
    )

    steps = await collect(llm)

    assert steps[-1].refused
    assert steps[-1].message.refusal == "I can't help with that."
    assert steps[-1].message.text == ""


async def test_streamed_length_finish(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(
        return_value=sse([chunk({"content": "Once upon"}), chunk({}, finish_reason="length")])
    )

    steps = await collect(llm)

    assert steps[-1].truncated
    assert steps[-1].message.text == "Once upon"


async def test_stream_usage_can_be_left_out(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions").mock(
        return_value=sse([chunk({"content": "x"}, finish_reason="stop")])
    )
    llm = OpenAI("local", api_key="k", base_url=BASE_URL, stream_usage=False)

    steps = await collect(llm)

    assert steps[-1].usage is None
    assert "stream_options" not in sent_json(route.calls.last.request)


async def test_tool_calls_without_ids_or_indexes(api: respx.MockRouter, llm: OpenAI) -> None:
    # What some OpenAI-compatible servers send: no id at all, or no index.
    def fragment(arguments: str, **fields: object) -> dict[str, object]:
        return {"tool_calls": [{**fields, "function": {"arguments": arguments}}]}

    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ""}}]}),
                chunk(fragment('{"a": 1}', index=0)),
                chunk(fragment('{"b": ', id="call_x", type="function")),
                chunk(fragment("2}")),
                chunk(fragment('{"c": 3}', id="call_y", type="function")),
                chunk({}, finish_reason="tool_calls"),
            ]
        )
    )

    steps = await collect(llm)

    first, second, third = steps[-1].message.tool_calls
    assert (first.id, first.name, first.arguments) == ("call_0", "f", {"a": 1})
    assert (second.id, second.arguments) == ("call_x", {"b": 2})
    assert (third.id, third.arguments) == ("call_y", {"c": 3})


async def test_tool_calls_are_parsed_when_the_stream_ends_without_a_finish_reason(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    start = {"index": 0, "id": "call_1", "type": "function"}
    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk({"tool_calls": [{**start, "function": {"name": "f", "arguments": '{"a"'}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
                chunk(no_choices=True, usage_=usage()),
                # no chunk with a finish_reason
            ]
        )
    )

    steps = await collect(llm)

    (call,) = steps[-1].message.tool_calls
    assert call.arguments == {"a": 1}
    assert not call.malformed
    assert steps[-1].usage is not None


async def test_a_streamed_finish_reason_outside_openais_set_does_not_fail(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(
        return_value=sse([chunk({"content": "Hi"}), chunk({}, finish_reason="eos")])
    )

    steps = await collect(llm)

    assert steps[-1].message.text == "Hi"
    assert steps[-1].finish_reason == "stop"


async def test_a_name_sent_again_in_every_fragment_is_not_doubled(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    def fragment(index: int, name: str, arguments: str) -> dict[str, object]:
        call = {"index": index, "id": f"call_{index}", "type": "function"}
        return {"tool_calls": [{**call, "function": {"name": name, "arguments": arguments}}]}

    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk(fragment(0, "read_file", '{"path": ')),  # the whole name each time
                chunk(fragment(0, "read_file", '"a.txt"}')),
                chunk(fragment(1, "list_", "")),  # a name in pieces
                chunk(fragment(1, "dir", "{}")),
                chunk({}, finish_reason="tool_calls"),
            ]
        )
    )
    steps = await collect(llm)

    read, listed = steps[-1].message.tool_calls
    assert (read.name, read.arguments) == ("read_file", {"path": "a.txt"})
    assert listed.name == "list_dir"


async def test_a_chunk_without_a_delta_is_read(api: respx.MockRouter, llm: OpenAI) -> None:
    # Some OpenAI-compatible servers end with a choice holding only its finish reason.
    last = chunk({}, finish_reason="stop")
    del last["choices"][0]["delta"]
    nulled = chunk({"content": "!"})
    nulled["choices"][0]["delta"] = None
    api.post("/chat/completions").mock(return_value=sse([chunk({"content": "Hi"}), nulled, last]))

    steps = await collect(llm)

    assert steps[-1].message.text == "Hi"
    assert steps[-1].finish_reason == "stop"


async def test_streamed_arguments_sent_as_an_object_are_read(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    start = {"index": 0, "id": "call_1", "type": "function"}
    function = {"name": "weather", "arguments": {"city": "Oslo"}}
    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk({"tool_calls": [{**start, "function": function}]}),
                chunk({}, finish_reason="tool_calls"),
            ]
        )
    )

    steps = await collect(llm)

    (call,) = steps[-1].message.tool_calls
    assert call.arguments == {"city": "Oslo"}


async def test_a_usage_chunk_without_choices_is_read(api: respx.MockRouter, llm: OpenAI) -> None:
    # Some OpenAI-compatible servers leave `choices` out of the last chunk, not empty.
    last = chunk(no_choices=True, usage_=usage(prompt=7, completion=2))
    del last["choices"]
    api.post("/chat/completions").mock(
        return_value=sse([chunk({"content": "Hi"}), chunk({}, finish_reason="stop"), last])
    )

    steps = await collect(llm)

    assert steps[-1].message.text == "Hi"
    assert steps[-1].usage is not None
    assert (steps[-1].usage.prompt_tokens, steps[-1].usage.completion_tokens) == (7, 2)
