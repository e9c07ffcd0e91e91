"""Repeated tool calls (agents/agent/repeated_calls.py), against the real OpenAI client and
respx-mocked SSE: a model that keeps making the same calls gets the earlier answers behind
a note and is stopped after `max_repeated_calls`; a tool with `side_effects` never runs twice
with the same arguments in a run, one with `allow_repeats` runs every time; approvals,
`return_direct`, identical calls in one reply, handoffs, ReAct's text calls, and a run saved
and resumed mid-way, and the next run on the same context."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
import respx
from agent_runs import run_collecting
from llm_wire import calls_reply, sent_json, text_reply
from repeating_model import (
    LOOKUP_A1,
    REFUND_A1,
    Orders,
    alternating,
    answering_approvals,
    desk,
    saved_at_first_approval,
    tool_messages,
)

from agentflow import Context, step
from agentflow.context import DictState
from agents import (
    FunctionAgent,
    ReActAgent,
    RepeatedToolCallError,
    ToolCall,
    ToolCallResult,
)
from agents.agent import AgentFinish, AgentInput, AgentReply
from agents.agent.run_state import AgentState
from agents.llm import ScriptedLLM, tool_call
from agents.llm.openai.client import OpenAI
from tools import tool


async def test_a_model_alternating_two_calls_refunds_once_and_is_stopped_naming_the_call(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(side_effect=alternating(6))
    agent = FunctionAgent(tools=orders.tools(), llm=llm, name="support", max_iterations=12)

    with pytest.raises(RepeatedToolCallError) as raised:
        await agent.run("Refund order A1")

    assert orders.runs == ["refund A1", "lookup A1"]  # on main: refund ran six times
    error = raised.value
    assert (error.agent_name, error.tool_name, error.arguments) == (
        "support",
        "refund",
        '{"order_id": "A1"}',
    )
    assert (error.calls, error.max_repeated_calls) == (5, 3)
    assert str(error) == (
        """agent 'support' stopped the run: its model made the call refund({"order_id": "A1"}) """
        "5 times in it, more than the first and max_repeated_calls=3 repeats (each answered "
        "with the first result, not run again): it keeps asking for a result it already has. "
        "Check the result it reacts to; to allow more repeats, pass FunctionAgent(..., "
        "max_repeated_calls=4) or higher, or mark the tool @tool(allow_repeats=True) if its "
        "answer changes between calls"
    )
    assert len(route.calls) == 9  # the fifth refund call stopped it before it got an answer
    refund_again, lookup_again = tool_messages(route, 4)[2:]
    assert refund_again == (
        "Note: you already made this call in this run (call 'r0': 'refund' with the same "
        "arguments). 'refund' changes things, so it was not run again: nothing was done this "
        "time. The result it got then:\nrefunded A1"
    )
    assert lookup_again == (
        "Note: you already made this call in this run (call 'l0': 'lookup' with the same "
        "arguments), so it was not run again. The result it got then:\nA1: refunded"
    )


async def test_the_same_loop_on_a_scripted_model() -> None:
    orders = Orders()
    script = [tool_call(*call) for _ in range(6) for call in (REFUND_A1, LOOKUP_A1)]
    agent = FunctionAgent(tools=orders.tools(), llm=ScriptedLLM(script), max_repeated_calls=1)

    with pytest.raises(RepeatedToolCallError, match="made the call refund") as raised:
        await agent.run("Refund order A1")

    assert orders.runs == ["refund A1", "lookup A1"]
    assert raised.value.calls == 3


async def test_a_repeat_gets_the_earlier_result_and_arguments_compare_as_parsed_json(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()

    @tool
    def search(query: str, limit: int = 5) -> list[str]:
        """Search the orders."""
        orders.runs.append(f"search {query} {limit}")
        return [f"{query}-{n}" for n in range(limit)]

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("s1", "search", '{"query": "late", "limit": 2}')),
            calls_reply(("s2", "search", '{ "limit":2,"query":"late" }')),
            calls_reply(("s3", "search", '{"query": "late", "limit": 3}')),
            text_reply("Two late orders."),
        ]
    )
    agent = FunctionAgent(tools=[search], llm=llm)

    output, events = await run_collecting(agent, user_msg="Late orders?")

    assert orders.runs == ["search late 2", "search late 3"]
    first, again, other = output.tool_calls
    assert (first.repeat_of, again.repeat_of, other.repeat_of) == (None, "s1", None)
    assert again.content.endswith('The result it got then:\n["late-0","late-1"]')
    assert not again.is_error
    assert tool_messages(route, 2)[1] == again.content  # what the model read
    calls = [ev for ev in events if isinstance(ev, ToolCall)]
    assert [c.repeat_of for c in calls] == [None, "s1", None]


async def test_a_tool_with_allow_repeats_runs_every_time_and_never_counts(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    ticks: list[str] = []

    @tool(allow_repeats=True)
    def get_time() -> str:
        """The time now."""
        ticks.append("tick")
        return f"12:0{len(ticks)}"

    route = api.post("/chat/completions").mock(
        side_effect=[calls_reply((f"t{n}", "get_time", "{}")) for n in range(3)]
        + [text_reply("It is 12:03.")]
    )
    agent = FunctionAgent(tools=[get_time], llm=llm, max_repeated_calls=0)

    output, _ = await run_collecting(agent, user_msg="Time?")

    assert len(ticks) == 3
    assert [r.content for r in output.tool_calls] == ["12:01", "12:02", "12:03"]
    assert tool_messages(route, 3) == ["12:01", "12:02", "12:03"]


async def test_with_max_repeated_calls_zero_the_first_repeat_stops_the_run(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    api.post("/chat/completions").mock(
        side_effect=[calls_reply(("l1", *LOOKUP_A1)), calls_reply(("l2", *LOOKUP_A1))]
    )
    agent = FunctionAgent(tools=orders.tools(), llm=llm, max_repeated_calls=0)

    with pytest.raises(RepeatedToolCallError, match=r"max_repeated_calls=0"):
        await agent.run("Status of A1?")
    assert orders.runs == ["lookup A1"]
    with pytest.raises(ValueError, match="FunctionAgent 'agent': max_repeated_calls must be 0"):
        FunctionAgent(llm=llm, max_repeated_calls=-1)


async def test_malformed_arguments_are_compared_as_written(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("b1", "lookup", '{"order_id": "A1"')),
            calls_reply(("b2", "lookup", '{"order_id": "B2"')),
            calls_reply(("b3", "lookup", '{"order_id": "B2"')),
        ]
    )
    agent = FunctionAgent(tools=orders.tools(), llm=llm, max_repeated_calls=0)

    with pytest.raises(RepeatedToolCallError) as raised:
        await agent.run("Status?")

    # b2 is not a repeat of b1, though neither has arguments that parse; b3 repeats b2.
    assert raised.value.arguments == '{"order_id": "B2"'
    assert orders.runs == []  # bad arguments never reach the tool


class UpperCasingAgent(FunctionAgent):
    """Rewrites each call's order id in upper case before it runs (its raw text stays)."""

    async def send_tool_calls(self, ctx: Context[AgentState], calls: Sequence[ToolCall]) -> None:
        upper = [
            call.model_copy(update={"arguments": {"order_id": call.arguments["order_id"].upper()}})
            for call in calls
        ]
        await super().send_tool_calls(ctx, upper)


async def test_a_call_repeats_another_by_the_arguments_it_runs_on_not_its_raw_text(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("l1", "lookup", '{"order_id": "a1"}')),
            calls_reply(("l2", "lookup", '{"order_id": "A1"}')),
            text_reply("A1 was delivered."),
        ]
    )
    agent = UpperCasingAgent(tools=orders.tools(), llm=llm)

    output = await agent.run("Status of A1?")

    assert orders.runs == ["lookup A1"]  # both calls ran on {"order_id": "A1"}
    assert [(r.call_id, r.repeat_of) for r in output.tool_calls] == [("l1", None), ("l2", "l1")]


async def test_two_identical_calls_in_one_reply_run_once_and_both_get_the_result(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(
                ("r1", *REFUND_A1),
                ("r2", "refund", '{"order_id":"A1"}'),
                ("l1", *LOOKUP_A1),
                ("r3", "refund", '{ "order_id": "A1" }'),
            ),
            text_reply("Refunded A1 once."),
        ]
    )
    agent = FunctionAgent(tools=orders.tools(), llm=llm)

    output, events = await run_collecting(agent, user_msg="Refund A1")

    assert orders.runs.count("refund A1") == 1  # on main: three times
    assert [(r.call_id, r.repeat_of) for r in output.tool_calls] == [
        ("r1", None),
        ("r2", "r1"),
        ("l1", None),
        ("r3", "r1"),
    ]
    same = (
        "Note: this call is the same as call 'r1' of this reply ('refund' with the same "
        "arguments), so it was made once for both. The result of call 'r1':\nrefunded A1"
    )
    assert tool_messages(route, 1) == ["refunded A1", same, output.tool_calls[2].content, same]
    streamed = {ev.call_id: ev for ev in events if isinstance(ev, ToolCallResult)}
    assert sorted(streamed) == ["l1", "r1", "r2", "r3"]  # one result for every call
    assert (streamed["r2"].content, streamed["r2"].repeat_of) == (same, "r1")


async def test_a_call_repeated_in_its_reply_gets_the_refusal_without_a_second_question(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("r1", *REFUND_A1), ("r2", *REFUND_A1)),
            text_reply("The refund was not approved."),
        ]
    )
    agent = FunctionAgent(tools=orders.tools(), llm=llm, approval=["refund"])

    output, asked = await answering_approvals(agent.run("Refund A1"), lambda ev: False)

    assert asked == ["r1"]
    assert orders.runs == []
    refused, repeat = output.tool_calls
    assert (refused.denied, refused.is_error) == (True, True)
    assert (repeat.repeat_of, repeat.is_error) == ("r1", True)
    assert tool_messages(route, 1)[1].endswith(
        "The result of call 'r1':\nError: the user did not approve running tool 'refund'"
    )


async def test_a_failed_call_runs_again_unless_its_tool_has_side_effects(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    reads = Orders(fail_first=1)
    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("l1", *LOOKUP_A1)),
            calls_reply(("l2", *LOOKUP_A1)),
            text_reply("A1 was delivered."),
            calls_reply(("r1", *REFUND_A1)),
            calls_reply(("r2", *REFUND_A1)),
            text_reply("The refund may not have gone through."),
        ]
    )

    read_output = await FunctionAgent(tools=reads.tools(), llm=llm).run("Status of A1?")
    assert reads.runs == ["lookup A1", "lookup A1"]  # the failure may have passed: it did
    assert [r.is_error for r in read_output.tool_calls] == [True, False]

    writes = Orders(fail_first=1)
    write_output = await FunctionAgent(tools=writes.tools(), llm=llm).run("Refund A1")
    assert writes.runs == ["refund A1"]  # it may have refunded before timing out
    failed, again = write_output.tool_calls
    assert (failed.is_error, again.is_error, again.repeat_of) == (True, True, "r1")
    assert again.content.endswith(
        "The result it got then:\nError: tool 'refund' raised TimeoutError: the payment "
        "service did not answer"
    )


async def test_a_side_effect_makes_the_kept_lookups_run_again(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("l1", *LOOKUP_A1)),
            calls_reply(("r1", *REFUND_A1)),
            calls_reply(("l2", *LOOKUP_A1)),
            calls_reply(("r2", *REFUND_A1)),
            text_reply("A1 is refunded."),
        ]
    )
    agent = FunctionAgent(tools=orders.tools(), llm=llm)

    await agent.run("Refund A1 and check it")

    assert orders.runs == ["lookup A1", "refund A1", "lookup A1"]
    assert tool_messages(route, 3)[2] == "A1: refunded"  # read afresh, not the kept one
    assert tool_messages(route, 4)[3].startswith(
        "Note: you already made this call in this run (call 'r1': 'refund'"
    )


async def test_a_repeated_call_is_not_put_to_the_human_again(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("r1", *REFUND_A1), ("r2", "refund", '{"order_id": "B2"}')),
            calls_reply(("r3", *REFUND_A1), ("r4", "refund", '{"order_id": "B2"}')),
            text_reply("A1 refunded; B2 was not approved."),
        ]
    )
    agent = FunctionAgent(tools=orders.tools(), llm=llm, approval=["refund"])

    output, asked = await answering_approvals(
        agent.run("Refund A1 and B2"), lambda ev: ev.arguments["order_id"] == "A1"
    )

    assert sorted(asked) == ["r1", "r2"]  # on main the repeats were asked about too
    assert orders.runs == ["refund A1"]
    assert [(r.denied, r.repeat_of) for r in output.tool_calls] == [
        (False, None),
        (True, None),
        (False, "r1"),
        (False, "r2"),
    ]
    assert tool_messages(route, 2)[3] == (
        "Note: the user already refused this call in this run (call 'r2': 'refund' with the "
        "same arguments) and was not asked again. The answer it got then:\nError: the user did "
        "not approve running tool 'refund'"
    )
    assert [r.is_error for r in output.tool_calls] == [False, True, False, True]


async def test_a_repeated_return_direct_call_does_not_end_the_run_twice(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    placed: list[str] = []

    @tool(return_direct=True, side_effects=True)
    def place_order(item: str) -> str:
        """Place an order; its confirmation is the answer."""
        placed.append(item)
        return f"Order placed: {item}"

    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(
                ("p1", "place_order", '{"item": "tea"}'), ("p2", "place_order", '{"item": "tea"}')
            )
        ]
    )
    agent = FunctionAgent(tools=[place_order], llm=llm)

    output = await agent.run("One tea please")

    assert placed == ["tea"]
    assert output.response.text == "Order placed: tea"
    direct, repeat = output.tool_calls
    assert (direct.return_direct, repeat.return_direct, repeat.repeat_of) == (True, False, "p1")


async def test_saved_mid_run_the_record_survives_and_the_next_run_starts_afresh(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()

    def delete_note(order_id: str) -> str:
        """Delete an order's note."""
        orders.runs.append(f"delete {order_id}")
        return "deleted"

    def agent() -> FunctionAgent:
        return FunctionAgent(
            tools=[*orders.tools(), delete_note], llm=llm, approval=["delete_note"]
        )

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("r1", *REFUND_A1)),
            calls_reply(("d1", "delete_note", '{"order_id": "A1"}')),
            calls_reply(("r2", *REFUND_A1)),
            text_reply("Refunded A1 and deleted its note."),
            calls_reply(("r3", *REFUND_A1)),
            text_reply("Refunded A1 again, as asked."),
        ]
    )
    saved = await saved_at_first_approval(agent().run("Refund A1, then delete its note"))
    assert orders.runs == ["refund A1"]

    restored = agent()  # as in another process
    resumed = restored.run(ctx=Context.from_dict(restored, saved))
    output, _ = await answering_approvals(resumed, lambda ev: True)

    assert orders.runs == ["refund A1", "delete A1"]  # the repeat after resuming did not run
    assert output.tool_calls[-1].repeat_of == "r1"
    assert "nothing was done this time" in tool_messages(route, 3)[2]

    again = await restored.run("A new charge came in: refund A1 again", ctx=resumed.ctx)
    assert orders.runs == ["refund A1", "delete A1", "refund A1"]  # a new run, a new record
    assert again.tool_calls[0].repeat_of is None


async def test_saved_while_a_call_awaits_approval_its_twin_in_the_reply_gets_its_result(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()

    def agent() -> FunctionAgent:
        return FunctionAgent(tools=orders.tools(), llm=llm, approval=["refund"])

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("r1", *REFUND_A1), ("r2", *REFUND_A1)),
            text_reply("Refunded A1 once."),
        ]
    )
    saved = await saved_at_first_approval(agent().run("Refund A1"))
    assert orders.runs == []

    restored = agent()
    output, asked = await answering_approvals(
        restored.run(ctx=Context.from_dict(restored, saved)), lambda ev: True
    )

    assert asked == ["r1"]
    assert orders.runs == ["refund A1"]
    assert [(r.call_id, r.repeat_of) for r in output.tool_calls] == [("r1", None), ("r2", "r1")]
    assert tool_messages(route, 1)[1].endswith("The result of call 'r1':\nrefunded A1")


class RetryOnce:
    """A retry policy: one more attempt, at once."""

    def next(self, elapsed_time: float, attempts: int, error: Exception) -> float | None:
        return 0.0 if attempts == 1 else None


class RetryingAgent(FunctionAgent):
    @step(retry_policy=RetryOnce())
    async def handle_reply(
        self, ctx: Context[DictState], ev: AgentReply
    ) -> ToolCall | AgentInput | AgentFinish | None:
        return await super().handle_reply(ctx, ev)


async def test_a_reply_over_the_limit_leaves_the_record_as_it_was(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    api.post("/chat/completions").mock(
        side_effect=[calls_reply(("l1", *LOOKUP_A1)), calls_reply(("l2", *LOOKUP_A1))]
    )
    agent = RetryingAgent(tools=orders.tools(), llm=llm, max_repeated_calls=0)

    with pytest.raises(RepeatedToolCallError) as raised:
        await agent.run("Status of A1?")

    assert raised.value.calls == 2  # the retried step counted the same reply, not a third call


async def test_a_react_action_repeated_in_other_json_gets_the_observation_with_the_note(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply('Thought: check.\nAction: lookup\nAction Input: {"order_id": "A1"}'),
            text_reply('Thought: again.\nAction: lookup\nAction Input: {"order_id":"A1"}'),
            text_reply("Answer: A1 was delivered."),
        ]
    )
    agent = ReActAgent(tools=orders.tools(), llm=llm)

    output = await agent.run("Status of A1?")

    assert output.response.text == "A1 was delivered."
    assert orders.runs == ["lookup A1"]
    observation = sent_json(route.calls[2].request)["messages"][-1]["content"]
    assert observation.startswith("Observation: Note: you already made this call in this run")
    assert observation.endswith("The result it got then:\nA1: delivered")


async def test_in_an_agent_workflow_a_refund_is_not_made_again_by_the_next_agent(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    orders = Orders()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("r1", *REFUND_A1)),
            calls_reply(("h1", "handoff", '{"to_agent": "billing", "reason": "check"}')),
            calls_reply(("r2", *REFUND_A1)),
            text_reply("A1 is refunded."),
        ]
    )

    output = await desk(llm, orders).run("Refund A1")

    assert (output.agent_name, output.response.text) == ("billing", "A1 is refunded.")
    assert orders.runs == ["refund A1"]
    assert tool_messages(route, 3)[2].startswith(
        "Note: you already made this call in this run (call 'r1': 'refund'"
    )


async def test_a_handoff_made_again_is_made_again(api: respx.MockRouter, llm: OpenAI) -> None:
    orders = Orders()
    back_and_forth = [
        calls_reply((f"h{n}", "handoff", json.dumps({"to_agent": to, "reason": "yours"})))
        for n, to in enumerate(["billing", "front", "billing", "front", "billing"])
    ]
    route = api.post("/chat/completions").mock(
        side_effect=[*back_and_forth, text_reply("Billing here.")]
    )
    workflow = desk(llm, orders)
    for agent in workflow.agents.values():
        agent.max_repeated_calls = 0  # a handoff is never a repeat, however often it is made

    output = await workflow.run("Who handles this?")

    assert (output.agent_name, output.response.text) == ("billing", "Billing here.")
    assert [r.repeat_of for r in output.tool_calls] == [None] * 5
    assert tool_messages(route, 5)[4] == "Agent 'billing' now continues the conversation (yours)."
