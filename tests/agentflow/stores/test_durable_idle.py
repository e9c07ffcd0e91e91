"""A durable run with nothing left to do that can still be fed from outside (the classic
LlamaIndex human in the loop: a step returns an InputRequiredEvent, another step takes the
HumanResponseEvent) is `waiting` in the store, in every durability mode, from before its
question reaches the stream until the answer arrives; in `"exit"` it is checkpointed then,
so that it can be answered after its process is gone. A run idle with events nobody can
take still fails as stalled, never `waiting`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from watched_store import WatchedStore

from agentflow import Context, Workflow, step
from agentflow.errors import StoreWriteError, WorkflowStalledError
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
    """`prepare` returns the question; `greet` takes the answer, once `release` is set."""

    def __init__(self, store: RunStore, durability: Any) -> None:
        super().__init__(store=store, timeout=None, durability=durability)
        self.prepared = 0
        self.greeting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done once `greet` has the answer."""
        self.release = asyncio.Event()

    @step
    async def prepare(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent:
        self.prepared += 1
        await ctx.store.set("greeting", "hello")
        return InputRequiredEvent(prefix="name?")

    @step
    async def greet(self, ctx: Context, ev: HumanResponseEvent) -> StopEvent:
        self.greeting.set_result(None)
        await self.release.wait()
        return StopEvent(result=f"{await ctx.store.get('greeting')} {ev.response}")


async def until_asked(handler: WorkflowHandler) -> InputRequiredEvent:
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            return event
    raise AssertionError("the run ended without asking")


async def waiting_runs(store: RunStore) -> list[str]:
    return [info.run_id async for info in store.list_runs(status="waiting")]


def statuses(watched: WatchedStore) -> list[str]:
    return [status for _, status, _ in watched.writes if status is not None]


@pytest.mark.parametrize("durability", MODES)
async def test_a_run_idle_after_returning_a_question_waits_until_it_is_answered(
    store: RunStore, durability: str
) -> None:
    watched = WatchedStore(store)
    flow = AsksByReturning(watched, durability)
    handler = flow.run(run_id="ask")
    await until_asked(handler)
    # Listed as waiting by the time its question reached the stream.
    assert await waiting_runs(store) == ["ask"]
    handler.ctx.send_event(HumanResponseEvent(response="Ada"))
    await flow.greeting
    if durability == "sync":
        # The answer was journalled, with the run running again, before it was routed.
        info = await store.get_run("ask")
        assert info is not None
        assert info.status == "running"
    flow.release.set()
    assert await handler == "hello Ada"
    assert statuses(watched) == ["waiting", "running", "completed"]
    assert await waiting_runs(store) == []


async def test_exit_mode_checkpoints_a_run_idle_after_its_question_which_resumes_elsewhere(
    store: RunStore,
) -> None:
    watched = WatchedStore(store)
    first = AsksByReturning(watched, "exit")
    handler = first.run(run_id="ask")
    await until_asked(handler)
    stored = await store.load("ask")
    assert stored.info.status == "waiting"
    assert stored.checkpoint is not None
    assert stored.records == []  # nothing per step
    watched.gone = True  # the process dies while the run waits
    await handler.cancel_run()
    with pytest.raises(StoreWriteError, match="the process is gone"):
        await handler

    watched_again = WatchedStore(store)
    again = AsksByReturning(watched_again, "exit")
    resumed = await again.resume("ask")
    await watched_again.until_status("waiting")  # nothing to run: it waits for the answer
    assert await waiting_runs(store) == ["ask"]
    resumed.ctx.send_event(HumanResponseEvent(response="Ada"))
    again.release.set()
    assert await resumed == "hello Ada"  # the state `prepare` left came with the checkpoint
    assert (first.prepared, again.prepared) == (1, 0)


class Job(Event):
    pass


class AsksWhileWorking(Workflow):
    """`begin` starts `work`, which goes on until `release` is set, and returns the
    question, which `finish` takes the answer to."""

    def __init__(self, store: RunStore, durability: Any) -> None:
        super().__init__(store=store, timeout=None, durability=durability)
        self.release = asyncio.Event()

    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent | Job:
        ctx.send_event(Job())
        return InputRequiredEvent(prefix="name?")

    @step
    async def work(self, ev: Job) -> None:
        await self.release.wait()

    @step
    async def finish(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)


@pytest.mark.parametrize("durability", MODES)
async def test_a_run_with_its_question_out_waits_once_its_other_steps_are_done(
    store: RunStore, durability: str
) -> None:
    watched = WatchedStore(store)
    flow = AsksWhileWorking(watched, durability)
    handler = flow.run(run_id="ask")
    await until_asked(handler)
    assert await waiting_runs(store) == []  # `work` runs on
    flow.release.set()
    await watched.until_status("waiting")
    assert await waiting_runs(store) == ["ask"]
    handler.ctx.send_event(HumanResponseEvent(response="Ada"))
    assert await handler == "Ada"
    assert statuses(watched) == ["waiting", "running", "completed"]


class FedByCallers(Workflow):
    @step
    async def begin(self, ev: StartEvent) -> None:
        return None

    @step(skip_graph_checks=["reachability"])
    async def take(self, ev: Job) -> StopEvent:
        return StopEvent(result="fed")


@pytest.mark.parametrize("durability", MODES)
async def test_a_run_idle_until_its_callers_send_an_event_is_waiting(
    store: RunStore, durability: str
) -> None:
    watched = WatchedStore(store)
    handler = FedByCallers(store=watched, timeout=None, durability=durability).run(run_id="fed")
    await watched.until_status("waiting")
    assert await waiting_runs(store) == ["fed"]
    handler.ctx.send_event(Job())
    assert await handler == "fed"
    assert statuses(watched) == ["waiting", "running", "completed"]


class Stray(Event):
    pass


class SendsWhatNobodyTakes(Workflow):
    @step
    async def send(self, ctx: Context, ev: StartEvent) -> StopEvent | None:
        ctx.send_event(Stray())
        return None


@pytest.mark.parametrize("durability", MODES)
async def test_a_run_idle_with_events_nobody_can_take_fails_as_stalled_not_waiting(
    store: RunStore, durability: str
) -> None:
    watched = WatchedStore(store)
    flow = SendsWhatNobodyTakes(store=watched, timeout=None, durability=durability)
    with pytest.raises(WorkflowStalledError, match="Stray"):
        await flow.run(run_id="stuck")
    assert statuses(watched) == ["failed"]
    info = await store.get_run("stuck")
    assert info is not None
    assert info.status == "failed"
