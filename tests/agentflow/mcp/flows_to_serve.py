"""What the MCP serving tests serve: a workflow with typed start fields that streams its
progress, one that fails, and a `tools` tool. `python flows_to_serve.py --http PORT` serves
them with `agentflow.mcp.serve` over streamable HTTP; `agentflow mcp` serves `served`."""

from __future__ import annotations

import sys

from agentflow import Workflow, step
from agentflow.context import Context
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.mcp import WorkflowTool, serve
from tools import tool


class CountRequest(StartEvent):
    topic: str
    steps: int = 2


class Counted(Event):
    topic: str
    step: int


class CountFlow(Workflow):
    """Count the steps of a topic, streaming each one."""

    @step
    async def count(self, ctx: Context, ev: CountRequest) -> StopEvent:
        for number in range(1, ev.steps + 1):
            ctx.write_event_to_stream(Counted(topic=ev.topic, step=number))
        return StopEvent(result={"topic": ev.topic, "counted": ev.steps})


class BrokenFlow(Workflow):
    """Always fails."""

    @step
    async def fail(self, ev: StartEvent) -> StopEvent:
        raise RuntimeError("the broken flow broke")


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


served = [CountFlow(), WorkflowTool(BrokenFlow(), name="broken"), add]

if __name__ == "__main__":
    serve(*served, transport="http", host="127.0.0.1", port=int(sys.argv[2]))
