"""agentflow.testing.WorkflowTestRunner: runs a workflow and reports what it streamed."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from agentflow import Context, Workflow, step
from agentflow.events import Event, StartEvent, StepState, StepStateChanged, StopEvent
from agentflow.testing import WorkflowTestResult, WorkflowTestRunner


class Progress(Event):
    step: int


class Milestone(Event):
    name: str


class Tally(BaseModel):
    runs: int = 0


class ReportingFlow(Workflow):
    @step
    async def work(self, ctx: Context[Tally], ev: StartEvent) -> StopEvent:
        async with ctx.store.edit_state() as state:
            state.runs += 1
        for index in range(ev.count):
            ctx.write_event_to_stream(Progress(step=index))
            if index % 2:
                ctx.write_event_to_stream(Milestone(name=f"odd {index}"))
        return StopEvent(result=f"{ev.count} steps")


class Verdict(StopEvent):
    score: float


class JudgingFlow(Workflow):
    @step
    async def judge(self, ev: StartEvent) -> Verdict:
        return Verdict(score=ev.score)


class FailingFlow(Workflow):
    @step
    async def explode(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.write_event_to_stream(Progress(step=0))
        raise ValueError("kaboom")


async def test_run_collects_every_streamed_event_in_order_ending_with_the_stop_event() -> None:
    outcome = await WorkflowTestRunner(ReportingFlow()).run(count=4)
    assert isinstance(outcome, WorkflowTestResult)
    assert outcome.result == "4 steps"
    assert [type(event).__name__ for event in outcome.collected] == [
        "StepStateChanged",
        "Progress",
        "Progress",
        "Milestone",
        "Progress",
        "Progress",
        "Milestone",
        "StepStateChanged",
        "StopEvent",
    ]
    assert outcome.collected[-1].result == "4 steps"  # type: ignore[attr-defined]
    assert outcome.event_types == {StepStateChanged: 2, Progress: 4, Milestone: 2, StopEvent: 1}
    running, ended = (event for event in outcome.collected if isinstance(event, StepStateChanged))
    assert (running.name, running.step_state, running.input_event_name) == (
        "work",
        StepState.RUNNING,
        "StartEvent",
    )
    assert (ended.step_state, ended.output_event_name) == (StepState.NOT_RUNNING, str(StopEvent))
    assert running.worker_id == ended.worker_id != ""


async def test_run_takes_a_ready_start_event() -> None:
    # expose_internal=False: no StepStateChanged events are made.
    outcome = await WorkflowTestRunner(ReportingFlow()).run(
        StartEvent(count=1), expose_internal=False
    )
    assert outcome.result == "1 steps"
    assert outcome.event_types == {Progress: 1, StopEvent: 1}


async def test_exclude_events_leaves_those_types_out() -> None:
    outcome = await WorkflowTestRunner(ReportingFlow()).run(
        StartEvent(count=3), exclude_events=[Progress, StepStateChanged]
    )
    assert outcome.event_types == {Milestone: 1, StopEvent: 1}


async def test_the_context_is_returned_and_can_be_passed_back_in() -> None:
    workflow = ReportingFlow()
    runner = WorkflowTestRunner(workflow)
    first = await runner.run(count=0)
    second = await runner.run(ctx=first.ctx, count=0)
    assert second.ctx is first.ctx
    assert await second.ctx.store.get("runs") == 2


async def test_a_stop_event_with_fields_of_its_own_is_the_result() -> None:
    outcome = await WorkflowTestRunner(JudgingFlow()).run(score=0.5, expose_internal=False)
    assert outcome.result == Verdict(score=0.5)
    assert outcome.event_types == {Verdict: 1}


async def test_a_failing_run_raises_its_exception() -> None:
    with pytest.raises(ValueError, match="kaboom"):
        await WorkflowTestRunner(FailingFlow()).run()
