"""The kit the prebuilt workflows share: typed state, one usage path, one failure policy,
one per-run limit, one `run(input, ...)`."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from agentflow import Context, Workflow, step
from agentflow.context import DictState
from agentflow.events import StartEvent, StopEvent
from agents import AgentWorkflow, FunctionAgent, ReActAgent
from agents.agent import AgentFinish, AgentOutput, HandoffError
from agents.agent.run_state import AgentRunState, AgentState
from agents.documents import ExtractionWorkflow
from agents.documents.run_state import ExtractionState, ExtractionWorkflowState
from agents.kit import (
    KitState,
    PrebuiltWorkflow,
    RunLimit,
    RunNotStartedError,
    is_piece_failure,
)
from agents.llm import ScriptedLLM, ScriptedRequest, tool_call
from agents.llm.errors import BudgetExceededError, LLMRefusalError, StructuredOutputError
from agents.llm.ledger import UsageLedger
from agents.llm.types import Usage
from agents.memory import ChatMemory
from agents.research import LocalCorpusSearch, ResearchWorkflow
from agents.research.run_state import ResearchState, ResearchWorkflowState
from tools import tool


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


class Invoice(BaseModel):
    number: str


def prebuilt(tmp_path: Path) -> dict[str, Workflow]:
    llm = ScriptedLLM(["unused"])
    agent = FunctionAgent(tools=[add], llm=llm)
    return {
        "FunctionAgent": agent,
        "ReActAgent": ReActAgent(tools=[add], llm=llm),
        "AgentWorkflow": AgentWorkflow(agents=[agent]),
        "ExtractionWorkflow": ExtractionWorkflow(llm=llm, schema=Invoice),
        "ResearchWorkflow": ResearchWorkflow(llm=llm, search=LocalCorpusSearch(tmp_path)),
    }


# -- typed state ---------------------------------------------------------------------------


def test_every_prebuilt_workflow_keeps_its_state_in_a_typed_kit_state(tmp_path: Path) -> None:
    expected = {
        "FunctionAgent": (AgentState, AgentRunState),
        "ReActAgent": (AgentState, AgentRunState),
        "AgentWorkflow": (AgentState, AgentRunState),
        "ExtractionWorkflow": (ExtractionWorkflowState, ExtractionState),
        "ResearchWorkflow": (ResearchWorkflowState, ResearchState),
    }
    for name, workflow in prebuilt(tmp_path).items():
        state_type, run_type = expected[name]
        state = Context(workflow).store.state_type
        assert state is state_type, name
        assert issubclass(state, KitState)
        assert state.model_fields["run"].annotation == run_type | None, name


async def test_an_agent_run_leaves_its_memory_and_counters_in_typed_fields() -> None:
    llm = ScriptedLLM([tool_call("add", {"a": 2, "b": 3}), "5."])
    agent = FunctionAgent(tools=[add], llm=llm)
    ctx: Context[AgentState] = Context(agent)

    await agent.run("2 + 3?", ctx=ctx)

    async with ctx.store.edit_state() as state:
        assert isinstance(state.memory, ChatMemory)
        assert [m.role for m in state.memory.messages] == ["user", "assistant", "tool", "assistant"]
        run = state.current_run()
        assert (run.iterations, [r.content for r in run.tool_results]) == (2, ["5"])
        assert state.run_usage() == state.usage_total()  # the first run: all of it


def test_kit_state_reads_and_writes_its_fields_as_keys_too() -> None:
    state = AgentState()
    state["state"] = {"name": "Ada"}  # LlamaIndex's tools edit ctx_state["state"]
    state["note"] = "any key"

    assert state.state == {"name": "Ada"}
    assert state["state"] is state.state
    assert ("state" in state, "note" in state, "nothing" in state) == (True, True, False)
    assert state.get("nothing", 1) == 1
    assert {"run", "memory", "state", "note"} <= set(state.keys())
    assert dict(state.items())["note"] == "any key"
    with pytest.raises(KeyError, match="cannot delete its field 'memory'"):
        del state["memory"]


def test_the_current_run_before_one_began_names_the_state() -> None:
    with pytest.raises(RunNotStartedError, match=r"ExtractionWorkflowState\.run is empty"):
        ExtractionWorkflowState().current_run()


# -- usage ---------------------------------------------------------------------------------


def test_a_runs_usage_is_what_the_ledger_booked_since_it_began() -> None:
    state = ResearchWorkflowState(usage_ledger=UsageLedger())
    assert state.usage_ledger is not None
    state.usage_ledger.record("m", "plan", Usage(prompt_tokens=10, total_tokens=10))
    state.begin_run(ResearchState(query="q"))
    state.usage_ledger.record("m", "plan", Usage(prompt_tokens=3, total_tokens=3))

    assert state.run_usage() == Usage(prompt_tokens=3, total_tokens=3)
    assert state.usage_total().total_tokens == 13


async def test_an_agents_second_run_reports_only_its_own_usage() -> None:
    llm = ScriptedLLM(["one", "two words"])
    agent = FunctionAgent(llm=llm)
    ctx: Context[AgentState] = Context(agent)

    first = await agent.run("a", ctx=ctx)
    second = await agent.run("b", ctx=ctx)

    async with ctx.store.edit_state() as state:
        assert state.usage_total() == first.usage + second.usage
    assert second.usage.completion_tokens == 2


# -- failures and limits -------------------------------------------------------------------


def test_a_failed_reply_costs_one_piece_and_anything_else_the_run() -> None:
    assert is_piece_failure(StructuredOutputError(Invoice, 3, "number: missing", "{}"))
    assert is_piece_failure(LLMRefusalError("no"))
    assert not is_piece_failure(BudgetExceededError("extract", "m", 10, 5, 12, "tokens"))
    assert not is_piece_failure(ConnectionError("down"))


def test_extraction_and_research_share_one_per_run_limit(tmp_path: Path) -> None:
    workflows = prebuilt(tmp_path)
    extraction = ExtractionWorkflow(llm=ScriptedLLM([]), schema=Invoice, num_workers=3)
    research = ResearchWorkflow(llm=ScriptedLLM([]), search=tmp_path, max_parallel=5)
    assert (extraction.per_run_limit, research.per_run_limit) == (3, 5)
    for name in ("ExtractionWorkflow", "ResearchWorkflow"):
        workflow_type = type(workflows[name])
        limited = [
            step_name
            for step_name, function in inspect.getmembers(workflow_type, inspect.isfunction)
            if "limit" in inspect.signature(function).parameters
        ]
        assert limited, name
        for step_name in limited:
            hints = inspect.get_annotations(getattr(workflow_type, step_name), eval_str=True)
            assert hints["limit"] == RunLimit, (name, step_name)


class Unbounded(Workflow):
    @step
    async def work(self, ctx: Context[Any], ev: StartEvent, limit: RunLimit) -> StopEvent:
        return StopEvent(result="never")


async def test_a_run_limit_without_a_per_run_limit_names_the_workflow() -> None:
    with pytest.raises(TypeError, match="workflow Unbounded asks for a RunLimit"):
        await Unbounded().run()


# -- one run() -----------------------------------------------------------------------------


def test_every_prebuilt_workflow_runs_through_the_one_run(tmp_path: Path) -> None:
    for name, workflow in prebuilt(tmp_path).items():
        assert isinstance(workflow, PrebuiltWorkflow), name
        assert type(workflow).run is PrebuiltWorkflow.run, name


async def test_each_takes_its_input_first(tmp_path: Path) -> None:
    (tmp_path / "invoice.txt").write_text("Invoice INV-7")

    def reply(request: ScriptedRequest) -> dict[str, object]:
        return {"number": {"value": "INV-7", "quote": "Invoice INV-7", "confidence": 0.9}}

    extraction = ExtractionWorkflow(llm=ScriptedLLM(reply), schema=Invoice)
    result = await extraction.run([tmp_path / "invoice.txt"])
    assert result.data == Invoice(number="INV-7")

    agent = FunctionAgent(llm=ScriptedLLM(["hello"]))
    assert (await agent.run("hi")).response.text == "hello"

    with pytest.raises(TypeError, match=r"ResearchWorkflow.run\(\) takes at most 1 positional"):
        ResearchWorkflow(llm=ScriptedLLM([]), search=tmp_path).run("q", "extra")


# -- no get-mutate-set ---------------------------------------------------------------------


def test_the_prebuilt_workflows_edit_their_state_only_through_edit_state() -> None:
    # A get, a change and a set are three operations another step can come between; the
    # kit's typed state is edited in place under the store's lock instead.
    root = Path(__file__).resolve().parents[2] / "agents"
    offenders = []
    for folder in ("agent", "documents", "research", "kit"):
        for module in sorted((root / folder).glob("*.py")):
            for node in ast.walk(ast.parse(module.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("get", "set", "get_state", "set_state")
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "store"
                ):
                    offenders.append(f"{module.name}:{node.lineno} store.{node.attr}")
    assert offenders == []


def test_a_kit_state_still_is_a_dict_state_for_steps_written_for_one() -> None:
    assert issubclass(AgentState, DictState)


class NotedState(AgentState):
    notes: list[str] = Field(default_factory=list)


class NoteTaker(FunctionAgent):
    @step
    async def finalize(self, ctx: Context[NotedState], ev: AgentFinish) -> AgentOutput:
        async with ctx.store.edit_state() as state:
            state.notes.append("done")
        return await super().finalize(ctx, ev)


def test_an_agent_workflow_refuses_an_agent_whose_state_it_cannot_hold() -> None:
    # The team shares the AgentWorkflow's AgentState: NoteTaker's steps would find no
    # `notes` there, mid-run.
    llm = ScriptedLLM([])
    with pytest.raises(HandoffError, match=r"agent 'notes' keeps its state in a NotedState"):
        AgentWorkflow(agents=[FunctionAgent(llm=llm), NoteTaker(llm=llm, name="notes")])


class NotedTeam(AgentWorkflow):
    @step
    async def finalize(self, ctx: Context[NotedState], ev: AgentFinish) -> AgentOutput:
        return await super().finalize(ctx, ev)


async def test_a_team_whose_workflow_holds_that_state_runs_such_an_agent() -> None:
    llm = ScriptedLLM(["Hello."])
    team = NotedTeam(agents=[NoteTaker(llm=llm, name="notes")])
    handler = team.run("hi")

    assert (await handler).response.text == "Hello."
    async with handler.ctx.store.edit_state() as state:
        assert isinstance(state, NotedState)
        assert state.notes == ["done"]
