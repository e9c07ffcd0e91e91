"""Durability modes: `"async"` routes a step's outputs before its record is durable and
still fails loudly on a failed write; `"exit"` writes a run's start, its checkpoints while
it waits for a human, and its end, nothing per step. What each leaves after a crash is
checked against a resume. (Killed child processes: test_durable_kill.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from watched_store import WatchedStore

from agentflow import Context, Workflow, catch_error, step
from agentflow.errors import StoreWriteError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
)
from agentflow.stores import SqliteStore
from agentflow.stores.base import RunStore


class Count(Event):
    n: int


class Chain(Workflow):
    """Counts 0..19 one step at a time, adding each number to the state; `at(n)` is called
    in the step of number n, before it returns."""

    def __init__(self, store: RunStore, durability: Any, **options: Any) -> None:
        super().__init__(store=store, timeout=None, durability=durability, **options)
        self.calls: list[int] = []
        self.hooks: dict[int, Any] = {}

    @step
    async def begin(self, ev: StartEvent) -> Count:
        return Count(n=0)

    @step
    async def count(self, ctx: Context, ev: Count) -> Count | StopEvent:
        self.calls.append(ev.n)
        await ctx.store.set("total", await ctx.store.get("total", 0) + ev.n)
        hook = self.hooks.get(ev.n)
        if hook is not None:
            await hook()
        if ev.n == 19:
            return StopEvent(result=await ctx.store.get("total"))
        return Count(n=ev.n + 1)


TOTAL = sum(range(20))


class OneStep(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()


def test_a_bad_durability_value_is_refused() -> None:
    with pytest.raises(ValueError, match=r"one of 'sync', 'async', 'exit', got 'eventually'"):
        OneStep(durability="eventually")  # type: ignore[arg-type]
    assert OneStep().durability == "sync"
    assert OneStep(durability="exit").durability == "exit"


async def test_async_mode_gives_the_result_and_journal_of_sync_mode(store: RunStore) -> None:
    assert await Chain(store, "sync").run(run_id="s") == TOTAL
    assert await Chain(store, "async").run(run_id="a") == TOTAL
    synced, behind = await store.load("s"), await store.load("a")
    assert [(r.seq, r.kind, r.key, r.data) for r in behind.records] == [
        (r.seq, r.kind, r.key, r.data) for r in synced.records
    ]
    assert len(behind.records) == 22  # started, begin, 20 counts
    info = await store.get_run("a")
    assert info is not None
    assert info.status == "completed"


async def test_async_mode_routes_a_steps_output_before_its_record_is_written(
    store: RunStore,
) -> None:
    watched = WatchedStore(store)
    flow = Chain(watched, "async")
    seen: dict[str, bool] = {}

    async def hold_the_writes() -> None:
        watched.gate.clear()

    async def look_then_release() -> None:
        # Count(3) was routed here although the record of the step that returned it,
        # and those of the two before, are still held.
        seen["count@3 written"] = "count@3" in watched.written_keys
        watched.gate.set()

    flow.hooks = {1: hold_the_writes, 4: look_then_release}
    assert await flow.run(run_id="r") == TOTAL
    assert seen == {"count@3 written": False}
    assert {f"count@{n + 1}" for n in range(20)} <= watched.written_keys


@pytest.mark.parametrize("failing", ["count@5", "count@20"])
async def test_async_mode_fails_the_run_when_a_write_fails(store: RunStore, failing: str) -> None:
    """Mid-run, and in the last record (written after the run's StopEvent was routed)."""
    watched = WatchedStore(store)
    watched.fail_on = failing
    with pytest.raises(StoreWriteError, match="the disk is full"):
        await Chain(watched, "async").run(run_id="r")
    info = await store.get_run("r")
    assert info is not None
    assert info.status != "completed"


def crash_image(database: Path, into: Path) -> Path:
    """The database and write-ahead log a process killed now leaves."""
    copy = into / "crashed.db"
    shutil.copyfile(database, copy)
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    return copy


async def test_an_async_run_crashed_mid_run_re_runs_only_what_was_not_durable(
    tmp_path: Path,
) -> None:
    database = tmp_path / "runs.db"
    images: list[Path] = []
    async with SqliteStore(database) as store:
        watched = WatchedStore(store)
        first = Chain(watched, "async")

        async def hold_the_writes() -> None:
            watched.gate.clear()

        async def crash() -> None:
            images.append(crash_image(database, tmp_path))
            watched.gate.set()

        first.hooks = {6: hold_the_writes, 12: crash}
        assert await first.run(run_id="r") == TOTAL
    async with SqliteStore(images[0]) as crashed:
        durable = {r.key for r in (await crashed.load("r")).records}
        not_durable = [n for n in range(20) if f"count@{n + 1}" not in durable]
        assert not_durable
        assert not_durable[0] <= 6
        again = Chain(crashed, "async")
        assert await (await again.resume("r")) == TOTAL
    assert again.calls == not_durable


class PreparesThenAsks(Workflow):
    """Prepares, asks a human, then finishes with the answer."""

    def __init__(self, store: RunStore, durability: Any = "exit") -> None:
        super().__init__(store=store, timeout=None, durability=durability)
        self.prepared = 0
        self.asked = 0

    @step
    async def prepare(self, ev: StartEvent) -> Count:
        self.prepared += 1
        return Count(n=1)

    @step
    async def ask(self, ctx: Context, ev: Count) -> StopEvent:
        self.asked += 1
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        return StopEvent(result=f"hello {answer.response}")


async def test_exit_mode_writes_the_end_and_nothing_per_step(store: RunStore) -> None:
    watched = WatchedStore(store)
    assert await Chain(watched, "exit").run(run_id="r") == TOTAL
    assert len(watched.writes) == 1  # the end
    records, status, checkpoint = watched.writes[0]
    assert records == []
    assert status == "completed"
    assert checkpoint is not None
    stored = await store.load("r")
    assert stored.info.status == "completed"
    assert stored.checkpoint is not None


async def test_exit_mode_checkpoints_a_run_waiting_for_a_human_which_resumes_elsewhere(
    store: RunStore,
) -> None:
    watched = WatchedStore(store)
    first = PreparesThenAsks(watched)
    handler = first.run(run_id="ask")
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    stored = await store.load("ask")
    assert stored.info.status == "waiting"
    assert stored.checkpoint is not None
    assert stored.records == []
    assert all(records == [] for records, _, _ in watched.writes)  # nothing per step
    watched.gone = True  # the process dies while the run waits
    await handler.cancel_run()
    with pytest.raises(StoreWriteError, match="the process is gone"):
        await handler

    again = PreparesThenAsks(store)
    resumed = await again.resume("ask")
    async for event in resumed.stream_events():
        if isinstance(event, InputRequiredEvent):
            resumed.ctx.send_event(HumanResponseEvent(response="Ada"))
    assert await resumed == "hello Ada"
    assert (first.prepared, again.prepared) == (1, 0)  # kept in the waiting checkpoint
    assert again.asked == 1  # the waiting step asks again


async def test_exit_mode_after_a_crash_resumes_from_the_start(store: RunStore) -> None:
    watched = WatchedStore(store)
    first = Chain(watched, "exit")

    async def die() -> None:
        watched.gone = True

    first.hooks = {12: die}
    with pytest.raises(StoreWriteError, match="the process is gone"):
        await first.run(run_id="r")
    stored = await store.load("r")
    assert stored.checkpoint is None
    assert [r.kind for r in stored.records] == ["started"]
    again = Chain(store, "exit")
    assert await (await again.resume("r")) == TOTAL
    assert again.calls == list(range(20))  # every step ran again


class Job(Event):
    n: int


class Done(Event):
    n: int


class Everything(Workflow):
    """Sends jobs to three workers; one fails and `@catch_error` stands in for it; the
    results are collected, a charge is made with `ctx.once`, and a human is asked."""

    def __init__(self, store: RunStore, durability: Any) -> None:
        super().__init__(store=store, timeout=None, durability=durability)
        self.charged = 0

    @step
    async def fan(self, ctx: Context, ev: StartEvent) -> Job | None:
        for n in range(3):
            ctx.send_event(Job(n=n))
        return None

    @step(num_workers=3)
    async def work(self, ev: Job) -> Done:
        if ev.n == 1:
            raise RuntimeError("flaky")
        return Done(n=ev.n)

    @catch_error
    async def recover(self, ev: StepFailedEvent) -> Done:
        return Done(n=10)

    @step
    async def join(self, ctx: Context, ev: Done) -> StopEvent | None:
        done = ctx.collect_events(ev, Done, count=3)
        if done is None:
            return None
        receipt = await ctx.once("charge", self.charge)
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="ok?")
        )
        return StopEvent(result=[sorted(e.n for e in done), receipt, answer.response])

    async def charge(self) -> str:
        self.charged += 1
        return "receipt-1"


async def run_answering(flow: Workflow, run_id: str) -> Any:
    handler = flow.run(run_id=run_id)
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(HumanResponseEvent(response="yes"))
    return await handler


@pytest.mark.parametrize("durability", ["async", "exit"])
async def test_every_kind_of_record_gives_the_result_of_sync_mode(
    store: RunStore, durability: str
) -> None:
    expected = [[0, 2, 10], "receipt-1", "yes"]
    assert await run_answering(Everything(store, "sync"), "s") == expected
    flow = Everything(store, durability)
    assert await run_answering(flow, "m") == expected
    assert flow.charged == 1
    synced, stored = await store.load("s"), await store.load("m")
    assert stored.info.status == "completed"
    if durability == "async":
        assert sorted((r.kind, r.key) for r in stored.records) == sorted(
            (r.kind, r.key) for r in synced.records
        )
        sent = [r.data for r in stored.records if r.kind == "sent"]
        assert len(sent) == 1  # the answer, journalled
        assert "HumanResponseEvent" in sent[0]
    else:
        assert stored.records == []  # the final checkpoint folds the start record
        assert stored.checkpoint is not None


class SetsAndStops(Workflow):
    @step
    async def only(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.store.set("done", True)
        return StopEvent(result="ok")


@pytest.mark.parametrize("durability", ["sync", "async"])
async def test_the_last_steps_record_goes_out_with_the_runs_end_in_one_write(
    store: RunStore, durability: Any
) -> None:
    """One commit for both, and nothing of the end is in the store without the record."""
    watched = WatchedStore(store)
    flow = SetsAndStops(store=watched, timeout=None, durability=durability)
    assert await flow.run(run_id="r") == "ok"
    assert [([r.kind for r in records], status) for records, status, _ in watched.writes] == [
        (["execution"], "completed")
    ]
