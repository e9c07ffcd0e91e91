"""Context: state across runs, send_event, collect_events, wait_for_event, human input."""

from __future__ import annotations

import asyncio
import re

import pytest
from pydantic import BaseModel

from agentflow import Context, Workflow, step
from agentflow.errors import (
    ContextStateError,
    WorkflowRuntimeError,
    WorkflowStepDoesNotExistError,
    WorkflowTimeoutError,
)
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
    WorkflowFailedEvent,
)


class Counter(BaseModel):
    runs: int = 0
    seen: list[str] = []


class CountingWorkflow(Workflow):
    @step
    async def count(self, ctx: Context[Counter], ev: StartEvent) -> StopEvent:
        async with ctx.store.edit_state() as state:
            state.runs += 1
            state.seen.append(ev.tag)
        return StopEvent(result=(await ctx.store.get_state()).runs)


async def test_state_survives_between_runs_sharing_a_context() -> None:
    workflow = CountingWorkflow()
    ctx = Context(workflow)
    assert [await workflow.run(ctx=ctx, tag=t) for t in "abc"] == [1, 2, 3]
    assert await ctx.store.get("seen") == ["a", "b", "c"]


async def test_each_run_without_a_context_starts_from_fresh_state() -> None:
    workflow = CountingWorkflow()
    assert [await workflow.run(tag=t) for t in "ab"] == [1, 1]


async def test_is_running_follows_the_run() -> None:
    workflow = AskingWorkflow()
    ctx = Context(workflow)
    assert not ctx.is_running
    handler = workflow.run(ctx=ctx)
    assert ctx.is_running
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            ctx.send_event(HumanResponseEvent(response="x"))
    await handler
    assert not ctx.is_running


async def test_event_operations_outside_a_run_raise_context_state_error() -> None:
    ctx = Context(CountingWorkflow())
    with pytest.raises(ContextStateError, match="send_event"):
        ctx.send_event(StartEvent())
    with pytest.raises(ContextStateError, match="write_event_to_stream"):
        ctx.write_event_to_stream(StartEvent())
    with pytest.raises(ContextStateError, match="collect_events"):
        ctx.collect_events(StartEvent(), [StartEvent])


class Query(Event):
    text: str


class Retrieved(Event):
    docs: list[str]


class Answer(Event):
    by: str


class BranchingWorkflow(Workflow):
    """Sends a Query and a Retrieved, and a third event to one named step only."""

    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Query | Retrieved | Answer | None:
        ctx.send_event(Retrieved(docs=["d1"]))
        ctx.send_event(Query(text="q"))
        ctx.send_event(Answer(by="direct"), step="synthesize")
        return None

    @step
    async def synthesize(self, ctx: Context, ev: Query | Retrieved | Answer) -> StopEvent | None:
        if isinstance(ev, Answer):
            ctx.write_event_to_stream(ev)
            return None
        ready = ctx.collect_events(ev, [Query, Retrieved])
        if ready is None:
            return None
        query, retrieved = ready
        return StopEvent(result=(query.text, retrieved.docs))  # type: ignore[attr-defined]

    @step
    async def other(self, ev: Answer) -> StopEvent:
        raise AssertionError("an event sent to one step reached another")


async def test_collect_events_returns_events_in_the_listed_order_once_all_arrived() -> None:
    handler = BranchingWorkflow().run()
    streamed = [event async for event in handler.stream_events()]
    assert await handler == ("q", ["d1"])
    assert [type(e) for e in streamed] == [Answer, StopEvent]


class Part(Event):
    index: int


class FanInWorkflow(Workflow):
    @step
    async def split(self, ctx: Context, ev: StartEvent) -> Part | None:
        for index in range(ev.parts):
            ctx.send_event(Part(index=index))
        return None

    @step
    async def join(self, ctx: Context, ev: Part) -> StopEvent | None:
        results = ctx.collect_events(ev, Part, count=ev_count(ctx))
        if results is None:
            return None
        return StopEvent(result=[p.index for p in results])  # type: ignore[attr-defined]


def ev_count(ctx: Context) -> int:
    return 50


async def test_collect_events_with_count_waits_for_that_many_of_one_type() -> None:
    result = await FanInWorkflow().run(parts=50)
    assert sorted(result) == list(range(50))


async def test_collect_events_never_completes_with_too_few_events() -> None:
    with pytest.raises(WorkflowTimeoutError):
        await FanInWorkflow(timeout=0.2).run(parts=49)


class BadCollectWorkflow(Workflow):
    @step
    async def start(self, ctx: Context, ev: StartEvent) -> StopEvent:
        if ev.mode == "list-with-count":
            ctx.collect_events(ev, [StartEvent], count=2)  # type: ignore[call-overload]
        else:
            ctx.collect_events(ev, StartEvent, count=0)
        return StopEvent()


async def test_collect_events_rejects_count_with_a_list_and_a_non_positive_count() -> None:
    with pytest.raises(TypeError, match="single event type"):
        await BadCollectWorkflow().run(mode="list-with-count")
    with pytest.raises(ValueError, match="positive"):
        await BadCollectWorkflow().run(mode="zero")


class SharedBufferWorkflow(Workflow):
    """Two steps feed one buffer through `buffer_id`; either may complete it."""

    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Query | Retrieved | None:
        ctx.send_event(Query(text="q"))
        ctx.send_event(Retrieved(docs=[]))
        return None

    @step
    async def on_query(self, ctx: Context, ev: Query) -> StopEvent | None:
        ready = ctx.collect_events(ev, [Query, Retrieved], buffer_id="pair")
        return None if ready is None else StopEvent(result="query completed")

    @step
    async def on_retrieved(self, ctx: Context, ev: Retrieved) -> StopEvent | None:
        ready = ctx.collect_events(ev, [Query, Retrieved], buffer_id="pair")
        return None if ready is None else StopEvent(result="retrieved completed")


async def test_collect_events_buffer_id_shares_a_buffer_between_steps() -> None:
    assert await SharedBufferWorkflow().run() == "retrieved completed"


class TargetingWorkflow(Workflow):
    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Query | None:
        ctx.send_event(Query(text="x"), step=ev.target)
        return None

    @step
    async def handle(self, ev: Query) -> StopEvent:
        return StopEvent(result=ev.text)


async def test_send_event_to_an_unknown_step_names_the_step_and_the_steps() -> None:
    with pytest.raises(WorkflowStepDoesNotExistError, match=r"no step 'nope'.*handle") as raised:
        await TargetingWorkflow().run(target="nope")
    assert str(raised.value).endswith(". Step nope does not exist")  # LlamaIndex's sentence


async def test_send_event_to_a_step_that_does_not_accept_it_names_both() -> None:
    with pytest.raises(WorkflowRuntimeError, match="step 'start' does not accept Query") as raised:
        await TargetingWorkflow().run(target="start")
    assert f"Step start does not accept event of type {Query}" in str(raised.value)


async def test_send_event_rejects_what_is_not_an_event() -> None:
    handler = AskingWorkflow().run()
    with pytest.raises(TypeError, match="dict"):
        handler.ctx.send_event({"response": "x"})  # type: ignore[arg-type]
    await handler.cancel_run()


class AskingWorkflow(Workflow):
    """The documented human-in-the-loop shape: one step asks, another takes the answer."""

    @step
    async def ask(self, ev: StartEvent) -> InputRequiredEvent:
        return InputRequiredEvent(prefix="Your name? ")

    @step
    async def greet(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=f"hi {ev.response}")


async def test_input_required_appears_on_the_stream_and_the_answer_resumes_the_run() -> None:
    handler = AskingWorkflow().run()
    prompts = []
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            prompts.append(event.prefix)
            handler.ctx.send_event(HumanResponseEvent(response="ada"))
    assert prompts == ["Your name? "]
    assert await handler == "hi ada"


class Approval(HumanResponseEvent):
    request_id: str
    approved: bool


class SuspendingWorkflow(Workflow):
    """Does a side effect, then waits mid-step for two approvals with requirements."""

    side_effects = 0

    @step
    async def review(self, ctx: Context, ev: StartEvent) -> StopEvent:
        type(self).side_effects += 1
        first = await ctx.wait_for_event(
            Approval,
            waiter_event=InputRequiredEvent(prefix="approve a?", request_id="a"),
            requirements={"request_id": "a"},
        )
        second = await ctx.wait_for_event(
            Approval,
            waiter_event=InputRequiredEvent(prefix="approve b?", request_id="b"),
            requirements={"request_id": "b"},
        )
        return StopEvent(result=(first.approved, second.approved, type(self).side_effects))


async def test_wait_for_event_suspends_in_place_and_honours_requirements() -> None:
    SuspendingWorkflow.side_effects = 0
    handler = SuspendingWorkflow().run()
    asked = []
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            asked.append(event.request_id)
            if event.request_id == "a":
                # An approval for "b" first: it must not satisfy the waiter for "a".
                handler.ctx.send_event(Approval(request_id="b", approved=False))
                handler.ctx.send_event(Approval(request_id="a", approved=True))
    # The answer for "b" came before its question: the step takes it without asking.
    assert asked == ["a"]
    assert await handler == (True, False, 1)


class ImpatientWorkflow(Workflow):
    @step
    async def wait(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.wait_for_event(HumanResponseEvent, timeout=0.01)
        return StopEvent()


async def test_wait_for_event_timeout_fails_the_step_naming_it_and_the_event() -> None:
    handler = ImpatientWorkflow().run()
    events = [event async for event in handler.stream_events()]
    assert isinstance(events[-1], WorkflowFailedEvent)
    expected = "step 'wait' waited 0.01s for HumanResponseEvent"
    with pytest.raises(WorkflowTimeoutError, match=re.escape(expected)) as raised:
        await handler
    # LlamaIndex Workflows raises asyncio.TimeoutError there, with this sentence.
    assert isinstance(raised.value, asyncio.TimeoutError)
    assert str(raised.value).startswith("Timed out waiting for HumanResponseEvent: ")


class PatientStepWorkflow(Workflow):
    @step(timeout=30)
    async def wait(self, ctx: Context, ev: StartEvent) -> StopEvent:
        try:
            await ctx.wait_for_event(HumanResponseEvent, timeout=0.01)
        except TimeoutError as error:  # what asyncio.TimeoutError is since Python 3.11
            return StopEvent(result=type(error).__name__)
        return StopEvent(result="answered")


async def test_a_step_catches_its_wait_s_timeout_as_asyncio_timeout_error() -> None:
    # Inside a step that has a timeout of its own, the wait's is still the step's to catch.
    assert await PatientStepWorkflow().run() == "WaitForEventTimeoutError"


class DuplicateWaiterWorkflow(Workflow):
    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Query | None:
        ctx.send_event(Query(text="1"))
        ctx.send_event(Query(text="2"))
        return None

    @step
    async def wait(self, ctx: Context, ev: Query) -> StopEvent:
        await ctx.wait_for_event(HumanResponseEvent, waiter_id="same")
        return StopEvent()


async def test_two_waiters_with_one_waiter_id_are_refused() -> None:
    with pytest.raises(WorkflowRuntimeError, match="waiter_id 'same'"):
        await DuplicateWaiterWorkflow().run()


async def test_an_answer_sent_before_anyone_waits_is_kept_for_the_waiter() -> None:
    handler = ImpatientWorkflow(timeout=5).run()
    handler.ctx.send_event(HumanResponseEvent(response="early"))
    assert await handler is None


async def test_concurrent_edits_from_parallel_steps_are_serialised() -> None:
    assert await ParallelEditsWorkflow().run() == 40


class Bump(Event):
    pass


class ParallelEditsWorkflow(Workflow):
    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Bump | None:
        for _ in range(40):
            ctx.send_event(Bump())
        return None

    @step(num_workers=8)
    async def bump(self, ctx: Context[Counter], ev: Bump) -> StopEvent | None:
        async with ctx.store.edit_state() as state:
            before = state.runs
            await asyncio.sleep(0)
            state.runs = before + 1
            done = state.runs == 40
        return StopEvent(result=state.runs) if done else None


class StepNames(Workflow):
    @step
    async def first(self, ctx: Context, ev: StartEvent) -> Query:
        return Query(text=str(ctx.current_step))

    @step
    async def second(self, ctx: Context, ev: Query) -> StopEvent:
        return StopEvent(result=(ev.text, ctx.current_step))


async def test_current_step_names_the_calling_step_and_is_none_outside() -> None:
    workflow = StepNames()
    ctx = Context(workflow)
    assert ctx.current_step is None
    assert await workflow.run(ctx=ctx) == ("first", "second")


class AsksFromInside(Workflow):
    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        refused = []
        try:
            await ctx.running_steps()
        except ContextStateError as error:
            refused.append(str(error))
        try:
            ctx.stream_events()
        except ContextStateError as error:
            refused.append(str(error))
        return StopEvent(result=refused)


async def test_running_steps_and_stream_events_are_refused_inside_a_step() -> None:
    running, streaming = await AsksFromInside().run()
    assert "ctx.running_steps()" in running
    assert "inside a step" in running
    assert "ctx.stream_events()" in streaming


async def test_running_steps_and_stream_events_are_refused_before_a_run() -> None:
    ctx: Context = Context(AsksFromInside())
    with pytest.raises(ContextStateError, match="running_steps"):
        await ctx.running_steps()
    with pytest.raises(ContextStateError, match="stream_events"):
        ctx.stream_events()


class SyncStepContext(Workflow):
    @step
    def sync_step(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=Context.get_step_context())


async def test_get_step_context_in_a_sync_step_is_the_runs_context() -> None:
    handler = SyncStepContext().run()
    assert await handler is handler.ctx


class LeavesATask(Workflow):
    def __init__(self) -> None:
        super().__init__()
        self.left: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @step
    async def leave(self, ev: StartEvent) -> StopEvent:
        self.task = asyncio.get_running_loop().create_task(self.later())
        return StopEvent()

    async def later(self) -> None:
        await self.left
        Context.get_step_context()


async def test_get_step_context_in_a_task_a_step_of_an_ended_run_left_names_the_step() -> None:
    flow = LeavesATask()
    await flow.run()
    flow.left.set_result(None)
    with pytest.raises(WorkflowRuntimeError, match="step 'leave' of a LeavesATask run that has"):
        await flow.task
