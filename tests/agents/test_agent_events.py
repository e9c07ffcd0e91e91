"""The agent's events: an unread stream holds memory linear in the reply's length, and
`AgentStream` reads like LlamaIndex's (its fields, `response` as the text so far)."""

from __future__ import annotations

import gc
import json
import tracemalloc

import respx
from agent_runs import run_collecting
from llm_wire import text_reply

from agentflow import Context
from agentflow.context import DictState
from agents import AgentStream, FunctionAgent
from agents.llm.openai.client import OpenAI


async def memory_held_by_unread_stream(agent: FunctionAgent, words: int) -> int:
    """Bytes allocated by a run and still held once it has finished, its handler (and so
    its stream, which nobody read) kept."""
    gc.collect()
    tracemalloc.start()
    try:
        handler = agent.run(user_msg="Write at length.")
        output = await handler
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(output.response.text) == len("token ") * words
    assert not handler.ctx.is_running  # the run is over; its events wait in the stream
    return held


async def test_an_unread_stream_holds_memory_linear_in_the_reply(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    words = 1500
    api.post("/chat/completions").mock(
        side_effect=[
            text_reply("Warm ", "up."),  # loads what every run shares (encodings, SDK parts)
            text_reply(*["token "] * words),
            text_reply(*["token "] * (2 * words)),
        ]
    )
    agent = FunctionAgent(llm=llm)
    await agent.run(user_msg="Hi")

    short = await memory_held_by_unread_stream(agent, words)
    long = await memory_held_by_unread_stream(agent, 2 * words)

    # With the text so far copied into each event, memory grows as the square of the
    # reply: doubling it would hold about four times as much. An event costs about 1 kB.
    assert long < 2.5 * short
    assert long < 2_000 * 2 * words


async def test_agent_stream_reads_like_llama_indexs(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(return_value=text_reply("The ", "sky ", "is blue."))
    agent = FunctionAgent(llm=llm, name="sky")
    ctx: Context[DictState] = Context(agent)

    _, events = await run_collecting(agent, ctx=ctx, user_msg="Sky colour?")

    streamed = [ev for ev in events if isinstance(ev, AgentStream)]
    assert [ev.delta for ev in streamed] == ["The ", "sky ", "is blue."]
    assert [ev.response for ev in streamed] == ["The ", "The sky ", "The sky is blue."]
    first = streamed[0]
    assert (first.current_agent_name, first.tool_calls, first.thinking_delta) == ("sky", [], None)
    assert first.raw is None
    dumped = json.loads(streamed[1].model_dump_json())
    assert dumped["response"] == "The sky "
    assert dumped["agent_name"] == "sky"
    assert AgentStream.model_validate(dumped).response == "The sky "


def test_agent_stream_is_built_as_llama_index_builds_it() -> None:
    event = AgentStream(delta="blue.", response="The sky is blue.", current_agent_name="sky")

    assert (event.response, event.agent_name) == ("The sky is blue.", "sky")
    assert "response" not in event.to_dict()  # not stored: read from the reply's text
    assert AgentStream(delta="x", agent_name="a").response == "x"
