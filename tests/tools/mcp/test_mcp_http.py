"""`MCPToolSet` against the notes server on 127.0.0.1 over streamable HTTP: listing, a call
with the toolset's headers, an error result, a timeout, and a server that dies mid-call."""

from __future__ import annotations

import subprocess

from tools.errors import MCPServerGoneError
from tools.mcp import MCPToolSet


async def test_listing_and_calls_over_streamable_http(
    http_server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = http_server
    toolset = MCPToolSet.http(url, headers={"X-Team": "otters"}, prefix="notes_")
    async with toolset:
        tools = {tool.name: tool for tool in toolset.tools}
        added = await tools["notes_add"].acall(a=40, b=2)
        header = await tools["notes_header"].acall(name="X-Team")
        refused = await tools["notes_refuse"].acall(reason="closed")

    assert tools["notes_add"].metadata.get_parameters_dict()["required"] == ["a", "b"]
    assert added.raw_output == {"total": 42}
    assert header.content == "otters"
    assert refused.is_error
    assert "refused: closed" in refused.content


async def test_a_timeout_over_http_is_an_error_output(
    http_server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = http_server
    toolset = MCPToolSet.http(url, timeouts={"slow_lookup": 0.3})
    async with toolset:
        tools = {tool.name: tool for tool in toolset.tools}
        output = await tools["slow_lookup"].acall(city="Oslo")
        after = await tools["echo"].acall(text="still here")

    assert output.is_error
    assert isinstance(output.exception, TimeoutError)
    assert after.content == "echo: still here"


async def test_an_http_server_dying_mid_call_is_a_named_error(
    http_server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = http_server
    toolset = MCPToolSet.http(url)
    async with toolset:
        crash = next(tool for tool in toolset.tools if tool.name == "crash")
        output = await crash.acall()

    assert output.is_error
    assert isinstance(output.exception, MCPServerGoneError)
    assert process.wait(timeout=5) == 3
