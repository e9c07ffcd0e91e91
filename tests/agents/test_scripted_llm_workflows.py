"""Every prebuilt workflow runs end to end on a ScriptedLLM: FunctionAgent (tools, streaming,
structured answers), ReActAgent, AgentWorkflow with a handoff, ExtractionWorkflow and
ResearchWorkflow (replies chosen from the request, since their calls run concurrently)."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_runs import run_collecting
from pydantic import BaseModel
from research_wire import BATTERY_CORPUS, url_of, write_corpus

from agentflow.testing import WorkflowTestRunner
from agents import AgentHandoff, AgentStream, AgentWorkflow, FunctionAgent, ReActAgent
from agents.agent import ToolCallResult
from agents.documents import ExtractionResult, ExtractionWorkflow
from agents.llm import ChatMessage, ScriptedLLM, ScriptedRequest, tool_call
from agents.llm.errors import ScriptExhaustedError
from agents.research import LocalCorpusSearch, ReportDelta, ResearchReport, ResearchWorkflow
from agents.research.report import GapReport, Note, ResearchPlan, SourceNotes, SubQuestion
from tools import tool


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


class Answer(BaseModel):
    value: int
    explanation: str


async def test_function_agent_calls_a_tool_and_streams_its_answer() -> None:
    llm = ScriptedLLM([tool_call("add", {"a": 2, "b": 3}), "2 + 3 is 5."])
    agent = FunctionAgent(tools=[add], llm=llm, system_prompt="Use the tools.")

    output, events = await run_collecting(agent, user_msg="What is 2 + 3?")

    assert output.response.text == "2 + 3 is 5."
    assert [e.content for e in events if isinstance(e, ToolCallResult)] == ["5"]
    assert "".join(e.delta for e in events if isinstance(e, AgentStream)) == "2 + 3 is 5."
    first, second = llm.requests
    assert first.tool_names == ["add"]
    assert first.stream
    assert first.messages[0] == ChatMessage.system("Use the tools.")
    assert (second.messages[-1].role, second.messages[-1].text) == ("tool", "5")
    assert second.messages[-1].tool_call_id == "call_0_0"
    # completion: add { " a " : 2 , " b " : 3 } (14), then 2 + 3 is 5 . (6)
    assert output.usage.completion_tokens == 20


async def test_function_agent_structured_answer_is_re_asked_until_it_validates() -> None:
    llm = ScriptedLLM(['{"value": 5}', Answer(value=5, explanation="2 + 3")])
    agent = FunctionAgent(llm=llm, output_cls=Answer)

    output, _ = await run_collecting(agent, user_msg="What is 2 + 3?")

    assert output.structured_response == Answer(value=5, explanation="2 + 3")
    assert [request.output_cls for request in llm.requests] == [Answer, Answer]
    assert "explanation" in llm.requests[1].messages[-1].text  # the validation errors


async def test_function_agent_fails_naming_the_script_that_ran_out() -> None:
    agent = FunctionAgent(tools=[add], llm=ScriptedLLM([tool_call("add", {"a": 1, "b": 1})]))

    with pytest.raises(ScriptExhaustedError, match="reply 2, but its script holds 1 reply"):
        await agent.run(user_msg="What is 1 + 1?")


async def test_react_agent_reads_actions_and_answers_from_text() -> None:
    llm = ScriptedLLM(
        [
            'Thought: I should add.\nAction: add\nAction Input: {"a": 2, "b": 3}\n'
            "Observation: 6",  # invented: cut at the stop sequence, as a server would
            "Thought: I know it now.\nAnswer: 2 + 3 is 5.",
        ],
        is_function_calling_model=False,
    )
    agent = ReActAgent(tools=[add], llm=llm)

    output, events = await run_collecting(agent, user_msg="What is 2 + 3?")

    assert output.response.text == "2 + 3 is 5."
    assert [e.content for e in events if isinstance(e, ToolCallResult)] == ["5"]
    first, second = llm.requests
    assert first.tools == []
    assert first.kwargs["stop"] == ["\nObservation:"]
    assert "add" in first.messages[0].text  # the tools are described in the prompt
    assert second.messages[-2].text.endswith('Action Input: {"a": 2, "b": 3}')
    assert second.messages[-1].text == "Observation: 5"


async def test_agent_workflow_hands_the_conversation_to_another_agent() -> None:
    triage_llm = ScriptedLLM(
        [tool_call("handoff", {"to_agent": "math", "reason": "it is a sum"})], model="triage"
    )
    math_llm = ScriptedLLM([tool_call("add", {"a": 2, "b": 3}), "It is 5."], model="math")
    team = AgentWorkflow(
        [
            FunctionAgent(name="triage", llm=triage_llm, description="Routes questions."),
            FunctionAgent(name="math", tools=[add], llm=math_llm, description="Does sums."),
        ]
    )

    output, events = await run_collecting(team, user_msg="What is 2 + 3?")  # type: ignore[arg-type]

    assert (output.agent_name, output.response.text) == ("math", "It is 5.")
    handoffs = [(e.from_agent, e.to_agent) for e in events if isinstance(e, AgentHandoff)]
    assert handoffs == [("triage", "math")]
    assert triage_llm.requests[0].tool_names == ["handoff"]
    assert sorted(math_llm.requests[0].tool_names) == ["add", "handoff"]
    # the math agent sees the user's question and the handoff's result
    seen = [m.text for m in math_llm.requests[0].messages]
    assert "What is 2 + 3?" in seen
    assert any("now continues the conversation" in text for text in seen)


class Invoice(BaseModel):
    number: str
    total: float


def extract_invoice(request: ScriptedRequest) -> dict[str, object]:
    """Answers each chunk from what it says: chunks are extracted concurrently."""
    assert request.output_cls is not None
    text = request.messages[-1].text
    reply: dict[str, object] = dict.fromkeys(request.output_cls.model_fields)
    if "INV-7" in text:
        reply["number"] = {"value": "INV-7", "quote": "Invoice INV-7", "confidence": 0.95}
    if "120.50" in text:
        reply["total"] = {"value": 120.5, "quote": "Total due: 120.50", "confidence": 0.9}
    return reply


async def test_extraction_workflow_fills_a_schema_from_concurrent_chunk_replies() -> None:
    llm = ScriptedLLM(extract_invoice)
    workflow = ExtractionWorkflow(llm=llm, schema=Invoice)

    result = await workflow.run(
        documents=["Invoice INV-7 from Acme Ltd.", "Total due: 120.50 EUR by 1 May."]
    )

    assert isinstance(result, ExtractionResult)
    assert result.data == Invoice(number="INV-7", total=120.5)
    assert result.fields["number"].verified
    assert result.fields["total"].verified
    assert len(llm.requests) == 2
    assert {
        r.response_format["json_schema"]["strict"] for r in llm.requests if r.response_format
    } == {True}
    assert result.usage.total_tokens > 0


def research_model(heat_url: str) -> ScriptedLLM:
    def reply(request: ScriptedRequest) -> BaseModel | str:
        if request.output_cls is ResearchPlan:
            question = SubQuestion(question="Why does heat age batteries?", queries=["heat"])
            return ResearchPlan(sub_questions=[question])
        if request.output_cls is SourceNotes:
            prompt = request.messages[-1].text
            quote = "lose capacity faster when they are kept hot"
            if heat_url in prompt:
                return SourceNotes(
                    relevant=True, notes=[Note(point="Heat ages cells.", quote=quote)]
                )
            return SourceNotes(relevant=False, notes=[])
        if request.output_cls is GapReport:
            return GapReport(missing=[])
        assert request.stream, "the report is written as a stream"
        return 'Heat wears batteries out [1: "lose capacity faster when they are kept hot"].'

    return ScriptedLLM(reply)


async def test_research_workflow_plans_reads_and_writes_a_checked_report(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    llm = research_model(url_of(corpus, "heat.md"))
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=2)

    outcome = await WorkflowTestRunner(workflow).run(query="Why do batteries wear out?")

    report = outcome.result
    assert isinstance(report, ResearchReport)
    assert report.answer_markdown == "Heat wears batteries out [1]."
    assert [(c.source_ids, c.quotes) for c in report.claims] == [
        ([1], ["lose capacity faster when they are kept hot"])
    ]
    assert report.unverified == []
    deltas = [e.text for e in outcome.collected if isinstance(e, ReportDelta)]
    assert len(deltas) > 1  # streamed word by word
    kinds = [r.output_cls.__name__ if r.output_cls else "write" for r in llm.requests]
    assert kinds[0] == "ResearchPlan"
    assert kinds[-2:] == ["GapReport", "write"]
    assert "SourceNotes" in kinds
    assert report.usage.total_tokens > 0
