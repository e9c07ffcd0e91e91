"""A `FunctionAgent` using two tools of a real MCP server (stdio) in parallel, the LLM mocked
at the OpenAI wire: the server's schemas go to the model, both calls overlap on one session,
the results go back in call order, and the run leaves no server process behind."""

from __future__ import annotations

import asyncio
import sys

import httpx
import pytest
from llm_wire import BASE_URL, calls_reply, sent_json, text_reply
from mcp_servers import NOTES_SERVER, child_processes, is_alive
from wire_mock import mock_wire

from agents import FunctionAgent
from agents.llm.openai.client import OpenAI
from tools.mcp import MCPToolSet


def weather_tools() -> MCPToolSet:
    return MCPToolSet.stdio(
        sys.executable, [NOTES_SERVER], prefix="weather_", allow={"slow_lookup", "fast_lookup"}
    )


def mocked_llm() -> OpenAI:
    return OpenAI("gpt-4o-mini", api_key="sk-test", base_url=BASE_URL, max_retries=0)


def two_calls_then_answer() -> list[httpx.Response]:
    return [
        calls_reply(
            ("c1", "weather_slow_lookup", '{"city": "Oslo"}'),
            ("c2", "weather_fast_lookup", '{"city": "Rome"}'),
        ),
        text_reply("Oslo 12C, Rome 20C."),
    ]


async def test_an_agent_calls_two_mcp_tools_in_parallel_within_a_block() -> None:
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(side_effect=two_calls_then_answer())
        async with weather_tools() as weather:
            agent = FunctionAgent(tools=weather.tools, llm=mocked_llm())
            output = await agent.run(user_msg="Weather in Oslo and Rome?")

    assert output.response.text == "Oslo 12C, Rome 20C."
    first, second = (sent_json(call.request) for call in route.calls)
    offered = {tool["function"]["name"]: tool["function"] for tool in first["tools"]}
    assert set(offered) == {"weather_slow_lookup", "weather_fast_lookup"}
    assert offered["weather_slow_lookup"]["parameters"]["required"] == ["city"]
    results = [message for message in second["messages"] if message["role"] == "tool"]
    # slow_lookup answers only once fast_lookup has run: they overlapped on the server.
    assert results == [
        {"role": "tool", "content": "Oslo: 12C", "tool_call_id": "c1"},
        {"role": "tool", "content": "Rome: 20C", "tool_call_id": "c2"},
    ]
    assert child_processes() == []


async def test_without_a_block_the_agent_run_holds_the_session() -> None:
    weather = weather_tools()
    agent_tools = await weather.list_tools()
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(side_effect=two_calls_then_answer())
        agent = FunctionAgent(tools=agent_tools, llm=mocked_llm())
        output = await agent.run(user_msg="Weather in Oslo and Rome?")

    assert output.response.text == "Oslo 12C, Rome 20C."
    second = sent_json(route.calls[1].request)
    assert [m["content"] for m in second["messages"] if m["role"] == "tool"] == [
        "Oslo: 12C",
        "Rome: 20C",
    ]
    assert child_processes() == []


async def test_cancelling_an_agent_run_mid_call_stops_the_server(unused_tcp_port: int) -> None:
    arrived = asyncio.get_running_loop().create_future()

    async def note_arrival(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        arrived.set_result(int(await reader.readline()))
        writer.close()

    waiting = MCPToolSet.stdio(sys.executable, [NOTES_SERVER], allow={"wait_forever"})
    agent_tools = await waiting.list_tools()
    listener = await asyncio.start_server(note_arrival, "127.0.0.1", unused_tcp_port)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(
            side_effect=[
                calls_reply(("c1", "wait_forever", f'{{"notify_port": {unused_tcp_port}}}'))
            ]
        )
        async with listener:
            handler = FunctionAgent(tools=agent_tools, llm=mocked_llm()).run(user_msg="Wait.")
            pid = await arrived
            handler.cancel()
            with pytest.raises(asyncio.CancelledError):
                await handler

    assert not is_alive(pid)
    assert child_processes() == []
