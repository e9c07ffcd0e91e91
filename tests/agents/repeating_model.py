"""A support desk's order tools and a model that keeps repeating its calls, at the OpenAI
wire: what the repeated-calls tests run an agent against, and how they read what it sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import respx
from llm_wire import calls_reply, sent_json

from agentflow.handler import WorkflowHandler
from agents import (
    AgentOutput,
    AgentWorkflow,
    FunctionAgent,
    ToolApprovalRequired,
    ToolApprovalResponse,
)
from agents.llm.openai.client import OpenAI
from tools import FunctionTool


class Orders:
    """Order tools that record each run, to show what ran and how often."""

    def __init__(self, fail_first: int = 0) -> None:
        self.runs: list[str] = []
        self.status = "delivered"
        self.fail_first = fail_first

    def refund(self, order_id: str) -> str:
        """Refund an order."""
        self.runs.append(f"refund {order_id}")
        if len(self.runs) <= self.fail_first:
            raise TimeoutError("the payment service did not answer")
        self.status = "refunded"
        return f"refunded {order_id}"

    def lookup(self, order_id: str) -> str:
        """An order's status."""
        self.runs.append(f"lookup {order_id}")
        if len(self.runs) <= self.fail_first:
            raise ConnectionError("the order service is down")
        return f"{order_id}: {self.status}"

    def tools(self, **refund_flags: Any) -> list[FunctionTool]:
        refund_flags.setdefault("side_effects", True)
        return [
            FunctionTool.from_defaults(self.refund, **refund_flags),
            FunctionTool.from_defaults(self.lookup),
        ]


REFUND_A1 = ("refund", '{"order_id": "A1"}')
LOOKUP_A1 = ("lookup", '{"order_id": "A1"}')


def alternating(turns: int) -> list[httpx.Response]:
    """A model that makes refund(A1) and lookup(A1) in turn, whatever it reads."""
    replies = []
    for turn in range(turns):
        replies.append(calls_reply((f"r{turn}", *REFUND_A1)))
        replies.append(calls_reply((f"l{turn}", *LOOKUP_A1)))
    return replies


def tool_messages(route: respx.Route, call: int) -> list[str]:
    messages = sent_json(route.calls[call].request)["messages"]
    return [m["content"] for m in messages if m["role"] == "tool"]


async def answering_approvals(
    handler: WorkflowHandler[Any], approve: Callable[[ToolApprovalRequired], bool]
) -> tuple[AgentOutput, list[str]]:
    """Drain the run's stream, answering each approval request with `approve`: the run's
    output and the call ids a human was asked about."""
    asked: list[str] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            asked.append(ev.call_id)
            handler.ctx.send_event(ToolApprovalResponse(call_id=ev.call_id, approved=approve(ev)))
    output = await handler
    assert isinstance(output, AgentOutput)
    return output, asked


async def saved_at_first_approval(handler: WorkflowHandler[Any]) -> dict[str, Any]:
    """The run's context once it waits for its first approval, as JSON carries it; the run
    is then cancelled, as a process that stops would leave it."""
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            break
    saved: dict[str, Any] = json.loads(json.dumps(handler.ctx.to_dict()))
    await handler.cancel_run()
    return saved


def desk(llm: OpenAI, orders: Orders) -> AgentWorkflow:
    """Two agents sharing one refund tool, each able to hand off to the other."""
    return AgentWorkflow(
        agents=[
            FunctionAgent(tools=orders.tools(), llm=llm, name="front"),
            FunctionAgent(tools=orders.tools(), llm=llm, name="billing"),
        ]
    )
