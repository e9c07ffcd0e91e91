"""Workflows run from inside a step: deadlines, cancellation and forwarded events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import WorkflowCancelledByUser, WorkflowRuntimeError, WorkflowTimeoutError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
    WorkflowTimedOutEvent,
)
from agentflow.handler import WorkflowHandler


@pytest.fixture
async def no_task_left() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()


class Progress(Event):
    percent: int


class HangingChild(Workflow):
    @step
    async def hang(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.write_event_to_stream(Progress(percent=0))
        await asyncio.Event().wait()
        return StopEvent()


class Parent(Workflow):
    """Starts a HangingChild; awaits it unless told to leave it running."""

    child: WorkflowHandler | None = None

    @step
    async def delegate(self, ctx: Context, ev: StartEvent) -> StopEvent:
        child = HangingChild(timeout=None).run()
        type(self).child = child
        ctx.write_event_to_stream(Progress(percent=1))
        if ev.get("await_child", True):
            await child
        return StopEvent(result="parent done")


async def test_a_child_left_running_ends_with_its_parent(no_task_left: None) -> None:
    assert await Parent().run(await_child=False) == "parent done"
    child = Parent.child
    assert child is not None
    assert child.done()
    with pytest.raises(WorkflowCancelledByUser):
        child.result()


async def test_cancelling_the_parent_cancels_the_child(no_task_left: None) -> None:
    handler = Parent(timeout=None).run()
    stream = handler.stream_events()
    assert isinstance(await anext(stream), Progress)  # the child has been started
    await handler.cancel_run()
    child = Parent.child
    # The parent's step was awaiting the child, so cancelling that step cancelled the
    # child's handler, after the child's run had stopped.
    assert child.cancelled()
    assert not child.ctx.is_running
    assert [type(e).__name__ async for e in stream] == ["WorkflowCancelledEvent"]
    Parent.child = None


class PatientParent(Workflow):
    """Gives its child no timeout of its own and reports how the child ended."""

    @step
    async def delegate(self, ev: StartEvent) -> StopEvent:
        child = HangingChild(timeout=None).run()
        try:
            await child
        except WorkflowTimeoutError as error:
            timed_out = [e async for e in child.stream_events()][-1]
            assert isinstance(timed_out, WorkflowTimedOutEvent)
            return StopEvent(result=(timed_out.timeout, str(error)))
        return StopEvent(result="the child never timed out")


async def test_a_child_gets_part_of_the_time_its_parent_has_left(no_task_left: None) -> None:
    child_timeout, message = await PatientParent(timeout=0.4).run()
    assert 0.3 < child_timeout < 0.4
    assert "its parent workflow PatientParent had left" in message


class StepDeadlineParent(Workflow):
    child: WorkflowHandler | None = None

    @step(timeout=0.1)
    async def delegate(self, ev: StartEvent) -> StopEvent:
        child = HangingChild(timeout=60).run()
        type(self).child = child
        await child
        return StopEvent()


async def test_a_childs_deadline_is_bounded_by_its_steps_timeout(no_task_left: None) -> None:
    with pytest.raises(WorkflowTimeoutError):
        await StepDeadlineParent(timeout=60).run()
    child = StepDeadlineParent.child
    assert child is not None
    assert child.done()


class Asking(Workflow):
    """A child that reports progress and asks its question mid-step."""

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.write_event_to_stream(Progress(percent=50))
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="colour?")
        )
        return StopEvent(result=f"child heard {answer.response}")


class Forwarding(Workflow):
    @step
    async def delegate(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.write_event_to_stream(Progress(percent=0))
        inner = await Asking().run(forward_events=True)
        ctx.write_event_to_stream(Progress(percent=100))
        return StopEvent(result=inner)


async def test_forwarded_child_events_reach_the_parent_stream_tagged_and_answers_go_down(
    no_task_left: None,
) -> None:
    handler = Forwarding().run()
    seen = []
    async for event in handler.stream_events():
        seen.append((type(event).__name__, event.get("source_workflow")))
        if isinstance(event, InputRequiredEvent):
            assert event.prefix == "colour?"
            handler.ctx.send_event(HumanResponseEvent(response="teal"))
    assert seen == [
        ("Progress", None),
        ("Progress", "Asking"),
        ("InputRequiredEvent", "Asking"),
        ("Progress", None),
        ("StopEvent", None),
    ]
    assert await handler == "child heard teal"


async def test_forward_events_outside_a_step_is_refused() -> None:
    with pytest.raises(WorkflowRuntimeError, match="inside a step"):
        Asking().run(forward_events=True)
