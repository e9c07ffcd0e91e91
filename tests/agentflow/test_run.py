"""The runtime's edge cases: reused workers, resumes of every kind of unfinished work,
cancellation from odd places, and tasks that outlive their run."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import weakref
from typing import Any, ClassVar

import pytest

from agentflow import Context, Workflow, catch_error, step
from agentflow.context.serializers import JsonSerializer
from agentflow.errors import (
    ContextSerdeError,
    ContextStateError,
    StepCancelledError,
    WorkflowRuntimeError,
    WorkflowTimeoutError,
)
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
)
from agentflow.handler import WorkflowHandler
from agentflow.retry_policy import ConstantDelayRetryPolicy


def through_json(ctx: Context[Any]) -> dict[str, Any]:
    return json.loads(json.dumps(ctx.to_dict()))


# A worker's next event is a new execution: no earlier answer carries over


class Ask(Event):
    n: int


class Answer(Event):
    n: int


class Got(Event):
    asked: int
    got: int


class ExplicitWaiterId(Workflow):
    @step
    async def fan_out(self, ctx: Context, ev: StartEvent) -> Ask | None:
        ctx.send_event(Ask(n=1))
        ctx.send_event(Ask(n=2))
        return None

    @step(num_workers=1)
    async def ask(self, ctx: Context, ev: Ask) -> Got:
        answer = await ctx.wait_for_event(
            Answer,
            waiter_event=InputRequiredEvent(n=ev.n),
            waiter_id="answer",
            requirements={"n": ev.n},
        )
        return Got(asked=ev.n, got=answer.n)

    @step
    async def join(self, ctx: Context, ev: Got) -> StopEvent | None:
        got = ctx.collect_events(ev, Got, count=2)
        return None if got is None else StopEvent(result=sorted((g.asked, g.got) for g in got))


async def test_explicit_waiter_id_answer_is_not_reused_by_the_next_execution() -> None:
    handler = ExplicitWaiterId(timeout=None).run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(Answer(n=event.n))
    assert await handler == [(1, 1), (2, 2)]


# A question a waiting step asked is asked once after a resume


class AskOnce(Workflow):
    reached: ClassVar[asyncio.Event]

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        type(self).reached.set()
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="q?")
        )
        return StopEvent(result=answer.response)


async def test_resume_does_not_stream_an_unconsumed_question_twice() -> None:
    AskOnce.reached = asyncio.Event()
    first = AskOnce(timeout=None).run()
    await AskOnce.reached.wait()  # the question is on the stream, not consumed
    saved = through_json(first.ctx)
    await first.cancel_run()

    AskOnce.reached = asyncio.Event()
    workflow = AskOnce(timeout=None)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    await AskOnce.reached.wait()  # the re-run step is waiting again
    questions = 0
    async for event in resumed.stream_events():
        if isinstance(event, InputRequiredEvent):
            questions += 1
            if questions == 1:
                resumed.ctx.send_event(HumanResponseEvent(response="yes"))
    assert await resumed == "yes"
    assert questions == 1


# Saving a resumed run again keeps one copy of an open question


class ReturnsQuestion(Workflow):
    @step
    async def ask(self, ev: StartEvent) -> InputRequiredEvent:
        return InputRequiredEvent(prefix="q?")

    @step
    async def answer(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)


async def test_saving_a_resumed_run_again_keeps_one_copy_of_an_open_question() -> None:
    first = ReturnsQuestion(timeout=None).run()
    stream = first.stream_events()
    assert isinstance(await anext(stream), InputRequiredEvent)  # consumed, unanswered
    saved = through_json(first.ctx)
    await first.cancel_run()

    workflow = ReturnsQuestion(timeout=None)
    second = workflow.run(ctx=Context.from_dict(workflow, saved))
    saved_again = through_json(second.ctx)  # nobody read the re-streamed question yet
    await second.cancel_run()

    assert len(saved_again["run"]["stream"]["unconsumed"]) == 1


# A failed run keeps the failed step's event, to run it again on resume


class FailsOnce(Workflow):
    calls = 0

    @step
    async def flaky(self, ev: StartEvent) -> StopEvent:
        type(self).calls += 1
        if type(self).calls == 1:
            raise ValueError("transient")
        return StopEvent(result="ok")


async def test_a_failed_run_keeps_the_failed_steps_event_for_resume() -> None:
    FailsOnce.calls = 0
    workflow = FailsOnce(timeout=None)
    ctx = Context(workflow)
    with pytest.raises(ValueError, match="transient"):
        await workflow.run(ctx=ctx)
    assert ctx.has_unfinished_run
    run = ctx.to_dict()["run"]
    steps = [item["step"] for item in run.get("in_progress", []) + run.get("queued", [])]
    assert steps == ["flaky"]


# A run cancelled before it started keeps its start event


class Echo(Workflow):
    @step
    async def echo(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=ev.text)


async def test_a_run_cancelled_before_it_started_keeps_its_start_event() -> None:
    workflow = Echo(timeout=None)
    ctx = Context(workflow)
    handler = workflow.run(ctx=ctx, text="hi")
    await handler.cancel_run()
    assert ctx.has_unfinished_run
    run = ctx.to_dict()["run"]
    # Handed to a worker that never ran: kept as a running step, to be run again.
    running_or_queued = run.get("in_progress", []) + run.get("queued", [])
    assert [item["step"] for item in running_or_queued] == ["echo"]
    workflow_again = Echo(timeout=None)
    resumed = workflow_again.run(ctx=Context.from_dict(workflow_again, through_json(ctx)))
    assert await resumed == "hi"


# The start event comes before anything sent after run() returns


class Poke(Event):
    pass


class Mark(Event):
    name: str


class Pokeable(Workflow):
    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> Poke | None:
        ctx.write_event_to_stream(Mark(name="start"))
        return None

    @step
    async def poked(self, ctx: Context, ev: Poke) -> StopEvent:
        ctx.write_event_to_stream(Mark(name="poke"))
        return StopEvent()


async def test_an_event_sent_after_run_returns_comes_after_the_start_event() -> None:
    handler = Pokeable(timeout=None).run()
    handler.ctx.send_event(Poke())
    marks = [e.name async for e in handler.stream_events() if isinstance(e, Mark)]
    await handler
    assert marks == ["start", "poke"]


# A refused run() call leaves the context's unfinished run in place


async def test_a_refused_run_call_keeps_the_contexts_unfinished_run() -> None:
    workflow = Echo(timeout=None)
    ctx = Context(workflow)
    await workflow.run(ctx=ctx, text="x").cancel_run()
    assert ctx.has_unfinished_run
    with pytest.raises(WorkflowRuntimeError, match="forward_events"):
        workflow.run(ctx=ctx, forward_events=True)
    assert ctx.has_unfinished_run


# A step raising CancelledError of its own fails the run at once


class RaisesCancelled(Workflow):
    @step
    async def awaits_a_cancelled_future(self, ev: StartEvent) -> StopEvent:
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        await future  # e.g. a helper task it awaited was cancelled elsewhere
        return StopEvent()


async def test_a_step_raising_cancelled_error_fails_the_run_at_once() -> None:
    handler = RaisesCancelled(timeout=0.5).run()
    with pytest.raises(StepCancelledError, match="step 'awaits_a_cancelled_future'"):
        await handler


# An answer that arrives as its waiter times out is kept


class Ping(Event):
    pass


class TimedWait(Workflow):
    @step
    async def wait_twice(self, ctx: Context, ev: StartEvent) -> StopEvent:
        loop = asyncio.get_running_loop()
        # The Ping is sent in the loop turn between the timeout firing and the step
        # waking up with it.
        loop.call_soon(loop.call_soon, ctx.send_event, Ping())
        try:
            await ctx.wait_for_event(Ping, timeout=0)
            return StopEvent(result="first wait got it")
        except WorkflowTimeoutError:
            pass
        try:
            await ctx.wait_for_event(Ping, timeout=0)
        except WorkflowTimeoutError:
            return StopEvent(result="lost")
        return StopEvent(result="kept")


async def test_an_event_matching_a_timed_out_waiter_is_not_lost() -> None:
    assert await TimedWait(timeout=None).run() == "kept"


# Collect_events gives a re-run execution (retry, resume) what it gave before


class Part(Event):
    i: int


class RetryCollect(Workflow):
    attempts = 0

    @step
    async def fan_out(self, ctx: Context, ev: StartEvent) -> Part | None:
        for i in range(3):
            ctx.send_event(Part(i=i))
        return None

    @step(retry_policy=ConstantDelayRetryPolicy(delay=0, maximum_attempts=3))
    async def join(self, ctx: Context, ev: Part) -> StopEvent | None:
        parts = ctx.collect_events(ev, Part, count=3)
        if parts is None:
            return None
        type(self).attempts += 1
        if type(self).attempts == 1:
            raise RuntimeError("LLM call failed once")
        return StopEvent(result=sorted(p.i for p in parts))


async def test_a_retried_collecting_step_gets_its_collected_events_again() -> None:
    RetryCollect.attempts = 0
    assert await RetryCollect(timeout=1).run() == [0, 1, 2]


class CollectThenWork(Workflow):
    reached: ClassVar[asyncio.Event]
    gate: ClassVar[asyncio.Event]

    @step
    async def fan_out(self, ctx: Context, ev: StartEvent) -> Part | None:
        for i in range(3):
            ctx.send_event(Part(i=i))
        return None

    @step
    async def join(self, ctx: Context, ev: Part) -> StopEvent | None:
        parts = ctx.collect_events(ev, Part, count=3)
        if parts is None:
            return None
        type(self).reached.set()
        await type(self).gate.wait()
        return StopEvent(result=sorted(p.i for p in parts))


async def test_a_collecting_step_saved_after_collecting_resumes_with_its_events() -> None:
    CollectThenWork.reached, CollectThenWork.gate = asyncio.Event(), asyncio.Event()
    first = CollectThenWork(timeout=None).run()
    await CollectThenWork.reached.wait()
    saved = through_json(first.ctx)
    await first.cancel_run()

    CollectThenWork.gate.set()
    workflow = CollectThenWork(timeout=1)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    assert await resumed == [0, 1, 2]


class BufferThenWait(Workflow):
    """Collects three parts in one worker; the step for part 1 waits after buffering it."""

    reached: ClassVar[asyncio.Event]
    gate: ClassVar[asyncio.Event]

    @step
    async def fan_out(self, ctx: Context, ev: StartEvent) -> Part | None:
        for i in range(3):
            ctx.send_event(Part(i=i))
        return None

    @step(num_workers=1)
    async def join(self, ctx: Context, ev: Part) -> StopEvent | None:
        parts = ctx.collect_events(ev, Part, count=3)
        if ev.i == 1:
            type(self).reached.set()
            await type(self).gate.wait()
        return None if parts is None else StopEvent(result=[p.i for p in parts])


async def test_a_collecting_step_saved_after_buffering_its_event_does_not_buffer_it_twice() -> None:
    BufferThenWait.reached, BufferThenWait.gate = asyncio.Event(), asyncio.Event()
    first = BufferThenWait(timeout=None).run()
    await BufferThenWait.reached.wait()
    saved = through_json(first.ctx)
    await first.cancel_run()

    BufferThenWait.gate.set()
    workflow = BufferThenWait(timeout=1)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    assert await resumed == [0, 1, 2]


class CollectTwiceThenWait(Workflow):
    """One worker collects pairs: part 1 completes the first pair, then the step for part
    2 buffers it and waits, with nothing of the finished pair left to replay."""

    reached: ClassVar[asyncio.Event]
    gate: ClassVar[asyncio.Event]

    @step
    async def fan_out(self, ctx: Context, ev: StartEvent) -> Part | None:
        for i in range(4):
            ctx.send_event(Part(i=i))
        return None

    @step(num_workers=1)
    async def join(self, ctx: Context, ev: Part) -> StopEvent | None:
        pair = ctx.collect_events(ev, Part, count=2)
        if ev.i == 2:
            type(self).reached.set()
            await type(self).gate.wait()
        if pair is None or pair[0].i == 0:
            return None
        return StopEvent(result=[p.i for p in pair])


async def test_a_worker_saved_in_its_next_collection_replays_only_that_one() -> None:
    CollectTwiceThenWait.reached = asyncio.Event()
    CollectTwiceThenWait.gate = asyncio.Event()
    first = CollectTwiceThenWait(timeout=None).run()
    await CollectTwiceThenWait.reached.wait()
    saved = through_json(first.ctx)
    await first.cancel_run()
    assert [item["collected"] for item in saved["run"]["in_progress"]] == [[None]]

    CollectTwiceThenWait.gate.set()
    workflow = CollectTwiceThenWait(timeout=1)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    assert await resumed == [2, 3]


class FailAfterCollecting(Workflow):
    """The collector fails the run once it has taken all three parts."""

    fail: ClassVar[bool]

    @step
    async def fan_out(self, ctx: Context, ev: StartEvent) -> Part | None:
        for i in range(3):
            ctx.send_event(Part(i=i))
        return None

    @step
    async def join(self, ctx: Context, ev: Part) -> StopEvent | None:
        parts = ctx.collect_events(ev, Part, count=3)
        if parts is None:
            return None
        if type(self).fail:
            raise RuntimeError("the LLM is down")
        return StopEvent(result=sorted(p.i for p in parts))


async def test_a_collecting_step_that_failed_the_run_resumes_with_its_events() -> None:
    FailAfterCollecting.fail = True
    workflow = FailAfterCollecting(timeout=1)
    ctx = Context(workflow)
    with pytest.raises(RuntimeError, match="LLM is down"):
        await workflow.run(ctx=ctx)
    saved = through_json(ctx)

    FailAfterCollecting.fail = False
    resumed = FailAfterCollecting(timeout=1)
    assert await resumed.run(ctx=Context.from_dict(resumed, saved)) == [0, 1, 2]


# A result type is sorted once per workflow class: later runs route it the same way


class Asked(Event):
    n: int


class Answered(StopEvent):
    n: int


class RoutesThreeKinds(Workflow):
    @step
    async def start(self, ev: StartEvent) -> Asked:
        return Asked(n=1)

    @step
    async def ask(self, ev: Asked) -> InputRequiredEvent:
        return InputRequiredEvent(prefix=str(ev.n))

    @step
    async def answer(self, ev: HumanResponseEvent) -> Answered:
        return Answered(n=int(ev.response))


async def test_later_runs_route_plain_stop_and_question_results_like_the_first() -> None:
    workflow = RoutesThreeKinds(timeout=1)
    for n in (1, 2):
        handler = workflow.run()
        async for event in handler.stream_events():
            if isinstance(event, InputRequiredEvent):
                handler.ctx.send_event(HumanResponseEvent(response=str(n)))
        assert (await handler).n == n
    assert workflow._step_table().plain_results == {Asked}


# A sync step's thread outliving its run cannot reach the next run


class Marker(Event):
    origin: str


class SyncSteps(Workflow):
    first_entered = threading.Event()
    release_first = threading.Event()
    first_wrote = threading.Event()
    second_entered = threading.Event()
    release_second = threading.Event()

    @step
    def work(self, ctx: Context, ev: StartEvent) -> StopEvent:
        cls = type(self)
        if ev.name == "first":
            cls.first_entered.set()
            cls.release_first.wait()
            try:
                ctx.write_event_to_stream(Marker(origin="first"))
            finally:
                cls.first_wrote.set()
        else:
            cls.second_entered.set()
            cls.release_second.wait()
        return StopEvent()


async def test_an_orphaned_sync_step_cannot_write_into_a_later_run() -> None:
    for flag in (
        "first_entered",
        "release_first",
        "first_wrote",
        "second_entered",
        "release_second",
    ):
        setattr(SyncSteps, flag, threading.Event())
    workflow = SyncSteps(timeout=None)
    ctx = Context(workflow)
    first = workflow.run(ctx=ctx, name="first")
    await asyncio.to_thread(SyncSteps.first_entered.wait)
    await first.cancel_run()  # resolves while the first run's thread still runs

    second = workflow.run(ctx=ctx, name="second")
    await asyncio.to_thread(SyncSteps.second_entered.wait)
    SyncSteps.release_first.set()
    await asyncio.to_thread(SyncSteps.first_wrote.wait)
    SyncSteps.release_second.set()
    events = [event async for event in second.stream_events()]
    await second
    assert [e.origin for e in events if isinstance(e, Marker)] == []


# A run can be saved while a @catch_error step handles a failure


class Recovers(Workflow):
    reached: ClassVar[asyncio.Event]
    gate: ClassVar[asyncio.Event]

    @step
    async def boom(self, ev: StartEvent) -> StopEvent:
        raise ValueError("boom")

    @catch_error
    async def recover(self, ev: StepFailedEvent) -> StopEvent:
        type(self).reached.set()
        await type(self).gate.wait()
        return StopEvent(result="recovered")


async def test_a_run_recovering_in_catch_error_can_be_saved() -> None:
    Recovers.reached, Recovers.gate = asyncio.Event(), asyncio.Event()
    handler = Recovers(timeout=None).run()
    await Recovers.reached.wait()
    try:
        saved = through_json(handler.ctx)
    finally:
        Recovers.gate.set()
        await handler
    assert [item["step"] for item in saved["run"]["in_progress"]] == ["recover"]


# Loading a bad saved event says where it was


async def test_a_bad_event_in_a_saved_run_is_named_by_where_it_was() -> None:
    first = ReturnsQuestion(timeout=None).run()
    saved = through_json(first.ctx)  # not started yet: the StartEvent is handed to 'ask'
    await first.cancel_run()
    assert saved["run"]["in_progress"][0]["step"] == "ask"
    saved["run"]["in_progress"][0]["event"] = JsonSerializer().serialize({"not": "an event"})
    with pytest.raises(ContextSerdeError) as raised:
        Context.from_dict(ReturnsQuestion(), saved)
    assert "'ask'" in str(raised.value)


# Answering a waiter leaves a step's returned question open


class TwoQuestions(Workflow):
    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent | Ask:
        ctx.send_event(Ask(n=0))
        return InputRequiredEvent(prefix="returned?")

    @step
    async def waits(self, ctx: Context, ev: Ask) -> StopEvent:
        await ctx.wait_for_event(
            HumanResponseEvent,
            waiter_event=InputRequiredEvent(prefix="waited?"),
            requirements={"to": "waits"},
        )
        await asyncio.Event().wait()  # stays running; the run is saved meanwhile
        return StopEvent()

    @step
    async def answered(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)


async def test_answering_a_waiter_keeps_the_returned_question_open() -> None:
    handler = TwoQuestions(timeout=None).run()
    prompts = []
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            prompts.append(event.prefix)
            if len(prompts) == 2:
                break
    assert sorted(prompts) == ["returned?", "waited?"]
    handler.ctx.send_event(HumanResponseEvent(response="w", to="waits"))
    saved = through_json(handler.ctx)
    await handler.cancel_run()
    open_questions = saved["run"]["stream"]["open_questions"]
    # "returned?" was never answered, yet the waiter's answer removed it.
    assert len(open_questions) == 1


# Nothing reaches a stream after its terminal event


class ChildNote(Event):
    text: str


class Child(Workflow):
    @step
    async def note(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.write_event_to_stream(ChildNote(text="late"))
        return StopEvent(result="child done")


class SpawnsLater(Workflow):
    gate: ClassVar[asyncio.Event]
    background: ClassVar[asyncio.Task[Any] | None] = None

    @step
    async def spawn(self, ev: StartEvent) -> StopEvent:
        async def later() -> Any:
            await type(self).gate.wait()
            return await Child(timeout=None).run(forward_events=True)

        # The task inherits the step's context, so the child names this run its parent.
        type(self).background = asyncio.create_task(later())
        return StopEvent(result="parent done")


async def test_nothing_reaches_a_stream_after_its_terminal_event() -> None:
    SpawnsLater.gate = asyncio.Event()
    handler = SpawnsLater(timeout=None).run()
    assert await handler == "parent done"
    SpawnsLater.gate.set()
    assert SpawnsLater.background is not None
    with pytest.raises(WorkflowRuntimeError, match="which has ended"):
        await SpawnsLater.background
    events = [event async for event in handler.stream_events()]
    assert isinstance(events[-1], StopEvent)
    assert events[-1].result == "parent done"


# A finished run releases its workflow, whatever its steps left scheduled


class LeavesATimer(Workflow):
    timers: ClassVar[list[asyncio.TimerHandle]] = []

    @step
    async def begin(self, ev: StartEvent) -> Ask:
        # The timer's callback keeps a copy of the step's context variables.
        type(self).timers.append(asyncio.get_running_loop().call_later(3600, print))
        return Ask(n=1)

    @step
    async def finish(self, ev: Ask) -> StopEvent:
        type(self).timers.append(asyncio.get_running_loop().call_later(3600, print))
        return StopEvent(result=ev.n)


def collected(workflow_ref: weakref.ref[Workflow]) -> bool:
    gc.collect()
    return workflow_ref() is None


async def run_in_own_task(workflow: Workflow) -> Any:
    """The run's result, awaited by a task of its own: the callback that wakes the task
    awaiting a handler holds the handler until that task's step ends."""

    async def result(handler: WorkflowHandler) -> Any:
        return await handler

    return await asyncio.create_task(result(workflow.run()))


async def test_a_finished_run_releases_its_workflow_although_a_step_left_a_timer() -> None:
    workflow = LeavesATimer()
    try:
        assert await run_in_own_task(workflow) == 1
        workflow_ref = weakref.ref(workflow)
        del workflow
        assert collected(workflow_ref)
    finally:
        for timer in LeavesATimer.timers:
            timer.cancel()
        LeavesATimer.timers.clear()


async def test_a_finished_run_releases_its_workflow_after_a_sync_step() -> None:
    class SyncOnly(Workflow):
        @step
        def only(self, ctx: Context, ev: StartEvent) -> StopEvent:
            return StopEvent(result=ctx.current_step)

    workflow = SyncOnly()
    assert await run_in_own_task(workflow) == "only"
    workflow_ref = weakref.ref(workflow)
    del workflow
    assert collected(workflow_ref)


class WaitsForAnswer(Workflow):
    @step
    async def begin(self, ev: StartEvent) -> None:
        return None

    @step
    async def on_answer(self, ev: Answer) -> StopEvent:
        return StopEvent(result=ev.n)


class LeavesATask(Workflow):
    gate: ClassVar[asyncio.Event]
    other: ClassVar[Context]
    background: ClassVar[asyncio.Task[None] | None] = None

    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> StopEvent | None:
        if not ev.get("first"):
            return None  # the second run waits for an Ask

        async def later() -> None:
            await type(self).gate.wait()
            ctx.write_event_to_stream(Marker(origin="late"))
            ctx.send_event(Ask(n=1))
            type(self).other.send_event(Answer(n=7))

        type(self).background = asyncio.create_task(later())
        return StopEvent(result="first done")

    @step
    async def on_ask(self, ev: Ask) -> StopEvent:
        return StopEvent(result=f"ask {ev.n}")


async def test_a_task_outliving_its_run_reaches_other_runs_but_not_its_contexts_next_one() -> None:
    LeavesATask.gate = asyncio.Event()
    other = WaitsForAnswer(timeout=None, disable_validation=True)
    LeavesATask.other = Context(other)
    other_handler = other.run(ctx=LeavesATask.other)
    workflow = LeavesATask(timeout=None, disable_validation=True)
    ctx = Context(workflow)
    assert await workflow.run(ctx=ctx, first=True) == "first done"

    second = workflow.run(ctx=ctx)
    LeavesATask.gate.set()
    assert LeavesATask.background is not None
    await LeavesATask.background
    # The task's context names its own run, which has ended: nothing reaches the next one.
    second.ctx.send_event(Ask(n=2))
    events = [event async for event in second.stream_events()]
    assert await second == "ask 2"
    assert not [event for event in events if isinstance(event, Marker)]
    # Another workflow's context is not the task's own: the answer reaches its run.
    assert await other_handler == 7


class LeavesAWaitingTask(Workflow):
    gate: ClassVar[asyncio.Event]
    waited: ClassVar[asyncio.Future[Event]]

    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> StopEvent | None:
        if not ev.get("first"):
            return None  # the second run waits for an Answer

        async def later() -> None:
            await type(self).gate.wait()
            try:
                type(self).waited.set_result(await ctx.wait_for_event(Answer, timeout=None))
            except Exception as error:  # what the task was told, examined by the test
                type(self).waited.set_exception(error)

        asyncio.get_running_loop().create_task(later())
        return StopEvent(result="first done")

    @step
    async def on_answer(self, ev: Answer) -> StopEvent:
        return StopEvent(result=f"answer {ev.n}")


async def test_a_task_outliving_its_run_cannot_wait_in_its_contexts_next_one() -> None:
    LeavesAWaitingTask.gate = asyncio.Event()
    LeavesAWaitingTask.waited = asyncio.get_running_loop().create_future()
    workflow = LeavesAWaitingTask(timeout=None, disable_validation=True)
    ctx = Context(workflow)
    assert await workflow.run(ctx=ctx, first=True) == "first done"

    second = workflow.run(ctx=ctx)
    LeavesAWaitingTask.gate.set()
    # Before, the task's waiter joined the second run (to take the answer meant for it).
    with pytest.raises(ContextStateError, match=r"step 'begin' of a LeavesAWaitingTask run"):
        await asyncio.wait_for(LeavesAWaitingTask.waited, 10)
    second.ctx.send_event(Answer(n=3))
    assert await asyncio.wait_for(second, 10) == "answer 3"


# Something that is not an event is refused, from a step or from outside


class SendsNotAnEvent(Workflow):
    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> StopEvent:
        for operation in (ctx.send_event, ctx.write_event_to_stream):
            try:
                operation({"not": "an event"})  # type: ignore[arg-type]
            except TypeError as error:
                ctx.write_event_to_stream(Marker(origin=str(error)))
        return StopEvent(result="done")


async def test_a_step_sending_or_streaming_something_not_an_event_gets_a_type_error() -> None:
    handler = SendsNotAnEvent().run()
    markers = [event.origin async for event in handler.stream_events() if isinstance(event, Marker)]
    assert await handler == "done"
    assert markers == [
        "send_event() takes an Event, got dict",
        "write_event_to_stream() takes an Event, got dict",
    ]


async def test_sending_something_not_an_event_from_outside_is_refused_too() -> None:
    handler = WaitsForAnswer(timeout=None, disable_validation=True).run()
    with pytest.raises(TypeError, match="send_event\\(\\) takes an Event, got str"):
        handler.ctx.send_event("answer")  # type: ignore[arg-type]
    handler.ctx.send_event(Answer(n=1))
    assert await handler == 1
