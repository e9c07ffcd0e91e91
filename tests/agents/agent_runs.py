"""Running an agent in a test: its output and every event it streamed."""

from __future__ import annotations

from typing import Any

from agentflow import Context
from agentflow.events import Event
from agents import AgentOutput, FunctionAgent


async def run_collecting(
    agent: FunctionAgent, ctx: Context[Any] | None = None, **kwargs: Any
) -> tuple[AgentOutput, list[Event]]:
    """`agent.run(...)`, its stream drained, and the `AgentOutput` it ended with."""
    handler = agent.run(ctx=ctx, **kwargs)
    events = [ev async for ev in handler.stream_events()]
    output = await handler
    assert isinstance(output, AgentOutput)
    return output, events
