"""A run that can no longer make progress fails at once, naming the events nobody took;
a run waiting for a human, a waiter, a retry or a child run is not stalled."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import WorkflowRuntimeError, WorkflowStalledError, WorkflowTimeoutError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
    WorkflowFailedEvent,
)
from agentflow.handler import WorkflowHandler
from agentflow.retry_policy import ConstantDelayRetryPolicy

# A bound on how long a broken engine may keep a test waiting; a stalled run must fail
# long before it.
HANG = 10


class Ping(Event):
    pass


class Pong(Event):
    pass


class Stray(Event):
    pass


class Answer(Event):
    text: str


async def outcome(handler: WorkflowHandler) -> tuple[list[Event], BaseException | None]:
    """The run's streamed events and the error it ended with (None if it succeeded)."""
    events = [event async for event in handler.stream_events()]
    try:
        await handler
    except Exception as error:  # the run's own failure, examined by the test
        return events, error
    return events, None


class ReturnsUnaccepted(Workflow):
    @step
    async def ping(self, ev: StartEvent) -> Ping:
        return Ping()

    @step
    async def answer_ping(self, ev: Ping) -> Pong | StopEvent:
        return Pong()  # no step accepts Pong


async def test_a_step_returning_an_event_no_step_accepts_fails_the_run_at_once() -> None:
    handler = ReturnsUnaccepted(timeout=None, disable_validation=True).run()
    events, error = await asyncio.wait_for(outcome(handler), HANG)
    assert isinstance(error, WorkflowStalledError)
    assert isinstance(error, WorkflowRuntimeError)
    message = str(error)
    assert "workflow ReturnsUnaccepted" in message
    assert "Pong (from step 'answer_ping')" in message
    assert "Ping (" not in message
    failed = events[-1]
    assert isinstance(failed, WorkflowFailedEvent)
    assert failed.step_name == "answer_ping"
    assert failed.exception is error


async def test_an_event_outside_the_return_annotation_is_named_with_its_step() -> None:
    class Misdeclared(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Ping:
            return Stray()  # type: ignore[return-value]

        @step
        async def finish(self, ev: Ping) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowStalledError, match=r"Stray \(from step 'start'\)"):
        await asyncio.wait_for(Misdeclared(timeout=None).run(), HANG)


async def test_events_sent_from_a_step_that_no_one_takes_are_each_named() -> None:
    class SendsTwo(Workflow):
        @step
        async def start(self, ctx: Context, ev: StartEvent) -> StopEvent | None:
            ctx.send_event(Stray())
            ctx.send_event(Pong())
            return None

    with pytest.raises(WorkflowStalledError) as caught:
        await asyncio.wait_for(SendsTwo(timeout=None, disable_validation=True).run(), HANG)
    assert "Stray (from step 'start'), Pong (from step 'start')" in str(caught.value)


async def test_a_stop_event_sent_rather_than_returned_is_explained() -> None:
    class SendsStop(Workflow):
        @step
        async def start(self, ctx: Context, ev: StartEvent) -> StopEvent | None:
            ctx.send_event(StopEvent(result="lost"))
            return None

    with pytest.raises(WorkflowStalledError, match="a StopEvent ends a run only when a step "):
        await asyncio.wait_for(SendsStop(timeout=None).run(), HANG)


async def test_the_same_check_holds_for_sync_steps() -> None:
    class SyncSender(Workflow):
        @step
        def start(self, ctx: Context, ev: StartEvent) -> StopEvent | None:
            ctx.send_event(Stray())
            return None

    with pytest.raises(WorkflowStalledError, match=r"Stray \(from step 'start'\)"):
        await asyncio.wait_for(SyncSender(timeout=None, disable_validation=True).run(), HANG)


class Work(Event):
    i: int


class Done(Event):
    i: int


class FansInOneShort(Workflow):
    @step
    async def scatter(self, ctx: Context, ev: StartEvent) -> Work | None:
        for i in range(3):
            ctx.send_event(Work(i=i))
        return None

    @step
    async def work(self, ev: Work) -> Done:
        return Done(i=ev.i) if ev.i < 2 else Stray()  # type: ignore[return-value]

    @step
    async def gather(self, ctx: Context, ev: Done) -> StopEvent | None:
        if ctx.collect_events(ev, [Done] * 3) is None:
            return None
        return StopEvent()


async def test_a_collection_left_short_is_named_with_the_events_no_step_took() -> None:
    with pytest.raises(WorkflowStalledError) as caught:
        await asyncio.wait_for(FansInOneShort(timeout=None).run(), HANG)
    expected = "Stray (from step 'work'); the collect_events buffer 'gather' holds 2 events"
    assert expected in str(caught.value)


# Waiting for a human is not a stall


class AsksByReturning(Workflow):
    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent:
        ctx.send_event(Stray())  # unclaimed while the question is open
        return InputRequiredEvent(prefix="name? ")

    @step
    async def greet(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=f"hello {ev.response}")


async def test_a_run_waiting_for_an_answer_to_a_returned_question_is_not_stalled() -> None:
    handler = AsksByReturning(timeout=None, disable_validation=True).run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(HumanResponseEvent(response="Ada"))
    assert await asyncio.wait_for(handler, HANG) == "hello Ada"


class AsksWhileWaiting(Workflow):
    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.send_event(Stray())
        answer = await ctx.wait_for_event(
            Answer, waiter_event=InputRequiredEvent(prefix="name? "), timeout=None
        )
        return StopEvent(result=answer.text)


class AsksOnTheStream(Workflow):
    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> None:
        ctx.send_event(Stray())
        # Not the documented way to ask (return the question, or wait_for_event with it as
        # waiter_event): the run cannot tell this question from any other streamed event.
        ctx.write_event_to_stream(InputRequiredEvent(prefix="name? "))
        return None

    @step
    async def greet(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=f"hello {ev.response}")


async def test_a_question_only_written_to_the_stream_does_not_keep_the_run_waiting() -> None:
    handler = AsksOnTheStream(timeout=None, disable_validation=True).run()
    events, error = await asyncio.wait_for(outcome(handler), HANG)
    assert isinstance(events[0], InputRequiredEvent)
    assert isinstance(error, WorkflowStalledError)
    # The error says why the question did not count, and what does.
    assert "Stray (from step 'ask')" in str(error)
    assert (
        "an InputRequiredEvent written with ctx.write_event_to_stream does not keep a run "
        "waiting for its answer: return it from the step, or pass it to ctx.wait_for_event "
        "as waiter_event"
    ) in str(error)


async def test_the_hint_about_questions_is_left_out_where_no_step_takes_an_answer() -> None:
    handler = ReturnsUnaccepted(timeout=None, disable_validation=True).run()
    _, error = await asyncio.wait_for(outcome(handler), HANG)
    assert isinstance(error, WorkflowStalledError)
    assert "InputRequiredEvent" not in str(error)


async def test_a_run_whose_step_waits_for_an_event_is_not_stalled() -> None:
    handler = AsksWhileWaiting(timeout=None, disable_validation=True).run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(Answer(text="42"))
    assert await asyncio.wait_for(handler, HANG) == "42"


class NobodyTakesTheAnswer(Workflow):
    @step
    async def ask(self, ev: StartEvent) -> InputRequiredEvent | StopEvent:
        return InputRequiredEvent(prefix="name? ")


async def test_an_answer_no_step_takes_stalls_the_run_and_names_its_sender() -> None:
    handler = NobodyTakesTheAnswer(timeout=None, disable_validation=True).run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(HumanResponseEvent(response="Ada"))
    with pytest.raises(
        WorkflowStalledError, match=r"HumanResponseEvent \(sent from outside the run\)"
    ):
        await asyncio.wait_for(handler, HANG)


async def test_a_run_with_nothing_unclaimed_waits_for_events_sent_from_outside() -> None:
    went_idle = asyncio.Event()

    class Triggered(Workflow):
        @step
        async def start(self, ev: StartEvent) -> None:
            # Set after this step's worker has ended: the run is idle by then.
            asyncio.get_running_loop().call_soon(went_idle.set)
            return None

        @step
        async def go(self, ev: Ping) -> StopEvent:
            return StopEvent(result="triggered")

    handler = Triggered(timeout=None, disable_validation=True).run()
    await went_idle.wait()
    handler.ctx.send_event(Ping())
    assert await asyncio.wait_for(handler, HANG) == "triggered"


async def test_a_run_whose_step_callers_feed_waits_for_them_although_events_are_left() -> None:
    went_idle = asyncio.Event()

    class FedFromOutside(Workflow):
        @step
        async def start(self, ctx: Context, ev: StartEvent) -> None:
            ctx.send_event(Answer(text="kept"))  # kept for the wait_for_event below
            # Runs before the check for a stall, which the worker's end schedules.
            asyncio.get_running_loop().call_soon(went_idle.set)
            return None

        @step(skip_graph_checks=["reachability"])
        async def on_ping(self, ctx: Context, ev: Ping) -> StopEvent:
            kept = await ctx.wait_for_event(Answer, timeout=None)
            return StopEvent(result=kept.text)

    handler = FedFromOutside(timeout=None).run()
    await went_idle.wait()
    # Before, the run had failed as stalled by now, though its caller was about to feed it.
    handler.ctx.send_event(Ping())
    assert await asyncio.wait_for(handler, HANG) == "kept"


# Work still scheduled is not a stall


async def test_a_step_waiting_for_its_retry_keeps_the_run_going() -> None:
    class Flaky(Workflow):
        attempts = 0

        @step(retry_policy=ConstantDelayRetryPolicy(delay=0.01, maximum_attempts=2))
        async def start(self, ctx: Context, ev: StartEvent) -> StopEvent:
            type(self).attempts += 1
            if type(self).attempts == 1:
                ctx.send_event(Stray())
                raise ConnectionError("first attempt fails")
            return StopEvent(result="second attempt")

    assert await asyncio.wait_for(Flaky(timeout=None).run(), HANG) == "second attempt"


class Child(Workflow):
    started: asyncio.Event
    release: asyncio.Event

    @step
    async def work(self, ev: StartEvent) -> StopEvent:
        type(self).started.set()
        await type(self).release.wait()
        return StopEvent(result="child done")


class LeavesAChildRunning(Workflow):
    child: Any = None

    @step
    async def start(self, ctx: Context, ev: StartEvent) -> StopEvent | None:
        ctx.send_event(Stray())
        type(self).child = Child(timeout=None).run()  # not awaited: runs on by itself
        return None


async def test_a_run_is_stalled_only_once_its_last_child_run_has_ended() -> None:
    Child.started, Child.release = asyncio.Event(), asyncio.Event()
    handler = LeavesAChildRunning(timeout=None, disable_validation=True).run()
    # The parent's step has returned by now: its run is idle, but its child is not.
    await Child.started.wait()
    Child.release.set()
    # A parent taken for stalled would have cancelled its child.
    assert await asyncio.wait_for(LeavesAChildRunning.child, HANG) == "child done"
    with pytest.raises(WorkflowStalledError, match=r"Stray \(from step 'start'\)"):
        await asyncio.wait_for(handler, HANG)


# The timeout names what nobody took


async def test_the_timeout_message_names_the_events_no_step_took() -> None:
    class SlowWithStray(Workflow):
        @step
        async def start(self, ctx: Context, ev: StartEvent) -> StopEvent:
            ctx.send_event(Stray())
            await asyncio.Event().wait()
            return StopEvent()

    with pytest.raises(WorkflowTimeoutError) as caught:
        await SlowWithStray(timeout=0.05, disable_validation=True).run()
    message = str(caught.value)
    assert "steps still running: start" in message
    assert "events no step took: Stray (from step 'start')" in message


# A resumed run still knows what was left over


async def test_events_left_over_before_a_save_are_named_after_the_resume() -> None:
    workflow = NobodyTakesTheAnswer(timeout=None, disable_validation=True)
    handler = workflow.run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(Stray())  # left over; the question keeps the run going
            break
    await handler.cancel_run()
    saved = json.loads(json.dumps(handler.ctx.to_dict()))

    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    async for event in resumed.stream_events():
        if isinstance(event, InputRequiredEvent):
            resumed.ctx.send_event(HumanResponseEvent(response="Ada"))
    with pytest.raises(WorkflowStalledError) as caught:
        await asyncio.wait_for(resumed, HANG)
    assert (
        "Stray (left over when the run was saved), HumanResponseEvent (sent from outside "
        "the run)" in str(caught.value)
    )
