"""The LLM layer with the real `tools` package: a FunctionTool's schema goes on the wire, the
streamed calls run through a ToolSet (a malformed one comes back as an error the model
reads), and the results go back in a second request."""

from __future__ import annotations

import json

import httpx
import respx
from llm_wire import chunk, completion, sent_json, sse

from agents.llm import ChatMessage
from agents.llm.openai.client import OpenAI
from agents.llm.openai.tokens import count_tools, use_bundled_tiktoken_cache
from agents.llm.openai.tool_specs import to_openai_tool
from tools import ToolSet, tool


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def call_chunk(index: int, id: str, arguments: str) -> dict[str, object]:
    return chunk(
        {
            "tool_calls": [
                {
                    "index": index,
                    "id": id,
                    "type": "function",
                    "function": {"name": "add", "arguments": arguments},
                }
            ]
        }
    )


async def test_streamed_calls_run_and_their_results_go_back(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            sse(
                [
                    call_chunk(0, "c1", '{"a": 2, "b": 3}'),
                    call_chunk(1, "c2", '{"a": 2, "b":'),
                    chunk({}, finish_reason="tool_calls"),
                ]
            ),
            httpx.Response(200, json=completion("2 + 3 = 5")),
        ]
    )
    toolset = ToolSet([add])
    messages = [ChatMessage.user("2 + 3?")]

    steps = [step async for step in llm.astream_chat(messages, tools=[add])]
    assistant = steps[-1].message
    messages.append(assistant)
    for call in assistant.tool_calls:
        output = await toolset.acall_json(call.name, call.raw_arguments)
        messages.append(ChatMessage.tool(output.content, tool_call_id=call.id))
    reply = await llm.achat(messages, tools=[add])

    assert reply.message.text == "2 + 3 = 5"
    first, second = (sent_json(call.request) for call in route.calls)
    assert first["tools"] == [to_openai_tool(add)]
    assert [message["role"] for message in second["messages"]] == [
        "user",
        "assistant",
        "tool",
        "tool",
    ]
    assert second["messages"][2] == {"role": "tool", "content": "5", "tool_call_id": "c1"}
    assert second["messages"][3]["tool_call_id"] == "c2"  # the tool's error text for the model
    assert second["messages"][1]["tool_calls"][1]["function"]["arguments"] == '{"a": 2, "b":'
    assert json.loads(second["messages"][1]["tool_calls"][0]["function"]["arguments"]) == {
        "a": 2,
        "b": 3,
    }


def test_function_tools_are_counted() -> None:
    use_bundled_tiktoken_cache()
    assert count_tools([add], "gpt-4o") == count_tools([to_openai_tool(add)], "gpt-4o")
