"""agentflow workflows and tools served over MCP, called by the `mcp` SDK's own client over
stdio (`agentflow mcp`, a subprocess) and streamable HTTP (`agentflow.mcp.serve` on
127.0.0.1): the start event's fields are the input schema, the result the tool result, the
streamed events progress notifications."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult, TextContent

FLOWS = str(Path(__file__).with_name("flows_to_serve.py"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def http_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, FLOWS, "--http", str(port)], stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "Uvicorn running on" in line:
                break
        else:
            raise RuntimeError(f"the served flows exited with {process.wait()}")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.fixture(params=["stdio", "http"])
def server(request: pytest.FixtureRequest) -> StdioServerParameters | str:
    """`agentflow mcp` as a subprocess over stdio, or `serve(...)` over HTTP on 127.0.0.1.
    (Each test enters its `Client` itself: anyio's scopes must be left by the task that
    entered them, and an async fixture's teardown runs in another.)"""
    if request.param == "stdio":
        return StdioServerParameters(
            command=sys.executable, args=["-m", "agentflow", "mcp", f"{FLOWS}:served"]
        )
    url: str = request.getfixturevalue("http_url")
    return url


async def test_the_start_events_fields_are_the_input_schema(
    server: StdioServerParameters | str,
) -> None:
    async with Client(server) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert set(listed) == {"count_flow", "broken", "add"}
    count = listed["count_flow"]
    assert count.description == "Count the steps of a topic, streaming each one."
    assert count.input_schema["required"] == ["topic"]
    assert count.input_schema["properties"]["steps"]["default"] == 2
    assert listed["add"].input_schema["required"] == ["a", "b"]


async def test_a_workflow_call_streams_progress_and_returns_the_result(
    server: StdioServerParameters | str,
) -> None:
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async with Client(server) as client:
        result = await client.call_tool(
            "count_flow", {"topic": "otters", "steps": 3}, progress_callback=on_progress
        )

    assert not result.is_error
    assert result.structured_content == {"topic": "otters", "counted": 3}
    assert json.loads(text_of(result)) == {"topic": "otters", "counted": 3}
    assert [value for value, _ in progress] == [1, 2, 3]
    assert all(message and message.startswith("Counted ") for _, message in progress)
    assert '"step":3' in str(progress[-1][1])


async def test_a_failing_workflow_and_bad_start_fields_are_error_results(
    server: StdioServerParameters | str,
) -> None:
    async with Client(server) as client:
        broken = await client.call_tool("broken", {})
        missing = await client.call_tool("count_flow", {"steps": 1})

    assert broken.is_error
    assert "RuntimeError: the broken flow broke" in text_of(broken)
    assert missing.is_error
    assert "topic" in text_of(missing)


async def test_a_tools_tool_is_served_with_its_output(server: StdioServerParameters | str) -> None:
    async with Client(server) as client:
        result = await client.call_tool("add", {"a": 2, "b": 40})

    assert not result.is_error
    assert text_of(result) == "42"


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text
