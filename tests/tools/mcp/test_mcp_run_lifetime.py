"""Without an `async with` block, an agent run holds its MCP tools' session: one server
process for all the run's turns (its state kept between them), stopped when the run ends,
whether it completed, failed or was cancelled. The LLM is mocked at the OpenAI wire; the
server is the real notes server over stdio, whose `tally` tool counts the calls its process
has answered and names the process."""

from __future__ import annotations

import asyncio
import sys

import httpx
import openai
import pytest
from llm_wire import BASE_URL, calls_reply, sent_json, text_reply
from mcp_servers import NOTES_SERVER, child_processes
from wire_mock import mock_wire

from agents import AgentWorkflow, FunctionAgent
from agents.llm.openai.client import OpenAI
from tools.mcp import MCPTool, MCPToolSet


def mocked_llm() -> OpenAI:
    return OpenAI("gpt-4o-mini", api_key="sk-test", base_url=BASE_URL, max_retries=0)


async def tally_tools() -> list[MCPTool]:
    """The server's `tally` tool, listed through a session that is closed again."""
    tools = await MCPToolSet.stdio(sys.executable, [NOTES_SERVER], allow={"tally"}).list_tools()
    assert child_processes() == []
    return tools


def tally(call_id: str, label: str) -> httpx.Response:
    return calls_reply((call_id, "tally", f'{{"label": "{label}"}}'))


def tool_results(request: httpx.Request) -> list[str]:
    return [m["content"] for m in sent_json(request)["messages"] if m["role"] == "tool"]


async def test_an_agent_run_keeps_one_server_process_for_all_its_turns() -> None:
    agent = FunctionAgent(tools=await tally_tools(), llm=mocked_llm())
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(
            side_effect=[
                tally("c1", "first"),
                tally("c2", "second"),
                tally("c3", "third"),
                text_reply("Counted three times."),
            ]
        )
        output = await agent.run(user_msg="Count three times, one call per turn.")

    assert output.response.text == "Counted three times."
    results = tool_results(route.calls[3].request)
    counts = [result.split(" of process ")[0] for result in results]
    processes = {result.split(" of process ")[1] for result in results}
    # One process answered all three, and its count went on: the session lasted the run.
    assert counts == ["first: call 1", "second: call 2", "third: call 3"]
    assert len(processes) == 1
    assert child_processes() == []


async def test_the_next_run_has_a_session_of_its_own() -> None:
    agent = FunctionAgent(tools=await tally_tools(), llm=mocked_llm())
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(
            side_effect=[
                tally("c1", "first run"),
                text_reply("Counted."),
                tally("c2", "second run"),
                text_reply("Counted."),
            ]
        )
        await agent.run(user_msg="Count.")
        assert child_processes() == []
        await agent.run(user_msg="Count.")

    first, second = tool_results(route.calls[1].request), tool_results(route.calls[3].request)
    assert first[0].startswith("first run: call 1 of process ")
    assert second[0].startswith("second run: call 1 of process ")
    assert first[0].split(" of process ")[1] != second[0].split(" of process ")[1]
    assert child_processes() == []


async def test_concurrent_runs_of_one_agent_share_the_session() -> None:
    agent = FunctionAgent(tools=await tally_tools(), llm=mocked_llm())
    both_asked = asyncio.Event()
    asked = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal asked
        sent = sent_json(request)
        if any(m["role"] == "tool" for m in sent["messages"]):
            return text_reply("Counted.")
        asked += 1
        call_id = f"c{asked}"
        if asked == 2:
            both_asked.set()
        await both_asked.wait()  # both runs hold the session before either calls the tool
        return tally(call_id, sent["messages"][-1]["content"])

    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(side_effect=answer)
        await asyncio.gather(agent.run(user_msg="one"), agent.run(user_msg="two"))

    results = [result for call in route.calls for result in tool_results(call.request)]
    # One process answered both runs' calls, counting on: they shared its session.
    assert len({result.split(" of process ")[1] for result in results}) == 1
    counts = sorted(result.split(": ")[1].split(" of process ")[0] for result in results)
    assert counts == ["call 1", "call 2"]
    assert child_processes() == []


async def test_an_agent_workflow_holds_its_agents_sessions_for_the_run() -> None:
    counter = FunctionAgent(
        name="counter", description="Counts.", tools=await tally_tools(), llm=mocked_llm()
    )
    team = AgentWorkflow(agents=[counter], root_agent="counter")
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(
            side_effect=[tally("c1", "first"), tally("c2", "second"), text_reply("Counted.")]
        )
        await team.run(user_msg="Count twice.")

    assert [r.split(" of process ")[0] for r in tool_results(route.calls[2].request)] == [
        "first: call 1",
        "second: call 2",
    ]
    assert child_processes() == []


async def test_a_failed_run_stops_the_server_it_held_between_turns() -> None:
    agent = FunctionAgent(tools=await tally_tools(), llm=mocked_llm())
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(
            side_effect=[
                tally("c1", "first"),
                httpx.Response(
                    500, json={"error": {"message": "boom", "type": "server_error", "code": None}}
                ),
            ]
        )
        with pytest.raises(openai.InternalServerError):
            await agent.run(user_msg="Count, then fail.")

    assert child_processes() == []


async def test_a_run_cancelled_between_turns_stops_the_server_it_held() -> None:
    agent = FunctionAgent(tools=await tally_tools(), llm=mocked_llm())
    second_turn = asyncio.get_running_loop().create_future()

    async def answer(request: httpx.Request) -> httpx.Response:
        if not tool_results(request):
            return tally("c1", "first")
        second_turn.set_result(None)
        await asyncio.Event().wait()  # the model never answers; the run is cancelled
        raise AssertionError("unreachable")

    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=answer)
        handler = agent.run(user_msg="Count, then wait.")
        await second_turn
        # The call has finished; the run still holds the session for its next turns.
        assert len(child_processes()) == 1
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler

    assert child_processes() == []
