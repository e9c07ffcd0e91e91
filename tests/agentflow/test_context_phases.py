"""A context's phases: with no run going, on the caller's side of its run, inside a step of
that run, or inside a step whose run has ended. Each operation is allowed in some phases,
and a refusal is a ContextStateError that names the operation and the phase."""

from __future__ import annotations

import asyncio

import pytest

from agentflow import Context, Workflow, step
from agentflow.context import ContextPhase
from agentflow.errors import ContextStateError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)


class Ping(Event):
    pass


class Asks(Workflow):
    """Records the phase its step sees, then waits for an answer."""

    seen: list[ContextPhase]

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        self.seen.append(ctx.phase)
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="?")
        )
        return StopEvent(result=answer.response)


async def test_the_phase_follows_a_context_through_its_run() -> None:
    workflow = Asks(timeout=None)
    workflow.seen = []
    ctx = Context(workflow)
    assert ctx.phase is ContextPhase.NO_RUN
    handler = workflow.run(ctx=ctx)
    assert ctx.phase is ContextPhase.CALLER
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            ctx.send_event(HumanResponseEvent(response="yes"))
    assert await handler == "yes"
    assert workflow.seen == [ContextPhase.STEP]
    assert ctx.phase is ContextPhase.NO_RUN


@pytest.mark.parametrize(
    "operation",
    ["send_event", "write_event_to_stream", "collect_events", "wait_for_event"],
)
async def test_an_event_operation_with_no_run_going_names_the_phase(operation: str) -> None:
    ctx = Context(Asks())
    calls = {
        "send_event": lambda: ctx.send_event(Ping()),
        "write_event_to_stream": lambda: ctx.write_event_to_stream(Ping()),
        "collect_events": lambda: ctx.collect_events(Ping(), [Ping]),
    }
    if operation == "wait_for_event":
        with pytest.raises(ContextStateError) as raised:
            await ctx.wait_for_event(Ping)
    else:
        with pytest.raises(ContextStateError) as raised:
            calls[operation]()
    message = str(raised.value)
    assert f"ctx.{operation}()" in message
    assert ContextPhase.NO_RUN.value in message
    assert ContextPhase.CALLER.value in message  # where it is allowed
    assert ContextPhase.STEP.value in message
    assert message.endswith(f"{operation} requires a running workflow. Call workflow.run() first.")


async def test_a_second_run_in_a_busy_context_names_the_phase_and_the_run() -> None:
    workflow = Asks(timeout=None)
    workflow.seen = []
    ctx = Context(workflow)
    handler = workflow.run(ctx=ctx)
    with pytest.raises(ContextStateError) as raised:
        workflow.run(ctx=ctx)
    assert handler.run_id in str(raised.value)
    assert ContextPhase.CALLER.value in str(raised.value)
    await handler.cancel_run()


class LeavesATask(Workflow):
    """Its step leaves a task behind that acts on the context after the run ended."""

    gate: asyncio.Event
    report: asyncio.Future[tuple[ContextPhase, list[Event] | None, str]]

    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> StopEvent:
        async def later() -> None:
            await type(self).gate.wait()
            phase = ctx.phase
            ctx.send_event(Ping())  # dropped: its run has ended
            ctx.write_event_to_stream(Ping())  # dropped as well
            collected = ctx.collect_events(Ping(), [Ping])
            try:
                await ctx.wait_for_event(Ping, timeout=None)
            except ContextStateError as error:
                type(self).report.set_result((phase, collected, str(error)))

        asyncio.get_running_loop().create_task(later())
        return StopEvent(result="done")


async def test_a_step_of_an_ended_run_is_in_its_own_phase() -> None:
    LeavesATask.gate = asyncio.Event()
    LeavesATask.report = asyncio.get_running_loop().create_future()
    workflow = LeavesATask(timeout=None)
    assert await workflow.run() == "done"
    LeavesATask.gate.set()
    phase, collected, message = await asyncio.wait_for(LeavesATask.report, 10)
    assert phase is ContextPhase.ENDED_STEP
    assert collected is None
    assert "ctx.wait_for_event()" in message
    assert "step 'begin' of a LeavesATask run that has ended" in message


class SendsNone(Workflow):
    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> StopEvent:
        refused = []
        for operation in (ctx.send_event, ctx.write_event_to_stream):
            with pytest.raises(TypeError) as raised:
                operation(None)  # type: ignore[arg-type]
            refused.append(str(raised.value))
        return StopEvent(result=refused)


async def test_none_is_not_an_event_in_any_phase() -> None:
    """A None sent or streamed is refused like any other non-event, not dropped."""
    assert await SendsNone().run() == [
        "send_event() takes an Event, got NoneType",
        "write_event_to_stream() takes an Event, got NoneType",
    ]
    ctx = Context(SendsNone())
    with pytest.raises(TypeError, match="send_event\\(\\) takes an Event, got NoneType"):
        ctx.send_event(None)  # type: ignore[arg-type]


async def test_collect_events_with_no_run_is_refused_before_its_arguments_are_checked() -> None:
    ctx = Context(Asks())
    with pytest.raises(ContextStateError, match="collect_events"):
        ctx.collect_events(Ping(), Ping, count=0)


async def test_the_allowed_phases_are_named_in_a_fixed_order() -> None:
    ctx = Context(Asks())
    with pytest.raises(ContextStateError) as raised:
        ctx.send_event(Ping())
    allowed = f"({ContextPhase.CALLER.value} or {ContextPhase.STEP.value})"
    assert allowed in str(raised.value)
