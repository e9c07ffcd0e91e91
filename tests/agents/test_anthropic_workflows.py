"""Every prebuilt workflow runs unchanged on `Anthropic`, against a respx-mocked Messages API
that answers each request from what it asks (`anthropic_wire.MessagesServer`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from agent_runs import run_collecting
from anthropic_wire import BASE_URL, MESSAGES, MODEL, MessagesServer, forced_tool, text, tool_use
from pydantic import BaseModel
from research_wire import BATTERY_CORPUS, url_of, write_corpus
from wire_mock import mock_wire

from agentflow import Context
from agentflow.testing import WorkflowTestRunner
from agents import AgentHandoff, AgentStream, AgentWorkflow, FunctionAgent, ReActAgent
from agents.agent import ToolCallResult
from agents.agent.run_state import AgentState
from agents.documents import ExtractionResult, ExtractionWorkflow
from agents.llm import Anthropic, Usage
from agents.memory import ChatMemory
from agents.research import LocalCorpusSearch, ResearchReport, ResearchWorkflow
from tools import tool


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as router:
        yield router


def claude(**kwargs: Any) -> Anthropic:
    return Anthropic(MODEL, api_key="sk-ant-test", base_url=BASE_URL, max_retries=0, **kwargs)


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def last_user_blocks(request: dict[str, Any]) -> list[dict[str, Any]]:
    content = request["messages"][-1]["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


async def test_function_agent_runs_parallel_calls_and_books_the_usage(
    api: respx.MockRouter,
) -> None:
    def answer(request: dict[str, Any]) -> list[dict[str, Any]] | str:
        if len(server.requests) == 1:
            return [
                text("Adding both."),
                tool_use("toolu_01", "add", {"a": 2, "b": 3}),
                tool_use("toolu_02", "add", {"a": 10, "b": 20}),
            ]
        return "They are 5 and 30."

    server = MessagesServer(answer)
    api.post(MESSAGES).mock(side_effect=server)
    agent = FunctionAgent(tools=[add], llm=claude(), system_prompt="Use the tools.")

    output, events = await run_collecting(agent, user_msg="2 + 3 and 10 + 20?")

    assert output.response.text == "They are 5 and 30."
    assert [e.content for e in events if isinstance(e, ToolCallResult)] == ["5", "30"]
    assert "".join(e.delta for e in events if isinstance(e, AgentStream)).endswith(
        "They are 5 and 30."
    )
    first, second = server.requests
    assert first["stream"] is True
    assert first["system"] == "Use the tools."
    assert [t["name"] for t in first["tools"]] == ["add"]
    results = [b for b in last_user_blocks(second) if b["type"] == "tool_result"]
    assert [(r["tool_use_id"], r["content"]) for r in results] == [
        ("toolu_01", "5"),
        ("toolu_02", "30"),
    ]
    # Each streamed reply reports 12 prompt and 5 reply tokens (message_start, message_delta).
    assert output.usage == Usage(prompt_tokens=24, completion_tokens=10, total_tokens=34)


class Answer(BaseModel):
    value: int
    explanation: str


async def test_function_agent_with_output_cls_answers_through_the_output_tool(
    api: respx.MockRouter,
) -> None:
    def answer(request: dict[str, Any]) -> list[dict[str, Any]]:
        if len(server.requests) == 1:
            return [tool_use("toolu_01", "add", {"a": 2, "b": 3})]
        return [tool_use("toolu_02", "Answer", {"value": 5, "explanation": "2 + 3"})]

    server = MessagesServer(answer)
    api.post(MESSAGES).mock(side_effect=server)
    agent = FunctionAgent(tools=[add], llm=claude(), output_cls=Answer)

    output, _ = await run_collecting(agent, user_msg="What is 2 + 3?")

    assert output.structured_response == Answer(value=5, explanation="2 + 3")
    assert [t["name"] for t in server.requests[0]["tools"]] == ["add", "Answer"]
    assert server.requests[0]["tool_choice"] == {"type": "any"}


class City(BaseModel):
    name: str
    population: int


async def test_a_re_asked_structured_answer_keeps_the_question_in_a_tight_memory(
    api: respx.MockRouter,
) -> None:
    @tool
    def census(city: str) -> str:
        """The census record of a city."""
        return "record " * 400

    def answer(request: dict[str, Any]) -> list[dict[str, Any]]:
        if len(server.requests) == 1:
            return [tool_use("toolu_01", "census", {"city": "Oslo"})]
        if len(server.requests) == 2:
            return [tool_use("toolu_02", "City", {"name": "Oslo"})]  # no population
        return [tool_use("toolu_03", "City", {"name": "Oslo", "population": 709000})]

    server = MessagesServer(answer)
    api.post(MESSAGES).mock(side_effect=server)
    llm = claude()
    agent = FunctionAgent(
        tools=[census], llm=llm, output_cls=City, memory=ChatMemory(token_limit=500, llm=llm)
    )
    ctx: Context[AgentState] = Context(agent)

    output, _ = await run_collecting(agent, ctx=ctx, user_msg="Population of Oslo?")

    assert output.structured_response == City(name="Oslo", population=709000)
    sent = server.requests[-1]["messages"]
    # The re-ask is feedback: it continues the question's turn, which the window keeps.
    assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
    assert sent[0]["content"] == "Population of Oslo?"
    assert sent[3]["content"] == '{"name": "Oslo"}'
    assert "population" in sent[4]["content"]
    async with ctx.store.edit_state() as state:
        memory = agent.conversation(state)
        assert [m.role for m in memory.get_all()] == ["user", "assistant", "tool", "assistant"]
        # The rejected answer went, and its re-ask's mark with it; the tool result stays one.
        assert memory.feedback == [2]
        assert state.run_usage().total_tokens == 3 * 17


async def test_react_agent_reads_actions_from_text_cut_at_its_stop_sequence(
    api: respx.MockRouter,
) -> None:
    replies = iter(
        [
            'Thought: I should add.\nAction: add\nAction Input: {"a": 2, "b": 3}',
            "Thought: I know it now.\nAnswer: 2 + 3 is 5.",
        ]
    )
    server = MessagesServer(lambda request: next(replies))
    api.post(MESSAGES).mock(side_effect=server)

    output, events = await run_collecting(ReActAgent(tools=[add], llm=claude()), user_msg="2 + 3?")

    assert output.response.text == "2 + 3 is 5."
    assert [e.content for e in events if isinstance(e, ToolCallResult)] == ["5"]
    first, second = server.requests
    assert first["stop_sequences"] == ["\nObservation:"]
    assert "tools" not in first
    assert "add" in first["system"]  # the tools are described in the prompt
    assert second["messages"][-1] == {"role": "user", "content": "Observation: 5"}


@tool
def fetch(page: int) -> str:
    """One page of a long document."""
    return "lorem ipsum " * 200


async def test_react_agent_keeps_the_question_behind_a_long_observation_across_runs(
    api: respx.MockRouter,
) -> None:
    replies = iter(
        [
            "Answer: Hello.",
            'Action: fetch\nAction Input: {"page": 1}',
            "Answer: It is filler text.",
        ]
    )
    server = MessagesServer(lambda request: next(replies))
    api.post(MESSAGES).mock(side_effect=server)
    llm = claude()
    agent = ReActAgent(tools=[fetch], llm=llm, memory=ChatMemory(token_limit=500, llm=llm))
    ctx: Context[AgentState] = Context(agent)

    await agent.run(ctx=ctx, user_msg="Hi")
    output = await agent.run(ctx=ctx, user_msg="Summarise page 1")

    assert output.response.text == "It is filler text."
    sent = server.requests[-1]["messages"]
    # The observation is feedback: the earlier turn is trimmed, the question is not.
    assert [(m["role"], m["content"][:16]) for m in sent] == [
        ("user", "Summarise page 1"),
        ("assistant", "Action: fetch\nAc"),
        ("user", "Observation: lor"),
    ]
    async with ctx.store.edit_state() as state:
        memory = agent.conversation(state)
        assert [memory.messages[i].text[:16] for i in memory.feedback] == ["Observation: lor"]


async def test_agent_workflow_hands_the_conversation_to_another_agent(
    api: respx.MockRouter,
) -> None:
    def answer(request: dict[str, Any]) -> list[dict[str, Any]] | str:
        names = [t["name"] for t in request.get("tools", [])]
        if "add" not in names:  # the triage agent
            return [tool_use("toolu_h", "handoff", {"to_agent": "math", "reason": "a sum"})]
        if not any(
            b["type"] == "tool_result" and b["content"] == "5" for b in last_user_blocks(request)
        ):
            return [tool_use("toolu_a", "add", {"a": 2, "b": 3})]
        return "It is 5."

    server = MessagesServer(answer)
    api.post(MESSAGES).mock(side_effect=server)
    team = AgentWorkflow(
        [
            FunctionAgent(name="triage", llm=claude(), description="Routes questions."),
            FunctionAgent(name="math", tools=[add], llm=claude(), description="Does sums."),
        ]
    )

    output, events = await run_collecting(team, user_msg="What is 2 + 3?")  # type: ignore[arg-type]

    assert (output.agent_name, output.response.text) == ("math", "It is 5.")
    handoffs = [(e.from_agent, e.to_agent) for e in events if isinstance(e, AgentHandoff)]
    assert handoffs == [("triage", "math")]


class Invoice(BaseModel):
    number: str
    total: float


def extract_invoice(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Answers each chunk from what it says, through the forced output tool."""
    output = forced_tool(request)
    assert output is not None, "an extraction asks for its fields through the output tool"
    said = json.dumps(request["messages"])
    reply: dict[str, Any] = dict.fromkeys(output["input_schema"]["properties"])
    if "INV-7" in said:
        reply["number"] = {"value": "INV-7", "quote": "Invoice INV-7", "confidence": 0.95}
    if "120.50" in said:
        reply["total"] = {"value": 120.5, "quote": "Total due: 120.50", "confidence": 0.9}
    return [tool_use("toolu_x", output["name"], reply)]


async def test_extraction_workflow_fills_a_schema_through_the_output_tool(
    api: respx.MockRouter,
) -> None:
    server = MessagesServer(extract_invoice)
    api.post(MESSAGES).mock(side_effect=server)
    workflow = ExtractionWorkflow(llm=claude(), schema=Invoice)

    result = await workflow.run(
        documents=["Invoice INV-7 from Acme Ltd.", "Total due: 120.50 EUR by 1 May."]
    )

    assert isinstance(result, ExtractionResult)
    assert result.data == Invoice(number="INV-7", total=120.5)
    assert result.fields["number"].verified
    assert len(server.requests) == 2
    assert result.usage.total_tokens == 2 * 17


async def test_research_workflow_plans_reads_and_writes_a_checked_report(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    heat_url = url_of(corpus, "heat.md")
    quote = "lose capacity faster when they are kept hot"

    def answer(request: dict[str, Any]) -> list[dict[str, Any]] | str:
        output = forced_tool(request)
        if output is None:
            assert request["stream"], "the report is written as a stream"
            return f'Heat wears batteries out [1: "{quote}"].'
        name = output["name"]
        if name == "ResearchPlan":
            plan = {"question": "Why does heat age batteries?", "queries": ["heat"]}
            return [tool_use("toolu_p", name, {"sub_questions": [plan]})]
        if name == "SourceNotes":
            relevant = heat_url in json.dumps(request["messages"])
            notes = [{"point": "Heat ages cells.", "quote": quote}] if relevant else []
            return [tool_use("toolu_n", name, {"relevant": relevant, "notes": notes})]
        assert name == "GapReport"
        return [tool_use("toolu_g", name, {"missing": []})]

    server = MessagesServer(answer)
    api.post(MESSAGES).mock(side_effect=server)
    workflow = ResearchWorkflow(llm=claude(), search=LocalCorpusSearch(corpus), max_rounds=2)

    outcome = await WorkflowTestRunner(workflow).run(query="Why do batteries wear out?")

    report = outcome.result
    assert isinstance(report, ResearchReport)
    assert report.answer_markdown == "Heat wears batteries out [1]."
    assert [(c.source_ids, c.quotes) for c in report.claims] == [([1], [quote])]
    assert report.usage.total_tokens == 17 * len(server.requests)


async def test_an_agent_on_anthropic_trims_its_memory_by_anthropics_estimate(
    api: respx.MockRouter,
) -> None:
    server = MessagesServer(lambda request: "Hi.")
    api.post(MESSAGES).mock(side_effect=server)
    agent = FunctionAgent(llm=claude(), memory=ChatMemory(token_limit=140))
    ctx: Context[AgentState] = Context(agent)
    long = "hello " * 100  # 600 bytes: 150 tokens by Anthropic's estimate, 100 by o200k_base

    await agent.run(ctx=ctx, user_msg=long)
    await agent.run(ctx=ctx, user_msg="Again?")

    # Counted as Anthropic counts, the first turn (151) is over what "Again?" (2) leaves of
    # 140; counted with OpenAI's tokenizer (about 110 and 7, and 3 priming), it would fit.
    assert server.requests[-1]["messages"] == [{"role": "user", "content": "Again?"}]
