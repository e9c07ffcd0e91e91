"""A durable run that waits for nothing but events from outside can be suspended: it stops
in this process, unfinished in its store with every record written, and a later
`resume` (here, or in another process) goes on with it once it is answered. This is how a
runner releases the memory of a run waiting for a human (`agentflow.runners.dbos`).

A run that only looks waiting is not suspended: a step still running, or a wait answered
whose step has not resumed yet, keeps it here."""

from __future__ import annotations

import asyncio

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import RunSuspendedError, WorkflowRuntimeError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)
from agentflow.handler import WorkflowHandler
from agentflow.stores.base import RunStore

MODES = ["sync", "async", "exit"]


class AsksByReturning(Workflow):
    """`prepare` returns the question; `greet` takes the answer."""

    def __init__(self, store: RunStore, durability: str = "sync") -> None:
        super().__init__(store=store, timeout=None, durability=durability)  # type: ignore[arg-type]
        self.prepared = 0

    @step
    async def prepare(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent:
        self.prepared += 1
        await ctx.store.set("greeting", "hello")
        return InputRequiredEvent(prefix="name?")

    @step
    async def greet(self, ctx: Context, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=f"{await ctx.store.get('greeting')} {ev.response}")


class AsksInAWait(Workflow):
    """One step counts, then waits for the answer in `ctx.wait_for_event`."""

    def __init__(self, store: RunStore) -> None:
        super().__init__(store=store, timeout=None)
        self.before_wait = 0
        self.answered: asyncio.Event = asyncio.Event()
        self.go_on: asyncio.Event = asyncio.Event()
        self.go_on.set()

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        self.before_wait += 1
        count = await ctx.once("count", lambda: self.before_wait)
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        self.answered.set()
        await self.go_on.wait()
        return StopEvent(result=f"{answer.response} after {count}")


async def until_parked(handler: WorkflowHandler) -> None:
    """Try to suspend at each status change, as a runner does."""
    while not handler.suspend_if_waiting():
        assert not handler.done(), "the run ended before it waited"
        await asyncio.wait([handler, handler.status_changed()], return_when="FIRST_COMPLETED")


async def suspended(handler: WorkflowHandler) -> None:
    with pytest.raises(RunSuspendedError, match="suspended while it waited"):
        await handler


@pytest.mark.parametrize("durability", MODES)
async def test_a_run_suspended_after_returning_a_question_resumes_when_answered(
    store: RunStore, durability: str
) -> None:
    first = AsksByReturning(store, durability)
    handler = first.run(run_id="ask")
    await until_parked(handler)
    await suspended(handler)
    info = await store.get_run("ask")
    assert info is not None
    assert info.status == "waiting"

    later = AsksByReturning(store, durability)
    resumed = await later.resume("ask")
    assert await resumed.send_event_confirmed(HumanResponseEvent(response="Ada"))
    assert await resumed == "hello Ada"
    assert (first.prepared, later.prepared) == (1, 0)
    info = await store.get_run("ask")
    assert info is not None
    assert info.status == "completed"


async def test_an_answer_journalled_before_the_suspension_is_taken_on_resume(
    store: RunStore,
) -> None:
    first = AsksInAWait(store)
    handler = first.run(run_id="wait")
    await until_parked(handler)
    await suspended(handler)
    # Parked only once its question was out: whoever answers has seen it.
    asked = await store.read_stream("wait")
    assert ['"prefix": "name?"' in entry.data for entry in asked] == [True]

    later = AsksInAWait(store)
    resumed = await later.resume("wait")
    # The wait re-runs (its step had not completed), with what it had recorded.
    await resumed.send_event_confirmed(HumanResponseEvent(response="Ada"))
    assert await resumed == "Ada after 1"
    assert later.before_wait == 1  # re-run to its wait, its `once` given back


async def test_a_wait_answered_but_not_resumed_yet_is_not_suspended(store: RunStore) -> None:
    flow = AsksInAWait(store)
    flow.go_on.clear()
    handler = flow.run(run_id="busy")
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    await handler.send_event_confirmed(HumanResponseEvent(response="Ada"))
    # The answer reached the wait; the step has not resumed in this loop turn.
    assert handler.suspend_if_waiting() is False
    await flow.answered.wait()
    assert handler.suspend_if_waiting() is False  # running again
    flow.go_on.set()
    assert await handler == "Ada after 1"


async def test_a_run_with_a_step_running_is_not_suspended(store: RunStore) -> None:
    class Slow(Workflow):
        release: asyncio.Event

        @step
        async def work(self, ctx: Context, ev: StartEvent) -> StopEvent:
            await self.release.wait()
            return StopEvent(result="done")

    flow = Slow(store=store, timeout=None)
    flow.release = asyncio.Event()
    handler = flow.run(run_id="slow")
    assert await handler.stored()
    assert handler.suspend_if_waiting() is False
    flow.release.set()
    assert await handler == "done"
    assert handler.suspend_if_waiting() is False  # ended


async def test_a_run_in_memory_has_no_stored_status() -> None:
    class Quick(Workflow):
        @step
        async def work(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result=1)

    handler = Quick().run()
    assert handler.suspend_if_waiting() is False
    with pytest.raises(WorkflowRuntimeError, match="not durable"):
        handler.status_changed()
    assert await handler == 1


@pytest.mark.parametrize("durability", MODES)
async def test_a_running_run_suspended_re_runs_its_step_in_flight_on_resume(
    store: RunStore, durability: str
) -> None:
    class TwoSteps(Workflow):
        def __init__(self) -> None:
            super().__init__(store=store, timeout=None, durability=durability)  # type: ignore[arg-type]
            self.calls: list[str] = []
            self.entered = asyncio.Event()
            self.release = asyncio.Event()

        @step
        async def one(self, ev: StartEvent) -> Middle:
            self.calls.append("one")
            return Middle()

        @step
        async def two(self, ev: Middle) -> StopEvent:
            self.calls.append("two")
            self.entered.set()
            await self.release.wait()
            return StopEvent(result="done")

    first = TwoSteps()
    handler = first.run(run_id=f"busy-{durability}")
    await first.entered.wait()
    assert handler.suspend() is True
    await suspended(handler)
    assert handler.suspend() is False  # over here
    info = await store.get_run(f"busy-{durability}")
    assert info is not None
    assert info.status == "running"

    later = TwoSteps()
    later.release.set()
    # Also in "exit", which writes nothing per step: the suspension keeps what it did.
    assert await (await later.resume(f"busy-{durability}")) == "done"
    assert (first.calls, later.calls) == (["one", "two"], ["two"])


class Middle(Event):
    pass


async def test_a_run_with_a_timeout_of_its_own_is_never_parked(store: RunStore) -> None:
    flow = AsksByReturning(store)
    flow.timeout = 600
    handler = flow.run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    await until_status_noted(handler)
    assert handler.suspend_if_waiting() is False
    await handler.send_event_confirmed(HumanResponseEvent(response="x"))
    assert await handler == "hello x"


async def test_a_parked_waits_timeout_counts_from_its_first_start(store: RunStore) -> None:
    class TimedWait(Workflow):
        @step
        async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
            answer = await ctx.wait_for_event(
                HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="?"), timeout=600
            )
            return StopEvent(result=answer.response)

    handler = TimedWait(store=store, timeout=None).run(run_id="timed")
    await until_parked(handler)
    deadline = handler.wait_deadline()
    await suspended(handler)
    assert deadline is not None

    resumed = await TimedWait(store=store, timeout=None).resume("timed")
    await until_parked(resumed)
    assert resumed.wait_deadline() == deadline  # the same journalled start, not a new one
    await suspended(resumed)

    again = await TimedWait(store=store, timeout=None).resume("timed")
    await again.send_event_confirmed(HumanResponseEvent(response="in time"))
    assert await again == "in time"


async def until_status_noted(handler: WorkflowHandler) -> None:
    """Until the run's status has been noted once more (its question is out by then)."""
    await asyncio.wait([handler, handler.status_changed()], return_when="FIRST_COMPLETED")
