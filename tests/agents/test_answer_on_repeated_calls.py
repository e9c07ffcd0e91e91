"""`FunctionAgent.answer_on_repeated_calls`, against the real OpenAI client and respx-mocked
SSE: a model that repeats a call past `max_repeated_calls` has that reply answered from the
record and its next call made with `tool_choice="none"`, so the run ends with its answer; a
server that ignores `tool_choice` still gets `RepeatedToolCallError`, and so does a
`ReActAgent`, which offers the API no tools; in an `AgentWorkflow` the option is each
agent's; a run saved and resumed in between still makes the call without tools.

Without the option, the run stops at the repeat: test_repeated_tool_calls.py's
`test_a_model_alternating_two_calls_refunds_once_and_is_stopped_naming_the_call`."""

from __future__ import annotations

import httpx
import pytest
import respx
from llm_wire import calls_reply, sent_json, text_reply
from repeating_model import (
    REFUND_A1,
    Orders,
    alternating,
    answering_approvals,
    saved_at_first_approval,
    tool_messages,
)

from agentflow import Context
from agents import AgentWorkflow, FunctionAgent, ReActAgent, RepeatedToolCallError
from agents.llm.openai.client import OpenAI

REFUND_NOTE = (
    "Note: you already made this call in this run (call 'r0': 'refund' with the same "
    "arguments). 'refund' changes things, so it was not run again: nothing was done this "
    "time. The result it got then:\nrefunded A1"
)


class Answering(FunctionAgent):
    answer_on_repeated_calls = True


def looping_then(*after: httpx.Response) -> list[httpx.Response]:
    """The alternating model up to its fifth refund call ('r4', one repeat more than the
    default `max_repeated_calls=3`), then `after`."""
    return [*alternating(5)[:9], *after]


def tool_choices(route: respx.Route) -> list[str | None]:
    return [sent_json(call.request).get("tool_choice") for call in route.calls]


async def test_the_reply_over_the_limit_is_answered_and_the_next_call_told_to_answer(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=looping_then(text_reply("A1 is refunded, once."))
    )
    agent = Answering(tools=orders.tools(), llm=llm, max_iterations=12)

    output = await agent.run("Refund order A1")

    assert output.response.text == "A1 is refunded, once."  # on main: RepeatedToolCallError
    assert orders.runs == ["refund A1", "lookup A1"]
    assert tool_choices(route) == [None] * 9 + ["none"]
    last = sent_json(route.calls.last.request)
    assert [t["function"]["name"] for t in last["tools"]] == ["refund", "lookup"]
    assert tool_messages(route, 9)[-1] == REFUND_NOTE  # r4, answered from the record
    assert [r.repeat_of for r in output.tool_calls][-1] == "r0"


async def test_a_repeat_limit_reached_on_the_last_iteration_still_gets_its_answer(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=looping_then(text_reply("A1 is refunded, once."))
    )
    # The ninth reply is the one over the repeat limit and the ninth call the last allowed.
    agent = Answering(tools=Orders().tools(), llm=llm, max_iterations=9)

    output = await agent.run("Refund order A1")

    assert output.response.text == "A1 is refunded, once."  # before: MaxIterationsError
    assert tool_choices(route) == [None] * 9 + ["none"]


@pytest.mark.parametrize(
    "ignoring",
    [("r5", *REFUND_A1), ("n1", "lookup", '{"order_id": "B2"}')],
    ids=["the-same-call-again", "a-new-call"],
)
async def test_a_server_that_ignores_tool_choice_gets_the_error_and_no_tool_runs(
    api: respx.MockRouter, llm: OpenAI, ignoring: tuple[str, str, str]
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(side_effect=looping_then(calls_reply(ignoring)))
    agent = Answering(tools=orders.tools(), llm=llm, name="support", max_iterations=12)

    with pytest.raises(RepeatedToolCallError) as raised:
        await agent.run("Refund order A1")

    assert tool_choices(route) == [None] * 9 + ["none"]
    assert orders.runs == ["refund A1", "lookup A1"]  # lookup(B2) did not run either
    error = raised.value
    assert (error.agent_name, error.tool_name, error.arguments, error.calls) == (
        "support",
        "refund",
        '{"order_id": "A1"}',
        5,
    )
    assert (
        "agent 'support' told its model to answer with what it has (tool_choice='none'), "
        "and the reply asked for tools anyway: the server may ignore tool_choice"
    ) in error.__notes__


async def test_a_react_agent_offers_the_api_no_tools_so_it_still_raises(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    action = 'Thought: check.\nAction: lookup\nAction Input: {"order_id": "A1"}'
    route = api.post("/chat/completions").mock(side_effect=[text_reply(action)] * 5)
    agent = ReActAgent(tools=orders.tools(), llm=llm, name="reasoner")
    agent.answer_on_repeated_calls = True

    with pytest.raises(RepeatedToolCallError, match="agent 'reasoner' stopped the run"):
        await agent.run("Status of A1?")

    assert len(route.calls) == 5
    assert tool_choices(route) == [None] * 5
    assert orders.runs == ["lookup A1"]


def front_and_billing(llm: OpenAI, orders: Orders, answering: str) -> AgentWorkflow:
    """Two agents sharing the order tools, each able to hand off to the other; the one
    named `answering` has `answer_on_repeated_calls` set on the instance passed in."""
    agents = [FunctionAgent(tools=orders.tools(), llm=llm, name=n) for n in ("front", "billing")]
    for agent in agents:
        agent.answer_on_repeated_calls = agent.name == answering
    return AgentWorkflow(agents=agents)


async def test_in_an_agent_workflow_the_agent_with_the_option_is_told_to_answer(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "billing", "reason": "a refund"}')),
            *looping_then(text_reply("Billing: A1 is refunded.")),
        ]
    )

    output = await front_and_billing(llm, orders, answering="billing").run("Refund A1")

    assert (output.agent_name, output.response.text) == ("billing", "Billing: A1 is refunded.")
    assert orders.runs == ["refund A1", "lookup A1"]
    assert tool_choices(route) == [None] * 10 + ["none"]
    last = sent_json(route.calls.last.request)
    assert [t["function"]["name"] for t in last["tools"]] == ["refund", "lookup", "handoff"]


async def test_in_an_agent_workflow_an_agent_without_the_option_still_raises(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    api.post("/chat/completions").mock(side_effect=looping_then())

    with pytest.raises(RepeatedToolCallError) as raised:
        await front_and_billing(llm, orders, answering="billing").run("Refund A1")

    assert raised.value.agent_name == "front"
    assert "in agent 'front' of the AgentWorkflow" in raised.value.__notes__


async def test_a_handoff_in_the_reply_over_the_limit_leaves_the_next_agent_to_answer(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=[
            *alternating(4),
            calls_reply(
                ("r4", *REFUND_A1),
                ("h1", "handoff", '{"to_agent": "billing", "reason": "stuck"}'),
            ),
            text_reply("Billing: A1 was refunded once."),
        ]
    )

    output = await front_and_billing(llm, orders, answering="front").run("Refund A1")

    assert (output.agent_name, output.response.text) == (
        "billing",
        "Billing: A1 was refunded once.",
    )
    assert tool_choices(route) == [None] * 9 + ["none"]
    assert orders.runs == ["refund A1", "lookup A1"]


async def test_saved_before_the_call_without_tools_the_resumed_run_still_makes_it(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    escalated: list[str] = []

    def escalate(order_id: str) -> str:
        """Pass an order to a human."""
        escalated.append(order_id)
        return f"{order_id} escalated"

    def agent() -> FunctionAgent:
        return Answering(
            tools=[*orders.tools(), escalate], llm=llm, approval=["escalate"], max_iterations=12
        )

    route = api.post("/chat/completions").mock(
        side_effect=[
            *alternating(4),
            calls_reply(("r4", *REFUND_A1), ("e1", "escalate", '{"order_id": "A1"}')),
            text_reply("A1 is refunded and escalated."),
        ]
    )
    saved = await saved_at_first_approval(agent().run("Refund A1"))
    assert len(route.calls) == 9  # the reply over the limit, waiting for e1's approval

    restored = agent()  # as in another process
    output, asked = await answering_approvals(
        restored.run(ctx=Context.from_dict(restored, saved)), lambda ev: True
    )

    assert asked == ["e1"]
    assert output.response.text == "A1 is refunded and escalated."
    assert tool_choices(route) == [None] * 9 + ["none"]
    assert (orders.runs, escalated) == (["refund A1", "lookup A1"], ["A1"])
