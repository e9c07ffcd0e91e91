"""AgentWorkflow against the real OpenAI client and respx-mocked SSE: a handoff between two
agents, limited by can_handoff_to; shared state; one stream where every event names its
agent, sub-agent token deltas included; save and resume while a sub-agent waits for
approval; the next run continues with the active agent; bad set-ups refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from llm_wire import calls_reply, sent_json, text_reply

from agentflow import Context
from agentflow.events import Event
from agents import (
    AgentHandoff,
    AgentOutput,
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ReActAgent,
    ToolApprovalRequired,
    ToolApprovalResponse,
    ToolCall,
    ToolCallResult,
)
from agents.agent import HandoffError
from agents.llm.openai.client import OpenAI
from tools import tool


def sent(route: respx.Route, call: int) -> dict[str, Any]:
    return sent_json(route.calls[call].request)


def tool_names(request: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in request.get("tools", [])]


class Billing:
    """A tool that edits the shared state, recording its runs."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    async def refund(self, order: str, ctx: Context[Any]) -> str:
        """Refund an order."""
        self.runs.append(order)
        state = await ctx.store.get("state")
        state["refunded"].append(order)
        await ctx.store.set("state", state)
        return f"refunded {order} for {state['customer']}"


def team(llm: OpenAI, billing: Billing, **billing_kwargs: Any) -> AgentWorkflow:
    triage = FunctionAgent(
        llm=llm,
        name="triage",
        description="Routes requests.",
        system_prompt="You route.",
        can_handoff_to=["billing"],
    )
    refunds = FunctionAgent(
        tools=[tool(billing.refund)],
        llm=llm,
        name="billing",
        description="Handles refunds.",
        system_prompt="You refund.",
        **billing_kwargs,
    )
    return AgentWorkflow(
        agents=[triage, refunds],
        root_agent="triage",
        initial_state={"customer": "Ada", "refunded": []},
    )


async def test_handoff_passes_the_conversation_and_every_event_names_its_agent(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    billing = Billing()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "billing", "reason": "a refund"}')),
            calls_reply(("r1", "refund", '{"order": "A7"}')),
            text_reply("Refunded ", "A7."),
        ]
    )
    workflow = team(llm, billing)

    handler = workflow.run(user_msg="Refund order A7 please")
    events = [ev async for ev in handler.stream_events()]
    output = await handler

    assert isinstance(output, AgentOutput)
    assert (output.agent_name, output.response.text) == ("billing", "Refunded A7.")
    assert billing.runs == ["A7"]
    assert await handler.ctx.store.get("state") == {"customer": "Ada", "refunded": ["A7"]}
    handoffs = [ev for ev in events if isinstance(ev, AgentHandoff)]
    assert [(h.from_agent, h.to_agent, h.reason) for h in handoffs] == [
        ("triage", "billing", "a refund")
    ]
    calls = [(ev.agent_name, ev.tool_name) for ev in events if isinstance(ev, ToolCall)]
    assert calls == [("triage", "handoff"), ("billing", "refund")]
    deltas = [(ev.agent_name, ev.delta) for ev in events if isinstance(ev, AgentStream)]
    assert deltas == [("billing", "Refunded "), ("billing", "A7.")]
    tagged = [ev for ev in events if not isinstance(ev, AgentOutput)]
    assert all(getattr(ev, "agent_name", None) in {"triage", "billing"} for ev in tagged)

    first, second = sent(route, 0), sent(route, 1)
    assert first["messages"][0]["content"] == "You route."
    assert tool_names(first) == ["handoff"]
    to_agent = first["tools"][0]["function"]["parameters"]["properties"]["to_agent"]
    assert to_agent.get("enum", [to_agent.get("const")]) == ["billing"]
    assert "billing: Handles refunds." in first["tools"][0]["function"]["description"]
    assert second["messages"][0]["content"] == "You refund."
    assert tool_names(second) == ["refund", "handoff"]  # billing may hand back to triage
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool"]


async def test_a_handoff_outside_can_handoff_to_is_an_error_and_the_agent_stays(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "legal", "reason": "?"}')),
            text_reply("I will answer myself."),
        ]
    )
    workflow = AgentWorkflow(
        agents=[
            FunctionAgent(llm=llm, name="triage", system_prompt="T", can_handoff_to=["billing"]),
            FunctionAgent(llm=llm, name="billing", system_prompt="B", can_handoff_to=[]),
            FunctionAgent(llm=llm, name="legal", system_prompt="L"),
        ]
    )

    output = await workflow.run(user_msg="hi")

    assert output.agent_name == "triage"
    result = output.tool_calls[0]
    assert result.is_error
    assert "billing" in result.content
    assert sent(route, 1)["messages"][0]["content"] == "T"


async def test_an_agent_with_no_one_to_hand_off_to_gets_no_handoff_tool(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(return_value=text_reply("ok"))
    solo = FunctionAgent(llm=llm, name="solo", can_handoff_to=[])
    other = FunctionAgent(llm=llm, name="other")

    await AgentWorkflow(agents=[solo, other]).run(user_msg="hi")

    assert tool_names(sent(route, 0)) == []
    assert "handoff" not in solo.toolset  # the agents passed in are not changed
    assert "handoff" not in other.toolset


async def test_the_next_run_on_the_same_ctx_continues_with_the_active_agent(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "billing", "reason": "money"}')),
            text_reply("Which order?"),
            text_reply("Refund noted for B2."),
        ]
    )
    workflow = team(llm, Billing())
    first = workflow.run(user_msg="I want a refund")
    await first
    second = await workflow.run(ctx=first.ctx, user_msg="Order B2")

    assert second.agent_name == "billing"
    messages = sent(route, 2)["messages"]
    assert messages[0]["content"] == "You refund."
    assert [m.get("content") for m in messages if m["role"] == "user"] == [
        "I want a refund",
        "Order B2",
    ]


async def test_saved_while_a_sub_agent_waits_for_approval_and_resumed(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    billing = Billing()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "billing", "reason": "refund"}')),
            calls_reply(("r1", "refund", '{"order": "C3"}')),
            text_reply("Refunded C3."),
        ]
    )
    handler = team(llm, billing, approval=["refund"]).run(user_msg="refund C3")
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            assert ev.agent_name == "billing"
            break
    saved: dict[str, Any] = json.loads(json.dumps(handler.ctx.to_dict()))
    await handler.cancel_run()
    assert billing.runs == []

    workflow = team(llm, billing, approval=["refund"])  # as in a new process
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    events: list[Event] = []
    async for ev in resumed.stream_events():
        events.append(ev)
        if isinstance(ev, ToolApprovalRequired):
            resumed.ctx.send_event(ToolApprovalResponse(call_id=ev.call_id, approved=True))
    output = await resumed

    assert (output.agent_name, output.response.text) == ("billing", "Refunded C3.")
    assert billing.runs == ["C3"]
    assert len(route.calls) == 3  # nothing asked twice
    results = [ev for ev in events if isinstance(ev, ToolCallResult)]
    assert [(r.agent_name, r.content) for r in results] == [("billing", "refunded C3 for Ada")]


async def test_a_react_agent_takes_over_from_a_function_agent(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "poet", "reason": "verse"}')),
            text_reply("Thought: easy\nAnswer: Roses are red."),
        ]
    )
    workflow = AgentWorkflow(
        agents=[
            FunctionAgent(llm=llm, name="triage"),
            ReActAgent(llm=llm, name="poet", can_handoff_to=[]),
        ]
    )

    output = await workflow.run(user_msg="a poem")

    assert (output.agent_name, output.response.text) == ("poet", "Roses are red.")
    assert "tools" not in sent(route, 1)


def test_bad_set_ups_are_refused_with_the_name_at_fault() -> None:
    llm = OpenAI("m", api_key="k")
    a, b = FunctionAgent(llm=llm, name="a"), FunctionAgent(llm=llm, name="b")

    with pytest.raises(HandoffError, match="at least one agent"):
        AgentWorkflow(agents=[])
    with pytest.raises(HandoffError, match="two agents are named 'a'"):
        AgentWorkflow(agents=[a, FunctionAgent(llm=llm, name="a")])
    with pytest.raises(HandoffError, match=r"root_agent 'c' is not one of \['a', 'b'\]"):
        AgentWorkflow(agents=[a, b], root_agent="c")
    with pytest.raises(HandoffError, match="agent 'x' lists 'z' in can_handoff_to"):
        AgentWorkflow(agents=[a, FunctionAgent(llm=llm, name="x", can_handoff_to=["z"])])
    with pytest.raises(HandoffError, match="which is itself"):
        AgentWorkflow(agents=[a, FunctionAgent(llm=llm, name="x", can_handoff_to=["x"])])

    def handoff() -> str:
        """Not the workflow's."""
        return ""

    with pytest.raises(HandoffError, match="agent 'h' has its own tool named 'handoff'"):
        AgentWorkflow(agents=[a, FunctionAgent(tools=[handoff], llm=llm, name="h")])


def readme_multi_agent_block() -> str:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n### Several agents\n") : readme.index("\n## Tools\n")]
    block: str = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[0]
    return block


async def test_the_readme_example_runs_and_prints_the_handoff(
    api: respx.MockRouter, llm: OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    import textwrap

    code = readme_multi_agent_block()
    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "refunds", "reason": "damaged"}')),
            text_reply("Refunded."),
        ]
    )

    def refund_order(order_id: str) -> str:
        """Refund an order."""
        return f"refunded {order_id}"

    namespace: dict[str, Any] = {"llm": llm, "refund_order": refund_order}
    exec("async def readme_main():\n" + textwrap.indent(code, "    "), namespace)
    await namespace["readme_main"]()

    assert capsys.readouterr().out == "[triage -> refunds] damaged\n[refunds] Refunded."


async def test_a_second_handoff_in_one_reply_is_refused_and_the_first_one_holds(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(
                ("h1", "handoff", '{"to_agent": "billing", "reason": "money"}'),
                ("h2", "handoff", '{"to_agent": "legal", "reason": "law"}'),
            ),
            text_reply("Billing here."),
        ]
    )
    workflow = AgentWorkflow(
        agents=[
            FunctionAgent(llm=llm, name="triage"),
            FunctionAgent(llm=llm, name="billing", system_prompt="B"),
            FunctionAgent(llm=llm, name="legal", system_prompt="L"),
        ]
    )

    handler = workflow.run(user_msg="refund, or I sue")
    events = [ev async for ev in handler.stream_events()]
    output = await handler

    assert (output.agent_name, output.response.text) == ("billing", "Billing here.")
    taken, refused = output.tool_calls
    assert not taken.is_error
    assert refused.is_error
    assert refused.content == (
        "Error: agent 'triage' already hands off to 'billing' in this reply; this handoff to "
        "'legal' was not made"
    )
    handoffs = [(ev.from_agent, ev.to_agent) for ev in events if isinstance(ev, AgentHandoff)]
    assert handoffs == [("triage", "billing")]
    assert sent(route, 1)["messages"][0]["content"] == "B"


async def test_saved_with_a_handoff_pending_beside_a_call_awaiting_approval(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    billing = Billing()

    def make() -> AgentWorkflow:
        refunder = tool(billing.refund)
        return AgentWorkflow(
            agents=[
                FunctionAgent(tools=[refunder], llm=llm, name="triage", approval=["refund"]),
                FunctionAgent(llm=llm, name="billing", system_prompt="B"),
            ],
            initial_state={"customer": "Ada", "refunded": []},
        )

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(
                ("h1", "handoff", '{"to_agent": "billing", "reason": "follow-up"}'),
                ("r1", "refund", '{"order": "D4"}'),
            ),
            text_reply("Billing: D4 refunded."),
        ]
    )
    handler = make().run(user_msg="refund D4 and pass me on")
    async for ev in handler.stream_events():
        if isinstance(ev, ToolCallResult):
            assert ev.tool_name == "handoff"  # recorded; the refund still waits
            break
    saved: dict[str, Any] = json.loads(json.dumps(handler.ctx.to_dict()))
    await handler.cancel_run()

    workflow = make()
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    events: list[Event] = []
    async for ev in resumed.stream_events():
        events.append(ev)
        if isinstance(ev, ToolApprovalRequired):
            resumed.ctx.send_event(ToolApprovalResponse(call_id=ev.call_id, approved=True))
    output = await resumed

    assert (output.agent_name, output.response.text) == ("billing", "Billing: D4 refunded.")
    assert billing.runs == ["D4"]
    assert [(ev.from_agent, ev.to_agent) for ev in events if isinstance(ev, AgentHandoff)] == [
        ("triage", "billing")
    ]
    assert sent(route, 1)["messages"][0]["content"] == "B"
    assert await resumed.ctx.store.get("handoff_request") is None


async def test_a_sub_agent_error_fails_the_run_naming_the_agent(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    import httpx
    import openai

    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "billing", "reason": "money"}')),
            httpx.Response(
                400, json={"error": {"message": "model gone", "type": "invalid_request_error"}}
            ),
        ]
    )
    handler = team(llm, Billing()).run(user_msg="refund")

    with pytest.raises(openai.BadRequestError, match="model gone") as raised:
        await handler
    assert "in agent 'billing' of the AgentWorkflow" in raised.value.__notes__
    assert not handler.ctx.is_running


async def test_a_handoff_beside_a_return_direct_call_applies_from_the_next_run(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    @tool(return_direct=True)
    def book(room: str) -> str:
        """Book a room."""
        return f"Booked {room}."

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(
                ("h1", "handoff", '{"to_agent": "billing", "reason": "invoice"}'),
                ("b1", "book", '{"room": "A1"}'),
            ),
            text_reply("Your invoice is on its way."),
        ]
    )
    workflow = AgentWorkflow(
        agents=[
            FunctionAgent(tools=[book], llm=llm, name="desk", system_prompt="D"),
            FunctionAgent(llm=llm, name="billing", system_prompt="B"),
        ]
    )

    first = workflow.run(user_msg="Book A1 and send the invoice")
    events = [ev async for ev in first.stream_events()]
    output = await first
    second = await workflow.run(ctx=first.ctx, user_msg="Where is my invoice?")

    assert (output.agent_name, output.response.text) == ("desk", "Booked A1.")
    handoffs = [(ev.from_agent, ev.to_agent) for ev in events if isinstance(ev, AgentHandoff)]
    assert handoffs == [("desk", "billing")]
    assert isinstance(events[-1], AgentOutput)
    assert second.agent_name == "billing"
    assert sent(route, 1)["messages"][0]["content"] == "B"
