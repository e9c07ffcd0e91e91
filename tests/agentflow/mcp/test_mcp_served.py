"""`agentflow.mcp.mcp_server` in-process (the `mcp` SDK's `Client` takes a server object):
what it refuses to serve, and a call the client cancels cancels the workflow's run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from mcp import Client

from agentflow import Context, Workflow, step
from agentflow.cli import main
from agentflow.errors import MCPServeError
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.mcp import WorkflowTool, mcp_server


class Started(Event):
    pass


def waiting_flow(cancelled: asyncio.Future[None]) -> Workflow:
    class WaitingFlow(Workflow):
        """Says it started, then waits until cancelled."""

        @step
        async def wait(self, ctx: Context, ev: StartEvent) -> StopEvent:
            ctx.write_event_to_stream(Started())
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set_result(None)
                raise
            return StopEvent()

    return WaitingFlow()


async def test_a_call_the_client_cancels_cancels_the_run() -> None:
    cancelled = asyncio.get_running_loop().create_future()
    started = asyncio.get_running_loop().create_future()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        if not started.done():
            started.set_result(message)

    async with Client(mcp_server(waiting_flow(cancelled))) as client:
        call = asyncio.create_task(
            client.call_tool("waiting_flow", {}, progress_callback=on_progress)
        )
        assert str(await started).startswith("Started")
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.wait_for(cancelled, timeout=5)


def test_something_that_is_neither_a_workflow_nor_a_tool_is_refused() -> None:
    with pytest.raises(MCPServeError, match="cannot serve 42"):
        mcp_server(42)


async def test_two_items_with_one_name_are_refused() -> None:
    flow = waiting_flow(asyncio.get_running_loop().create_future())
    with pytest.raises(MCPServeError, match="two served items are named 'waiting'"):
        mcp_server(WorkflowTool(flow, name="waiting"), WorkflowTool(flow, name="waiting"))


def test_the_command_names_a_target_it_cannot_serve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "nothing_to_serve.py"
    module.write_text("value = 42\n")

    assert main(["mcp", f"{module}:value"]) == 2  # a usage error
    assert "cannot serve 42" in capsys.readouterr().err


class Echoed(Workflow):
    """Returns its start event's fields."""

    @step
    async def echo(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=ev.model_dump())


async def test_arguments_named_like_run_options_are_start_event_fields() -> None:
    async with Client(mcp_server(Echoed())) as client:
        result = await client.call_tool("echoed", {"ctx": 1, "run_id": "r", "topic": "t"})

    assert not result.is_error, result.content
    assert result.structured_content == {"ctx": 1, "run_id": "r", "topic": "t"}
