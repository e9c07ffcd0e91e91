"""Durable runs in one process: what a run leaves in its store, the errors of resume, a
failed write failing the run, and storage bounded by checkpoints. (Runs killed and resumed
in other processes: test_durable_kill.py.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import (
    RunExistsError,
    RunFinishedError,
    RunNotFoundError,
    RunVersionError,
    StoreError,
    WorkflowRuntimeError,
)
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)
from agentflow.stores import SqliteStore
from agentflow.stores.base import RunStore


class Count(Event):
    n: int


class Counter(Workflow):
    """Counts to `until` one step at a time, streaming each number."""

    @step
    async def begin(self, ev: StartEvent) -> Count:
        return Count(n=0)

    @step
    async def count(self, ctx: Context, ev: Count) -> Count | StopEvent:
        ctx.write_event_to_stream(ev)
        if ev.n == ctx_until(ctx):
            return StopEvent(result={"counted": ev.n})
        return Count(n=ev.n + 1)


def ctx_until(ctx: Context) -> int:
    workflow = ctx.workflow
    assert isinstance(workflow, Counter)
    return workflow.until


class Fails(Workflow):
    @step
    async def boom(self, ev: StartEvent) -> StopEvent:
        raise RuntimeError("the card was declined")


class LosesItsStore(Workflow):
    """Closes its own store from a step: the step's completion can no longer be written."""

    @step
    async def close_the_store(self, ev: StartEvent) -> StopEvent:
        assert self.store is not None
        await self.store.close()
        return StopEvent(result="unreachable")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[RunStore]:
    async with SqliteStore(tmp_path / "runs.db") as opened:
        yield opened


def counter(store: RunStore, until: int, **options: int) -> Counter:
    workflow = Counter(store=store, timeout=None, **options)  # type: ignore[arg-type]
    workflow.until = until  # type: ignore[attr-defined]
    return workflow


async def test_a_completed_run_is_in_the_store_with_its_result(store: RunStore) -> None:
    handler = counter(store, 3).run(run_id="order-42")
    assert handler.run_id == "order-42"
    streamed = [event.n async for event in handler.stream_events() if isinstance(event, Count)]
    assert streamed == [0, 1, 2, 3]
    assert await handler == {"counted": 3}
    info = await store.get_run("order-42")
    assert info is not None
    assert info.status == "completed"
    assert info.workflow.endswith(":Counter")
    assert json.loads(info.result or "")["result"] is not None
    records = (await store.load("order-42")).records
    assert [record.key for record in records if record.kind == "execution"] == [
        "begin@0",
        "count@1",
        "count@2",
        "count@3",
        "count@4",
    ]


async def test_a_run_id_is_unique_in_the_store(store: RunStore) -> None:
    assert await counter(store, 1).run(run_id="once") == {"counted": 1}
    with pytest.raises(RunExistsError, match="'once'"):
        await counter(store, 1).run(run_id="once")


async def test_a_failed_step_fails_the_run_in_the_store(store: RunStore) -> None:
    with pytest.raises(RuntimeError, match="declined"):
        await Fails(store=store).run(run_id="f")
    info = await store.get_run("f")
    assert info is not None
    assert info.status == "failed"
    assert json.loads(info.result or "")["error"] == {
        "type": "RuntimeError",
        "message": "the card was declined",
    }


async def test_a_run_that_cannot_write_fails_with_the_stores_error(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "runs.db")
    with pytest.raises(StoreError, match="closed") as raised:
        await LosesItsStore(store=store).run(run_id="lost")
    assert any("durable run 'lost'" in note for note in raised.value.__notes__)


async def test_resume_names_what_it_cannot_resume(store: RunStore) -> None:
    with pytest.raises(RunNotFoundError, match="'nope'"):
        await counter(store, 1).resume("nope")
    await counter(store, 1).run(run_id="done")
    with pytest.raises(RunFinishedError, match="'done' has ended"):
        await counter(store, 1).resume("done")
    mismatch = r"is a run of .*Counter, so .*Fails cannot resume it"
    with pytest.raises(RunVersionError, match=mismatch):
        await Fails(store=store).resume("done")
    with pytest.raises(WorkflowRuntimeError, match="needs a store"):
        await Counter().resume("done")


async def test_checkpoints_keep_the_journal_short(store: RunStore) -> None:
    assert await counter(store, 200, checkpoint_every=20).run(run_id="long") == {"counted": 200}
    stored = await store.load("long")
    assert stored.checkpoint is not None
    assert len(stored.records) < 20
    # The checkpoint holds what is left to do, not the 200 events the run saw.
    assert len(stored.checkpoint.data) < 2_000


def test_a_run_id_must_be_a_non_empty_str() -> None:
    with pytest.raises(ValueError, match="run_id"):
        Counter().run(run_id="")
    with pytest.raises(ValueError, match="checkpoint_every"):
        Counter(checkpoint_every=0)


async def test_a_run_in_memory_takes_its_run_id_too() -> None:
    handler = Fails(timeout=None).run(run_id="in-memory")
    assert handler.run_id == "in-memory"
    with pytest.raises(RuntimeError):
        await handler


class Waits(Workflow):
    """Version 1: asks, then finishes with the answer."""

    version = "1"

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="?")
        )
        return StopEvent(result=answer.response)


async def park(store: RunStore, run_id: str) -> None:
    """Start a run that waits for its answer, and leave it unfinished in the store (as a
    process that died would)."""
    handler = Waits(store=store, timeout=None).run(run_id=run_id)
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    assert (await store.get_run(run_id)) is not None


async def test_a_run_of_another_version_is_refused_unless_allowed(tmp_path: Path) -> None:
    database = tmp_path / "runs.db"
    store = SqliteStore(database)
    await park(store, "v1-run")
    # The process ends without a word to the store: the run stays unfinished.
    async with SqliteStore(database) as reopened:
        newer = Waits(store=reopened, timeout=None)
        newer.version = "2"
        with pytest.raises(RunVersionError, match=r"version '1'.*version '2'"):
            await newer.resume("v1-run")
        handler = await newer.resume("v1-run", allow_version_change=True)
        handler.ctx.send_event(HumanResponseEvent(response="ok"))
        assert await handler == "ok"


class Renamed(Workflow):
    """Another class, whose step for the start has another name than Waits's `ask`."""

    @step
    async def greet(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="hi")


async def test_a_run_with_work_left_for_a_removed_step_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "runs.db"
    await park(SqliteStore(database), "parked")
    async with SqliteStore(database) as reopened:
        with pytest.raises(RunVersionError, match=r"step\(s\) ask, which .*Renamed does not"):
            await Renamed(store=reopened, timeout=None).resume("parked", allow_version_change=True)


async def test_a_run_waiting_for_a_human_is_listed_as_waiting(store: RunStore) -> None:
    handler = Waits(store=store, timeout=None).run(run_id="asks")
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    # Listed as waiting before the question was asked.
    assert [info.run_id async for info in store.list_runs(status="waiting")] == ["asks"]
    handler.ctx.send_event(HumanResponseEvent(response="yes"))
    assert await handler == "yes"
    assert [info.run_id async for info in store.list_runs(status="completed")] == ["asks"]
