"""`MCPToolSet` against a real MCP server (tests/tools/mcp/notes_server.py, written with the
`mcp` SDK) started as a subprocess over stdio: listing, calls, error results, timeouts, the
reconnect, and no process left behind on any outcome."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest
from mcp_servers import NOTES_SERVER, child_processes, is_alive

from tools import ToolSet
from tools.errors import (
    MCPConnectionError,
    MCPServerGoneError,
    MCPSessionNotHeldError,
    MCPToolNotOnServerError,
    MCPToolsNotListedError,
)
from tools.mcp import MCPTool, MCPToolSet


def by_name(toolset: MCPToolSet) -> dict[str, MCPTool]:
    return {tool.name: tool for tool in toolset.tools}


async def test_listing_gives_prefixed_tools_with_the_servers_schemas(notes: MCPToolSet) -> None:
    async with notes:
        tools = by_name(notes)

    assert "notes_add" in tools
    assert "notes_echo" in tools
    add = tools["notes_add"]
    assert add.metadata.description == "Add two integers."
    schema = add.metadata.get_parameters_dict()
    assert schema["required"] == ["a", "b"]
    assert schema["properties"]["a"]["type"] == "integer"
    assert add.metadata.side_effects is False  # read_only_hint=True on the server
    assert tools["notes_echo"].metadata.side_effects is True  # MCP's default: may change things


async def test_an_allow_list_keeps_only_the_tools_it_names(notes: MCPToolSet) -> None:
    notes.allow = frozenset({"add", "echo"})

    tools = await notes.list_tools()

    assert sorted(tool.name for tool in tools) == ["notes_add", "notes_echo"]


async def test_an_allow_list_naming_a_missing_tool_is_refused_with_its_name(
    notes: MCPToolSet,
) -> None:
    notes.allow = frozenset({"add", "delete_everything"})

    with pytest.raises(MCPToolNotOnServerError, match="no tool named delete_everything"):
        await notes.list_tools()


async def test_tools_before_listing_are_refused() -> None:
    toolset = MCPToolSet.stdio(sys.executable, [NOTES_SERVER])

    with pytest.raises(MCPToolsNotListedError, match="not listed yet"):
        _ = toolset.tools


async def test_a_call_returns_text_and_structured_content(notes: MCPToolSet) -> None:
    async with notes:
        tools = by_name(notes)
        echoed = await tools["notes_echo"].acall(text="hi")
        added = await tools["notes_add"].acall_json('{"a": 2, "b": 3}')

    assert (echoed.content, echoed.is_error) == ("echo: hi", False)
    assert echoed.raw_input == {"text": "hi"}
    assert added.raw_output == {"total": 5}
    assert json.loads(added.content) == {"total": 5}


async def test_an_error_result_is_an_error_output_the_model_reads(notes: MCPToolSet) -> None:
    async with notes:
        output = await by_name(notes)["notes_refuse"].acall(reason="not today")

    assert output.is_error
    assert output.content.startswith("Error: ")
    assert "refused: not today" in output.content


async def test_invalid_arguments_come_back_as_the_servers_error_result(
    notes: MCPToolSet,
) -> None:
    async with notes:
        output = await by_name(notes)["notes_echo"].acall(txt="hi")

    assert output.is_error
    assert "text" in output.content  # the server names the missing argument


async def test_a_call_past_its_timeout_is_an_error_output_and_the_session_goes_on(
    notes: MCPToolSet, unused_tcp_port: int
) -> None:
    notes.timeouts = {"wait_forever": 0.5}
    arrived = asyncio.get_running_loop().create_future()

    async def note_arrival(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        arrived.set_result(int(await reader.readline()))
        writer.close()

    listener = await asyncio.start_server(note_arrival, "127.0.0.1", unused_tcp_port)
    async with listener, notes:
        tools = by_name(notes)
        output = await tools["notes_wait_forever"].acall(notify_port=unused_tcp_port)
        after = await tools["notes_pid"].acall()

    assert output.is_error
    assert isinstance(output.exception, TimeoutError)
    assert "within its timeout of 0.5 s" in output.content
    assert int(after.content) == await arrived  # the same server answered afterwards


async def test_a_server_dying_mid_call_is_a_named_error_and_leaves_no_process(
    notes: MCPToolSet,
) -> None:
    async with notes:
        output = await by_name(notes)["notes_crash"].acall()

    assert output.is_error
    assert isinstance(output.exception, MCPServerGoneError)
    assert "MCPServerGoneError" in output.content
    assert "reconnecting once" in output.content
    # The fixture checks that no process is left, zombies included.


async def test_a_server_that_went_away_between_calls_is_reconnected_once(
    notes: MCPToolSet,
) -> None:
    async with notes:
        pid_tool = by_name(notes)["notes_pid"]
        first = int((await pid_tool.acall()).content)
        os.kill(first, signal.SIGKILL)
        second = await pid_tool.acall()

    assert not second.is_error, second.content
    assert int(second.content) != first
    assert not is_alive(first)


async def test_without_a_block_the_session_lasts_as_long_as_the_calls(
    notes: MCPToolSet,
) -> None:
    await notes.list_tools()
    assert child_processes() == []  # listing opened a session and closed it

    output = await by_name(notes)["notes_pid"].acall()

    assert not output.is_error
    assert not is_alive(int(output.content))
    assert child_processes() == []


async def test_calls_between_hold_and_release_share_one_session(notes: MCPToolSet) -> None:
    tally = next(tool for tool in await notes.list_tools() if tool.name == "notes_tally")

    notes.hold()
    first, second = await tally.acall(label="a"), await tally.acall(label="b")
    assert len(child_processes()) == 1  # the calls have ended; the hold keeps the session
    await notes.release()

    assert first.content.split(" of process ")[0] == "a: call 1"
    assert second.content.split(" of process ")[0] == "b: call 2"
    assert not is_alive(int(first.content.split(" of process ")[1]))


async def test_a_release_without_a_hold_is_refused(notes: MCPToolSet) -> None:
    with pytest.raises(MCPSessionNotHeldError, match="must follow a hold"):
        await notes.release()


@pytest.mark.parametrize("in_block", [True, False], ids=["async-with", "no-block"])
async def test_cancelling_a_call_stops_the_server_process(
    notes: MCPToolSet, unused_tcp_port: int, in_block: bool
) -> None:
    arrived = asyncio.get_running_loop().create_future()

    async def note_arrival(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        arrived.set_result(int(await reader.readline()))
        writer.close()

    listener = await asyncio.start_server(note_arrival, "127.0.0.1", unused_tcp_port)
    async with listener:
        tools = await notes.list_tools()
        waiting = next(tool for tool in tools if tool.name == "notes_wait_forever")
        if in_block:
            await notes.__aenter__()
        call = asyncio.create_task(waiting.acall(notify_port=unused_tcp_port))
        pid = await arrived
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        if in_block:
            assert is_alive(pid)  # the block still holds the session
            await notes.__aexit__(None, None, None)

    assert not is_alive(pid)


async def test_two_toolsets_with_prefixes_share_one_agent_toolset(notes: MCPToolSet) -> None:
    other = MCPToolSet.stdio(sys.executable, [NOTES_SERVER], prefix="other_", allow={"echo"})
    async with notes, other:
        toolset = ToolSet([*notes.tools, *other])
        output = await toolset.acall("other_echo", {"text": "x"})

    assert "other_echo" in toolset
    assert "notes_echo" in toolset
    assert output.content == "echo: x"


async def test_a_server_that_cannot_start_is_a_connection_error() -> None:
    toolset = MCPToolSet.stdio(sys.executable, ["-c", "import sys; sys.exit(7)"])

    with pytest.raises(MCPConnectionError, match="could not connect to MCP server"):
        await toolset.list_tools()
    assert child_processes() == []


def test_a_sync_call_uses_a_session_of_its_own(notes: MCPToolSet) -> None:
    tools = {tool.name: tool for tool in asyncio.run(notes.list_tools())}

    output = tools["notes_echo"].call(text="from sync code")

    assert output.content == "echo: from sync code"
