"""WorkflowHandler: streaming, failure, timeout, cancellation, and no task left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import (
    StreamAlreadyConsumedError,
    WorkflowCancelledByUser,
    WorkflowRuntimeError,
    WorkflowTimeoutError,
)
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepState,
    StepStateChanged,
    StopEvent,
    WorkflowCancelledEvent,
    WorkflowFailedEvent,
    WorkflowTimedOutEvent,
)


class Progress(Event):
    step: int


class Started(Event):
    pass


@pytest.fixture
async def no_task_left() -> AsyncIterator[None]:
    """Fails the test if a task that did not exist before it is still there after it."""
    before = asyncio.all_tasks()
    yield
    left = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert left == set()


class ProgressWorkflow(Workflow):
    @step
    async def work(self, ctx: Context, ev: StartEvent) -> StopEvent:
        for index in range(ev.count):
            ctx.write_event_to_stream(Progress(step=index))
        return StopEvent(result="finished")


async def collect(stream: AsyncIterator[Event]) -> list[Event]:
    return [event async for event in stream]


async def test_stream_yields_every_written_event_in_order_then_the_stop_event() -> None:
    handler = ProgressWorkflow().run(count=100)
    events = await collect(handler.stream_events())
    assert [e.step for e in events[:-1]] == list(range(100))  # type: ignore[attr-defined]
    assert isinstance(events[-1], StopEvent)
    assert events[-1].result == "finished"
    assert await handler == "finished"


async def test_stream_can_be_consumed_after_the_run_finished() -> None:
    handler = ProgressWorkflow().run(count=3)
    assert await handler == "finished"
    events = await collect(handler.stream_events())
    assert len(events) == 4


async def test_a_second_stream_consumer_gets_a_clear_error() -> None:
    handler = ProgressWorkflow().run(count=1)
    handler.stream_events()
    with pytest.raises(StreamAlreadyConsumedError, match="single consumer"):
        handler.stream_events()
    await handler


class Boom(RuntimeError):
    pass


class FailingWorkflow(Workflow):
    slow_step_cancelled = False

    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Started:
        ctx.write_event_to_stream(Progress(step=0))
        return Started()

    @step
    async def explode(self, ev: Started) -> StopEvent:
        raise Boom("the model said no")

    @step
    async def slow(self, ev: Started) -> StopEvent:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            type(self).slow_step_cancelled = True
            raise
        return StopEvent()


async def test_a_failing_step_fails_the_run_with_its_exception_naming_the_step(
    no_task_left: None,
) -> None:
    FailingWorkflow.slow_step_cancelled = False
    handler = FailingWorkflow().run()
    with pytest.raises(Boom, match="the model said no") as raised:
        await handler
    assert "raised in step 'explode' of workflow FailingWorkflow" in raised.value.__notes__
    assert FailingWorkflow.slow_step_cancelled
    assert isinstance(handler.exception(), Boom)


async def test_a_failed_runs_stream_ends_with_a_failure_event(no_task_left: None) -> None:
    handler = FailingWorkflow().run()
    events = await collect(handler.stream_events())
    assert isinstance(events[0], Progress)
    failure = events[-1]
    assert isinstance(failure, WorkflowFailedEvent)
    assert failure.step_name == "explode"
    assert isinstance(failure.exception, Boom)
    with pytest.raises(Boom):
        await handler


class NotAnEventWorkflow(Workflow):
    @step
    async def wrong(self, ev: StartEvent) -> StopEvent:
        return "plain string"  # type: ignore[return-value]


async def test_a_step_returning_a_non_event_fails_the_run_naming_step_and_type() -> None:
    with pytest.raises(WorkflowRuntimeError, match="step 'wrong' returned a str"):
        await NotAnEventWorkflow().run()


class HangingWorkflow(Workflow):
    @step
    async def hang(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.write_event_to_stream(Progress(step=1))
        await asyncio.Event().wait()
        return StopEvent()


async def test_timeout_fails_the_run_and_says_how_to_change_it(no_task_left: None) -> None:
    handler = HangingWorkflow(timeout=0.05).run()
    events = await collect(handler.stream_events())
    with pytest.raises(WorkflowTimeoutError, match=r"timeout=None") as raised:
        await handler
    assert "0.05" in str(raised.value)
    assert "hang" in str(raised.value)
    assert "Operation timed out after 0.05 seconds." in str(raised.value)  # LlamaIndex's words
    assert isinstance(events[0], Progress)
    assert isinstance(events[-1], WorkflowTimedOutEvent)
    assert events[-1].active_steps == ["hang"]


async def test_cancel_run_stops_the_run_and_ends_its_stream(no_task_left: None) -> None:
    handler = HangingWorkflow(timeout=None).run()
    stream = handler.stream_events()
    first = await anext(stream)
    assert isinstance(first, Progress)
    await handler.cancel_run()
    rest = await collect(stream)
    assert len(rest) == 1
    assert isinstance(rest[0], WorkflowCancelledEvent)
    with pytest.raises(WorkflowCancelledByUser):
        await handler
    assert handler.done()


async def test_cancelling_the_awaiting_task_cancels_the_run(no_task_left: None) -> None:
    handler = HangingWorkflow(timeout=None).run()
    stream = handler.stream_events()
    await anext(stream)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(handler, timeout=0.01)
    assert handler.cancelled()
    assert not handler.ctx.is_running
    rest = await collect(stream)
    assert isinstance(rest[-1], WorkflowCancelledEvent)


async def test_cancelling_a_task_awaiting_the_handler_waits_for_the_run_to_stop(
    no_task_left: None,
) -> None:
    handler = HangingWorkflow(timeout=None).run()
    stream = handler.stream_events()
    await anext(stream)
    awaiting = asyncio.Event()

    async def await_handler() -> object:
        awaiting.set()
        return await handler

    waiter = asyncio.create_task(await_handler())
    await awaiting.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    # By the time the cancelled task finished, the run had ended and ended its stream.
    assert handler.done()
    assert not handler.ctx.is_running
    assert isinstance((await collect(stream))[-1], WorkflowCancelledEvent)


async def test_successful_run_leaves_no_task(no_task_left: None) -> None:
    handlers = [ProgressWorkflow().run(count=5) for _ in range(20)]
    assert await asyncio.gather(*handlers) == ["finished"] * 20


async def test_handler_exposes_future_api_and_run_id() -> None:
    handler = ProgressWorkflow().run(count=0)
    assert not handler.done()
    with pytest.raises(asyncio.InvalidStateError):
        handler.result()
    await handler
    assert handler.done()
    assert handler.result() == "finished"
    assert handler.exception() is None
    assert len(handler.run_id) == 32
    other = ProgressWorkflow().run(count=0)
    assert handler.run_id != other.run_id
    await other


async def test_the_stream_ends_even_when_nobody_awaits_the_handler() -> None:
    handler = FailingWorkflow().run()
    events = await asyncio.wait_for(collect(handler.stream_events()), timeout=5)
    assert isinstance(events[-1], WorkflowFailedEvent)
    handler.exception()


class Tick(Event):
    n: int


class RunawayWorkflow(Workflow):
    """A step that feeds itself forever without awaiting anything."""

    @step(num_workers=1)
    async def start(self, ev: StartEvent) -> Tick:
        return Tick(n=0)

    @step(num_workers=1)
    async def spin(self, ev: Tick) -> Tick | StopEvent:
        return Tick(n=ev.n + 1)


async def test_a_step_that_never_awaits_cannot_starve_the_timeout(no_task_left: None) -> None:
    with pytest.raises(WorkflowTimeoutError, match="spin"):
        await RunawayWorkflow(timeout=0.2).run()


class CountdownWorkflow(Workflow):
    """A single-worker step that feeds itself until its counter reaches zero."""

    @step
    async def start(self, ev: StartEvent) -> Tick:
        return Tick(n=ev.n)

    @step(num_workers=1)
    async def count_down(self, ev: Tick) -> Tick | StopEvent:
        return StopEvent(result="lift-off") if ev.n == 0 else Tick(n=ev.n - 1)


async def test_a_single_worker_step_feeding_itself_loses_no_event() -> None:
    assert await CountdownWorkflow().run(n=1000) == "lift-off"


async def test_step_executions_counts_how_often_each_step_ran() -> None:
    handler = CountdownWorkflow().run(n=3)
    assert await handler == "lift-off"
    assert handler.step_executions == {"start": 1, "count_down": 4}


async def test_active_steps_names_the_steps_running_now() -> None:
    handler = HangingWorkflow(timeout=None).run()
    stream = handler.stream_events()
    await anext(stream)
    assert handler.active_steps == ["hang"]
    await handler.cancel_run()
    assert handler.active_steps == []


async def test_handler_send_event_answers_like_ctx_send_event() -> None:
    class Asks(Workflow):
        @step
        async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
            answer = await ctx.wait_for_event(
                HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="?")
            )
            return StopEvent(result=answer.response)

    handler = Asks().run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.send_event(HumanResponseEvent(response="via handler"))
    assert await handler == "via handler"


class WaitsForever(Workflow):
    @step
    async def hang(self, ev: StartEvent) -> StopEvent:
        await asyncio.Event().wait()
        return StopEvent()


async def test_get_stop_event_of_a_cancelled_run_is_its_cancel_event() -> None:
    handler = WaitsForever().run()
    await handler.cancel_run()
    assert handler.is_done()
    assert isinstance(handler.get_stop_event(), WorkflowCancelledEvent)


async def test_a_timed_out_run_has_no_stop_event_and_stop_event_result_raises() -> None:
    handler = WaitsForever(timeout=0.01).run()
    with pytest.raises(WorkflowTimeoutError):
        await handler.stop_event_result()
    assert handler.is_done()
    assert handler.get_stop_event() is None


class Verdict(StopEvent):
    score: float


class Judges(Workflow):
    @step
    async def judge(self, ev: StartEvent) -> Verdict:
        return Verdict(score=0.5)


async def test_stop_event_result_of_a_stop_event_with_fields_is_the_same_event() -> None:
    handler = Judges().run()
    verdict = await handler.stop_event_result()
    assert verdict == Verdict(score=0.5)
    assert await handler is verdict


class ExplodesOnce(Workflow):
    @step
    async def explode(self, ev: StartEvent) -> StopEvent:
        raise ValueError("kaboom")


async def test_a_step_that_raises_reports_not_running_with_no_output() -> None:
    handler = ExplodesOnce().run()
    events = [event async for event in handler.stream_events(expose_internal=True)]
    with pytest.raises(ValueError, match="kaboom"):
        await handler
    states = [
        (event.name, event.step_state, event.output_event_name)
        for event in events
        if isinstance(event, StepStateChanged)
    ]
    assert states == [
        ("explode", StepState.RUNNING, None),
        ("explode", StepState.NOT_RUNNING, None),
    ]
    assert isinstance(events[-1], WorkflowFailedEvent)


async def test_a_stream_not_asking_gets_no_internal_events_and_a_second_call_is_refused() -> None:
    handler = Judges().run()
    assert [type(event) async for event in handler.stream_events()] == [Verdict]
    with pytest.raises(StreamAlreadyConsumedError):
        handler.stream_events(expose_internal=True)
    await handler


async def test_a_durable_run_streams_step_states_when_asked() -> None:
    from agentflow.stores import MemoryStore

    handler = ExplodesOnce(store=MemoryStore()).run()
    states = [
        event.step_state
        async for event in handler.stream_events(expose_internal=True)
        if isinstance(event, StepStateChanged)
    ]
    with pytest.raises(ValueError, match="kaboom"):
        await handler
    assert states == [StepState.RUNNING, StepState.NOT_RUNNING]
