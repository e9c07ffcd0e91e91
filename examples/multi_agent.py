"""A support desk of three agents that hand a customer's request to each other.

    OPENAI_API_KEY=sk-... python examples/multi_agent.py "Order 1042 arrived broken, refund it"
    OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=qwen2.5 python examples/multi_agent.py

`triage` reads the request and hands it to `orders` or `refunds` with the `handoff` tool
that `AgentWorkflow` gives it; `orders` looks orders up and may pass a refund on; `refunds`
refunds through a tool that records the refund in the state the agents share. One stream
shows everything, each line prefixed by the agent that wrote it: token deltas, tool calls,
results and handoffs. A model that keeps repeating a call is told to answer
(`answer_on_repeated_calls`); a run that ends in an error says it in one line, exit 1. Works
with OpenAI or any OpenAI-compatible server: set `OPENAI_API_KEY`, `OPENAI_BASE_URL`, or
both; `OPENAI_MODEL` picks the model; a slow server gets more time with
`--llm-timeout SECONDS` (or `OPENAI_TIMEOUT`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from agentflow import Context
from agents import (
    AgentHandoff,
    AgentOutput,
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ToolCall,
    ToolCallResult,
)
from agents.agent import AgentError
from agents.llm import LLM
from tools import tool

DEFAULT_REQUEST = "My order 1042 arrived broken. Can I get my money back?"

ORDERS = {
    "1042": {"item": "espresso machine", "price": 249.0, "status": "delivered"},
    "1043": {"item": "milk jug", "price": 19.5, "status": "shipped"},
}


def look_up_order(order_id: str) -> str:
    """The item, price and status of an order."""
    order = ORDERS.get(order_id)
    if order is None:
        raise KeyError(f"there is no order {order_id}")
    return f"order {order_id}: {order['item']}, {order['price']:.2f} EUR, {order['status']}"


@tool(side_effects=True)  # a model repeating the call gets the first result; no second refund
async def refund_order(order_id: str, reason: str, ctx: Context[Any]) -> str:
    """Refund a delivered order in full.

    Args:
        order_id: The order to refund.
        reason: Why the customer gets the refund.
    """
    order = ORDERS.get(order_id)
    if order is None or order["status"] != "delivered":
        raise ValueError(f"order {order_id} is not a delivered order")
    state = await ctx.store.get("state")
    state["refunds"].append({"order_id": order_id, "amount": order["price"], "reason": reason})
    await ctx.store.set("state", state)
    return f"refunded {order['price']:.2f} EUR for order {order_id}"


class DeskAgent(FunctionAgent):
    """A `FunctionAgent` that answers when its model goes round in circles."""

    # A small model may loop on a call (a 1.5B one asked for refund_order(1042) five times
    # in a row). Each repeat gets the first result back, the refund is not made again, and
    # once a call is repeated past max_repeated_calls the model is told to answer with what
    # it has (tool_choice="none") rather than the run ending with RepeatedToolCallError.
    answer_on_repeated_calls = True


def support_desk(llm: LLM) -> AgentWorkflow:
    """The three agents, `triage` first."""
    triage = DeskAgent(
        llm=llm,
        name="triage",
        description="Reads a customer's request and passes it to the right agent.",
        system_prompt="You route customer requests. Hand off at once; never answer yourself.",
        can_handoff_to=["orders", "refunds"],
    )
    orders = DeskAgent(
        tools=[look_up_order],
        llm=llm,
        name="orders",
        description="Answers questions about orders: items, prices, delivery.",
        system_prompt="You answer questions about orders. Hand refunds to the refunds agent.",
        can_handoff_to=["refunds"],
    )
    refunds = DeskAgent(
        tools=[look_up_order, refund_order],
        llm=llm,
        name="refunds",
        description="Refunds delivered orders that arrived damaged or wrong.",
        system_prompt="You refund delivered orders that arrived damaged. Confirm in one sentence.",
        can_handoff_to=[],
    )
    return AgentWorkflow(
        agents=[triage, orders, refunds], root_agent="triage", initial_state={"refunds": []}
    )


async def main(llm: LLM, request: str = DEFAULT_REQUEST) -> AgentOutput:
    """Answer `request`, printing each agent's part as it happens."""
    handler = support_desk(llm).run(user_msg=request)
    speaking = None
    async for ev in handler.stream_events():
        if isinstance(ev, AgentStream):
            if speaking != ev.agent_name:
                speaking = ev.agent_name
                print(f"\n[{ev.agent_name}] ", end="")
            print(ev.delta, end="", flush=True)
        elif isinstance(ev, ToolCall):
            print(f"\n[{ev.agent_name}] -> {ev.tool_name}({ev.raw_arguments})")
            speaking = None
        elif isinstance(ev, ToolCallResult):
            print(f"[{ev.agent_name}] <- {ev.content}")
        elif isinstance(ev, AgentHandoff):
            print(f"[{ev.from_agent}] handed off to {ev.to_agent}: {ev.reason}")
    output = await handler
    assert isinstance(output, AgentOutput)
    state = await handler.ctx.store.get("state")
    print(f"\n[answered by {output.agent_name}; {output.usage.total_tokens} tokens]")
    print(f"[refunds recorded: {state['refunds']}]")
    return output


def cli(argv: list[str]) -> int:
    """Run `main` with the model the environment names; 2 when no server is configured, 1
    when the run ends in an error, said in one line on stderr: the server failed or did not
    answer in time, the model refused, or an agent gave up (`MaxIterationsError`,
    `RepeatedToolCallError` from a server that ignores `tool_choice`, ...)."""
    import openai

    from agentflow.errors import WorkflowTimeoutError
    from agents.llm import (
        LLMConfigurationError,
        LLMError,
        OpenAI,
        add_llm_timeout_option,
        one_line_with_notes,
    )

    parser = argparse.ArgumentParser(description="Send a request to a support desk of agents.")
    parser.add_argument("request", nargs="*", help=f"default: {DEFAULT_REQUEST}")
    add_llm_timeout_option(parser)
    args = parser.parse_args(argv)
    try:
        llm = OpenAI.from_env(timeout=args.llm_timeout)
    except LLMConfigurationError as error:
        print(f"examples/multi_agent.py needs a model server: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(main(llm, " ".join(args.request) or DEFAULT_REQUEST))
    # openai.APIError: the SDK's own (server down, bad key); WorkflowTimeoutError: the run's.
    except (AgentError, LLMError, openai.APIError, WorkflowTimeoutError) as error:
        # Notes carry the hints (e.g. that the server may ignore tool_choice): same line.
        print(f"examples/multi_agent.py: {one_line_with_notes(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
