"""Prebuilt workflows run with a store, crashed mid-run (a copy of the SQLite files as a
`kill -9` would leave them) and resumed in a fresh workflow: the result is that of an
uninterrupted run, no completed LLM request reaches the wire again (counted there, with
respx) and no completed tool call or approval is made again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from durable_agent_runs import ToolModel, crash_image
from llm_wire import calls_reply, completion, text_reply
from research_wire import BATTERY_CORPUS, ResearchModel, notes, plan, url_of, write_corpus

from agentflow import Context, step
from agentflow.context import DictState
from agentflow.events import HumanResponseEvent
from agentflow.handler import WorkflowHandler
from agentflow.stores import SqliteStore
from agents import (
    AgentOutput,
    AgentWorkflow,
    FunctionAgent,
    ReActAgent,
    ToolApprovalRequired,
    ToolApprovalResponse,
    ToolCallResult,
)
from agents.agent import AgentFinish, AgentInput
from agents.llm.openai.client import OpenAI
from agents.research import LocalCorpusSearch, PlanReview, ResearchReport, ResearchWorkflow
from tools import tool

THREE_CITIES = [
    ("c1", "weather", '{"city": "Oslo"}'),
    ("c2", "weather", '{"city": "Rome"}'),
    ("c3", "weather", '{"city": "Lima"}'),
]


class Weather:
    """A tool that logs each run; a city in `hanging` waits (still running at the crash)."""

    def __init__(self, hanging: str | None = None) -> None:
        self.ran: list[str] = []
        self.hanging = hanging

    async def weather(self, city: str) -> str:
        """The weather in a city."""
        if city == self.hanging:
            await asyncio.Event().wait()
        self.ran.append(city)
        return f"{city}: {len(city)}C"


class CountsToolResults:
    """Tells when `results_seen` tool results reached the agent's collector: a result is
    routed only once the execution that made it is journalled, so those calls are durable
    from then on. Mixed into FunctionAgent and AgentWorkflow below."""

    def __init__(self, *args: Any, results_seen: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.results_seen = results_seen
        self.seen = 0
        self.reached: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @step(num_workers=1)
    async def aggregate_tool_results(
        self, ctx: Context[DictState], ev: ToolCallResult
    ) -> AgentInput | AgentFinish | None:
        self.seen += 1
        if self.seen == self.results_seen:
            self.reached.set_result(None)
        result: AgentInput | AgentFinish | None = await super().aggregate_tool_results(  # type: ignore[misc]
            ctx, ev
        )
        return result


class CountingAgent(CountsToolResults, FunctionAgent):
    pass


async def run_uninterrupted(llm: OpenAI, tmp_path: Path) -> AgentOutput:
    async with SqliteStore(tmp_path / "whole.db") as store:
        agent = CountingAgent(tools=[tool(Weather().weather)], llm=llm, store=store)
        output = await agent.run(user_msg="Weather in three cities?", run_id="r")
    assert isinstance(output, AgentOutput)
    return output


async def test_a_function_agent_resumes_without_repeating_its_llm_call_or_finished_tools(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    model = ToolModel(THREE_CITIES)
    api.post("/chat/completions").mock(side_effect=model)
    expected = await run_uninterrupted(llm, tmp_path)
    assert model.requests == ["ask", "answer"]
    model.requests.clear()

    database = tmp_path / "runs.db"
    first_tools = Weather(hanging="Lima")
    async with SqliteStore(database) as store:
        first = CountingAgent(
            tools=[tool(first_tools.weather)], llm=llm, store=store, results_seen=2
        )
        handler = first.run(user_msg="Weather in three cities?", run_id="r")
        await first.reached  # Oslo and Rome are journalled, Lima hangs
        crashed = crash_image(database, tmp_path)
        handler.cancel()  # the process ends here; the copy is what it left
        with pytest.raises(asyncio.CancelledError):
            await handler
    assert sorted(first_tools.ran) == ["Oslo", "Rome"]
    assert model.requests == ["ask"]

    model.requests.clear()
    again_tools = Weather()
    async with SqliteStore(crashed) as store:
        again = CountingAgent(tools=[tool(again_tools.weather)], llm=llm, store=store)
        output = await (await again.resume("r"))
    assert again_tools.ran == ["Lima"]  # the two calls that had finished did not run again
    assert model.requests == ["answer"]  # the first LLM call was not sent again
    assert output.model_dump() == expected.model_dump()
    assert output.response.text == "Done: Oslo: 4C Rome: 4C Lima: 4C"


class Refunds:
    """A tool that needs approval and edits the shared state; the order in `hanging` waits
    once approved (it is running at the crash)."""

    def __init__(self, hanging: str | None = None) -> None:
        self.ran: list[str] = []
        self.hanging = hanging
        self.hung: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def refund(self, order: str, ctx: Context[Any]) -> str:
        """Refund an order."""
        if order == self.hanging:
            self.hung.set_result(None)
            await asyncio.Event().wait()
        self.ran.append(order)
        state = await ctx.store.get("state")
        state["refunded"].append(order)
        await ctx.store.set("state", state)
        return f"refunded {order}"


def handoff_then_two_refunds(request: httpx.Request) -> httpx.Response:
    """Triage hands off; billing asks for two refunds at once; then the answer."""
    messages = json.loads(request.content)["messages"]
    results = [m["content"] for m in messages if m["role"] == "tool"]
    if not results:
        return calls_reply(("h1", "handoff", '{"to_agent": "billing", "reason": "refunds"}'))
    if len(results) == 1:
        return calls_reply(("r1", "refund", '{"order": "A7"}'), ("r2", "refund", '{"order": "B9"}'))
    return text_reply("Done: ", "; ".join(results[1:]))


class CountingTeam(CountsToolResults, AgentWorkflow):
    pass


def refund_team(llm: OpenAI, refunds: Refunds, store: SqliteStore, **kwargs: Any) -> CountingTeam:
    triage = FunctionAgent(llm=llm, name="triage", system_prompt="You route.")
    billing = FunctionAgent(
        tools=[tool(refunds.refund)], llm=llm, name="billing", approval=["refund"]
    )
    return CountingTeam(
        agents=[triage, billing],
        initial_state={"refunded": []},
        store=store,
        timeout=None,
        **kwargs,
    )


async def approving(handler: WorkflowHandler[Any], asked: list[str]) -> None:
    """Approve every call the run asks about, noting which."""
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            asked.append(ev.call_id)
            handler.ctx.send_event(ToolApprovalResponse(call_id=ev.call_id, approved=True))


async def test_an_agent_workflow_resumes_after_a_handoff_without_asking_an_approval_again(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    route = api.post("/chat/completions").mock(side_effect=handoff_then_two_refunds)
    async with SqliteStore(tmp_path / "whole.db") as store:
        whole = refund_team(llm, Refunds(), store).run(user_msg="refund A7 and B9", run_id="r")
        await approving(whole, [])
        expected = await whole
    assert route.call_count == 3
    route.reset()

    database = tmp_path / "runs.db"
    first_refunds, first_asked = Refunds(hanging="B9"), []
    async with SqliteStore(database) as store:
        # The crash: A7 refunded and journalled (the handoff's result and A7's reached
        # the collector), B9 approved and running.
        first = refund_team(llm, first_refunds, store, results_seen=2)
        handler = first.run(user_msg="refund A7 and B9", run_id="r")
        answering = asyncio.ensure_future(approving(handler, first_asked))
        await first.reached
        await first_refunds.hung
        crashed = crash_image(database, tmp_path)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
        await answering
    assert (sorted(first_asked), first_refunds.ran) == (["r1", "r2"], ["A7"])
    assert route.call_count == 2

    route.reset()
    again_refunds, again_asked = Refunds(), []
    async with SqliteStore(crashed) as store:
        resumed = await refund_team(llm, again_refunds, store).resume("r")
        await approving(resumed, again_asked)
        output = await resumed
    assert again_asked == []  # B9's approval was given before the crash
    assert again_refunds.ran == ["B9"]  # A7's refund did not run again
    assert route.call_count == 1  # neither the handoff's call nor billing's was sent again
    assert output.model_dump() == expected.model_dump()
    assert (output.agent_name, output.response.text) == (
        "billing",
        "Done: refunded A7; refunded B9",
    )
    state = await resumed.ctx.store.get("state")
    assert state == {"refunded": ["A7", "B9"]}


def two_round_model(corpus: Path) -> ResearchModel:
    """Plans one sub-question, finds a second missing after round 1, cites both sources."""
    heat, charging = url_of(corpus, "heat.md"), url_of(corpus, "charging.md")
    return ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={
            heat: notes(("Heat speeds up wear.", "lose capacity faster when they are kept hot")),
            charging: notes(("Partial charging helps.", "between 20 and 80 percent charge")),
        },
        gaps=[[("How does charging affect wear?", ["charging wear"])], []],
        report=[
            'Cells age faster when hot [1: "lose capacity faster when they are kept hot"]. ',
            'Stay between 20 and 80 percent [2: "between 20 and 80 percent charge"].',
        ],
    )


async def test_a_research_run_resumes_at_its_report_without_asking_anything_again(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    whole_model, model = two_round_model(corpus), two_round_model(corpus)
    serving = [whole_model]
    hang = False
    writing = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        if hang and json.loads(request.content).get("stream"):
            writing.set()  # the report's request: everything before it is journalled
            await asyncio.Event().wait()
        return serving[0](request)

    api.post("/chat/completions").mock(side_effect=answer)

    def research(store: SqliteStore) -> ResearchWorkflow:
        return ResearchWorkflow(
            llm=llm, search=LocalCorpusSearch(corpus), store=store, timeout=None
        )

    async with SqliteStore(tmp_path / "whole.db") as store:
        expected = await research(store).run(query="What wears batteries out?", run_id="r")
    assert isinstance(expected, ResearchReport)

    serving[0], hang = model, True
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        handler = research(store).run(query="What wears batteries out?", run_id="r")
        await writing.wait()
        crashed = crash_image(database, tmp_path)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
    asked = {kind: len(bodies) for kind, bodies in model.calls.items()}
    assert asked == {"ResearchPlan": 1, "SourceNotes": 2, "GapReport": 2, "write": 0}

    hang = False
    async with SqliteStore(crashed) as store:
        report = await (await research(store).resume("r"))
    asked = {kind: len(bodies) for kind, bodies in model.calls.items()}
    assert asked == {"ResearchPlan": 1, "SourceNotes": 2, "GapReport": 2, "write": 1}
    assert report.model_dump() == expected.model_dump()
    assert report.rounds == 2
    assert [claim.source_ids for claim in report.claims] == [[1], [2]]


async def test_a_plan_revised_before_the_crash_is_not_asked_for_again(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[
            plan(("Why does heat age batteries?", ["battery heat capacity"])),
            plan(("How is a spent pack recycled?", ["recycling cobalt"])),
        ],
        notes_by_url={
            url_of(corpus, "recycling.txt"): notes(("Cobalt is recovered.", "recovers cobalt"))
        },
        gaps=[[]],
        report=['Packs are recycled [1: "recovers cobalt"].'],
    )
    api.post("/chat/completions").mock(side_effect=model)

    def research(store: SqliteStore) -> ResearchWorkflow:
        return ResearchWorkflow(
            llm=llm,
            search=LocalCorpusSearch(corpus),
            max_rounds=1,
            review_plan=True,
            store=store,
            timeout=None,
        )

    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        handler = research(store).run(query="What happens to old batteries?", run_id="r")
        reviews = 0
        async for ev in handler.stream_events():
            if isinstance(ev, PlanReview):
                reviews += 1
                if reviews == 2:  # the revised plan waits for its review
                    break
                handler.ctx.send_event(HumanResponseEvent(response="Focus on recycling"))
        crashed = crash_image(database, tmp_path)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
    assert len(model.calls["ResearchPlan"]) == 2

    async with SqliteStore(crashed) as store:
        resumed = await research(store).resume("r")
        shown = []
        async for ev in resumed.stream_events():
            if isinstance(ev, PlanReview):
                shown.append(ev.plan.sub_questions[0].question)
                resumed.ctx.send_event(HumanResponseEvent(response="yes"))
        report = await resumed
    assert len(model.calls["ResearchPlan"]) == 2  # the revision was not asked for again
    assert shown == ["How is a spent pack recycled?"]  # the revised plan is shown again
    assert report.plan.sub_questions[0].question == "How is a spent pack recycled?"
    assert [source.url for source in report.sources] == [url_of(corpus, "recycling.txt")]


async def test_a_react_agent_resumes_without_repeating_its_action(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    """Crashed while the request after its tool's observation is out at the wire: the
    resumed run sends only that request, and the tool does not run again."""
    sent: list[str] = []
    hang = True
    answering = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        if not any(m["content"].startswith("Observation:") for m in messages):
            sent.append("act")
            return text_reply(
                "Thought: I need data.\nAction: weather\n", 'Action Input: {"city": "Lyon"}'
            )
        if hang:
            answering.set()
            await asyncio.Event().wait()
        sent.append("answer")
        return text_reply("Thought: I know.\nAnswer: ", "Lyon is at 4C.")

    api.post("/chat/completions").mock(side_effect=answer)
    tools = Weather()

    def agent(store: SqliteStore) -> ReActAgent:
        return ReActAgent(tools=[tool(tools.weather)], llm=llm, store=store, timeout=None)

    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        handler = agent(store).run(user_msg="Weather in Lyon?", run_id="r")
        await answering.wait()
        crashed = crash_image(database, tmp_path)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
    assert (sent, tools.ran) == (["act"], ["Lyon"])

    hang = False
    async with SqliteStore(crashed) as store:
        output = await (await agent(store).resume("r"))
    assert (sent, tools.ran) == (["act", "answer"], ["Lyon"])
    assert output.response.text == "Lyon is at 4C."
    assert [result.content for result in output.tool_calls] == ["Lyon: 4C"]


async def test_a_plan_re_asked_at_the_crash_does_not_send_its_failed_attempt_again(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[plan(("How is a spent pack recycled?", ["recycling cobalt"]))] * 2,
        notes_by_url={
            url_of(corpus, "recycling.txt"): notes(("Cobalt is recovered.", "recovers cobalt"))
        },
        gaps=[[]],
        report=['Packs are recycled [1: "recovers cobalt"].'],
    )
    plan_requests: list[list[dict[str, Any]]] = []
    hang = False
    re_asking = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("response_format", {}).get("json_schema", {}).get("name") != "ResearchPlan":
            return model(request)
        plan_requests.append(body["messages"])
        if len(body["messages"]) == 2:  # the first attempt: a reply that fails the schema
            return httpx.Response(200, json=completion('{"sub_questions": "none"}'))
        if hang:  # the re-ask: in flight at the crash
            re_asking.set()
            await asyncio.Event().wait()
        return model(request)

    api.post("/chat/completions").mock(side_effect=answer)

    def research(store: SqliteStore) -> ResearchWorkflow:
        return ResearchWorkflow(
            llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1, store=store, timeout=None
        )

    async with SqliteStore(tmp_path / "whole.db") as store:
        expected = await research(store).run(query="What happens to old batteries?", run_id="r")
    # Both plan attempts are booked (12 + 5 tokens each), with the notes and the report.
    assert expected.usage.total_tokens == 3 * 17 + 360

    plan_requests.clear()
    hang = True
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        handler = research(store).run(query="What happens to old batteries?", run_id="r")
        await re_asking.wait()
        crashed = crash_image(database, tmp_path)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
    assert [len(messages) for messages in plan_requests] == [2, 4]

    hang = False
    async with SqliteStore(crashed) as store:
        report = await (await research(store).resume("r"))
    # Only the re-ask went out again, carrying the failed reply and its errors.
    assert [len(messages) for messages in plan_requests] == [2, 4, 4]
    assert plan_requests[2][2] == {"role": "assistant", "content": '{"sub_questions": "none"}'}
    assert "sub_questions" in plan_requests[2][3]["content"]
    assert report.model_dump(exclude={"usage"}) == expected.model_dump(exclude={"usage"})
    assert [claim.source_ids for claim in report.claims] == [[1]]
