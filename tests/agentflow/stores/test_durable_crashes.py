"""Durable runs crashed at a chosen point, in-process: a step copies the SQLite files as a
`kill -9` at that moment would leave them (the database and its write-ahead log), and the
run is resumed from the copy. Each case is one that lost exactly-once, hung or wrote to
another run before it was fixed."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agentflow import Context, Workflow, catch_error, step
from agentflow.errors import (
    ContextSerdeError,
    RunExistsError,
    StoreWriteError,
    WorkflowRuntimeError,
)
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
)
from agentflow.stores import SqliteStore
from agentflow.stores.base import JournalRecord, RunInfo


def crash_image(database: Path, into: Path) -> Path:
    """The files a process killed now leaves: the database and its write-ahead log (a
    commit that returned is in one of them)."""
    copy = into / "crashed.db"
    shutil.copyfile(database, copy)
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    return copy


class Tick(Event):
    pass


TICK = Tick()


class ReturnsOneObject(Workflow):
    """Returns the same event object at every turn; crashes in its fourth turn."""

    calls: list[int]
    crash: tuple[Path, Path] | None = None
    crashed: Path | None = None

    @step
    async def begin(self, ev: StartEvent) -> Tick:
        return TICK

    @step
    async def tick(self, ctx: Context, ev: Tick) -> Tick | StopEvent:
        n = await ctx.store.get("n", default=0)
        self.calls.append(n)
        await ctx.store.set("n", n + 1)
        if n == 3:
            if self.crash is not None:  # the three turns before are durable: they routed
                self.crashed = crash_image(*self.crash)
            return StopEvent(result=n)
        return TICK


async def test_a_step_returning_the_same_object_each_turn_is_journalled_each_turn(
    tmp_path: Path,
) -> None:
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        first = ReturnsOneObject(store=store, timeout=None)
        first.calls, first.crash = [], (database, tmp_path)
        assert await first.run(run_id="r") == 3
    assert first.crashed is not None
    async with SqliteStore(first.crashed) as crashed:
        again = ReturnsOneObject(store=crashed, timeout=None)
        again.calls = []
        assert await (await again.resume("r")) == 3
    assert again.calls == [3]  # only the turn in flight at the crash ran again


class Job(Event):
    n: int


class Done(Event):
    n: int


class Joined(Event):
    ns: list[int]


class TwoCollectors(Workflow):
    """Two collectors at once: the first buffers Done(0) and is still going when the
    second takes Done(0) and Done(1) and completes; the crash comes after that."""

    def __init__(self, store: SqliteStore, crash: tuple[Path, Path] | None = None) -> None:
        super().__init__(store=store, timeout=None)
        self.crash = crash
        self.crashed: Path | None = None
        self.buffered = asyncio.Event()
        self.joined_on: list[int] = []

    @step
    async def fan(self, ctx: Context, ev: StartEvent) -> Job | None:
        for n in range(2):
            ctx.send_event(Job(n=n))
        return None

    @step(num_workers=2)
    async def work(self, ev: Job) -> Done:
        if ev.n == 1:
            await self.buffered.wait()  # Done(1) only once Done(0) is in the buffer
        return Done(n=ev.n)

    @step(num_workers=2)
    async def join(self, ctx: Context, ev: Done) -> Joined | None:
        got = ctx.collect_events(ev, [Done, Done])
        self.joined_on.append(ev.n)
        if got is None:
            self.buffered.set()
            if self.crash is not None:
                await asyncio.Event().wait()  # still going at the crash
            return None
        return Joined(ns=sorted(event.n for event in got))

    @step
    async def finish(self, ev: Joined) -> StopEvent:
        if self.crash is not None:  # the second collector's completion is durable
            self.crashed = crash_image(*self.crash)
        return StopEvent(result=ev.ns)


async def test_concurrent_collectors_resume_with_the_collection_they_made(
    tmp_path: Path,
) -> None:
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        first = TwoCollectors(store, crash=(database, tmp_path))
        assert await first.run(run_id="r") == [0, 1]
    assert first.crashed is not None
    async with SqliteStore(first.crashed) as crashed:
        again = TwoCollectors(crashed)
        assert await (await again.resume("r")) == [0, 1]
    assert again.joined_on == [0]  # only the collector in flight ran again


class Recovered(Event):
    pass


class Charged(Event):
    pass


class RecoversThenCharges(Workflow):
    """A step fails, `@catch_error` recovers, a charge follows; the crash comes after it."""

    def __init__(self, store: SqliteStore, crash: tuple[Path, Path] | None = None) -> None:
        super().__init__(store=store, timeout=None)
        self.crash = crash
        self.crashed: Path | None = None
        self.charged = 0

    @step
    async def fetch(self, ev: StartEvent) -> StopEvent:
        raise RuntimeError("flaky")

    @catch_error
    async def recover(self, ev: StepFailedEvent) -> Recovered:
        return Recovered()

    @step
    async def charge(self, ev: Recovered) -> Charged:
        self.charged += 1
        return Charged()

    @step
    async def finish(self, ev: Charged) -> StopEvent:
        if self.crash is not None:
            self.crashed = crash_image(*self.crash)
        return StopEvent(result="done")


async def test_a_recovered_failure_is_journalled_and_nothing_after_it_repeats(
    tmp_path: Path,
) -> None:
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        first = RecoversThenCharges(store, crash=(database, tmp_path))
        assert await first.run(run_id="r") == "done"
        keys = [r.key for r in (await store.load("r")).records if r.kind == "execution"]
    assert keys == ["fetch@0", "recover@1", "charge@2", "finish@3"]
    assert first.crashed is not None
    async with SqliteStore(first.crashed) as crashed:
        again = RecoversThenCharges(crashed)
        assert await (await again.resume("r")) == "done"
    assert again.charged == 0


class CrashesBeforeTheEnd(SqliteStore):
    """A store whose process dies once the run's last step is journalled, just before
    the run's end (its status and result) is written. The run writes the two together;
    they are apart when a record queued after the last step's takes it to the store
    ahead of the end (a step still going when another ended the run), which this store
    makes happen every time."""

    def __init__(self, database: Path, into: Path) -> None:
        super().__init__(database)
        self.crash = (database, into)
        self.crashed: Path | None = None

    async def write(
        self, run_id: str, records: Sequence[JournalRecord] = (), **options: Any
    ) -> None:
        if options.get("status") == "completed" and self.crashed is None:
            await super().write(run_id, records)
            self.crashed = crash_image(*self.crash)
            records = ()
        await super().write(run_id, records, **options)


class Finishes(Workflow):
    @step
    async def work(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.store.set("ran", await ctx.store.get("ran", 0) + 1)
        return StopEvent(result={"ran": await ctx.store.get("ran")})


async def test_a_run_killed_after_its_last_step_ends_on_resume_with_its_result(
    tmp_path: Path,
) -> None:
    """Its last step's record is durable: the resume runs nothing and ends the run with the
    result that step returned (it used to wait forever, with nothing left to run)."""
    async with CrashesBeforeTheEnd(tmp_path / "runs.db", tmp_path) as store:
        assert await Finishes(store=store, timeout=None).run(run_id="r") == {"ran": 1}
    assert store.crashed is not None
    async with SqliteStore(store.crashed) as crashed:
        before = await crashed.get_run("r")
        assert before is not None
        assert before.status == "running"
        handler = await Finishes(store=crashed, timeout=10).resume("r")
        assert await handler == {"ran": 1}
        info = await crashed.get_run("r")
    assert info is not None
    assert info.status == "completed"
    assert info.result == '{"result": "{\\"ran\\": 1}"}'


class FinishesWithAnObject(Workflow):
    @step
    async def work(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=object())


async def test_a_run_killed_after_ending_with_a_result_it_could_not_journal_fails_on_resume(
    tmp_path: Path,
) -> None:
    async with CrashesBeforeTheEnd(tmp_path / "runs.db", tmp_path) as store:
        result = await FinishesWithAnObject(store=store, timeout=None).run(run_id="r")
    assert type(result) is object  # the live run completes with it; the store cannot hold it
    assert store.crashed is not None
    async with SqliteStore(store.crashed) as crashed:
        handler = await FinishesWithAnObject(store=crashed, timeout=10).resume("r")
        with pytest.raises(ContextSerdeError, match=r"durable run 'r' had ended .* result is lost"):
            await handler
        info = await crashed.get_run("r")
    assert info is not None
    assert info.status == "failed"


class Sends(Workflow):
    """Sends two jobs; the crash comes between them, once the first one was routed."""

    def __init__(self, store: SqliteStore, crash: tuple[Path, Path] | None = None) -> None:
        super().__init__(store=store, timeout=None)
        self.crash = crash
        self.crashed: Path | None = None
        self.first_routed = asyncio.Event()
        self.worked: list[int] = []

    @step
    async def fan(self, ctx: Context, ev: StartEvent) -> Job | None:
        ctx.send_event(Job(n=0))
        if self.crash is not None:
            await self.first_routed.wait()  # its record is durable: it was routed
            self.crashed = crash_image(*self.crash)
        ctx.send_event(Job(n=1))
        return None

    @step(num_workers=4)
    async def work(self, ev: Job) -> Done:
        self.worked.append(ev.n)
        self.first_routed.set()
        return Done(n=ev.n)

    @step
    async def join(self, ctx: Context, ev: Done) -> StopEvent | None:
        got = ctx.collect_events(ev, [Done, Done])
        return None if got is None else StopEvent(result=sorted(e.n for e in got))


async def test_a_step_run_again_sends_only_what_it_had_not_sent(tmp_path: Path) -> None:
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        first = Sends(store, crash=(database, tmp_path))
        assert await first.run(run_id="r") == [0, 1]
    assert first.crashed is not None
    async with SqliteStore(first.crashed) as crashed:
        again = Sends(crashed)
        assert await (await again.resume("r")) == [0, 1]
    # Job(0) was sent (and routed) before the crash: the re-run of `fan` does not send it
    # again, and Job(1) is sent once. Job(0)'s work may run again, once: it was in flight.
    assert again.worked.count(0) <= 1
    assert again.worked.count(1) == 1


class OneAtATime(Workflow):
    """A step with one worker, fed six events before the crash."""

    def __init__(self, store: SqliteStore, crash: tuple[Path, Path] | None = None) -> None:
        super().__init__(store=store, timeout=None)
        self.crash = crash
        self.crashed: Path | None = None
        self.started_work = asyncio.Event()
        self.running = 0
        self.most_at_once = 0

    @step
    async def fan(self, ctx: Context, ev: StartEvent) -> Job | None:
        for n in range(6):
            ctx.send_event(Job(n=n))
        if self.crash is not None:
            await self.started_work.wait()  # the six sends are durable: they were routed
            self.crashed = crash_image(*self.crash)
        return None

    @step(num_workers=1)
    async def work(self, ev: Job) -> Done:
        self.started_work.set()
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0)
        self.running -= 1
        return Done(n=ev.n)

    @step
    async def join(self, ctx: Context, ev: Done) -> StopEvent | None:
        got = ctx.collect_events(ev, Done, count=6)
        return None if got is None else StopEvent(result=len(got))


async def test_a_resumed_run_keeps_each_steps_number_of_workers(tmp_path: Path) -> None:
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        first = OneAtATime(store, crash=(database, tmp_path))
        assert await first.run(run_id="r") == 6
    assert first.crashed is not None
    async with SqliteStore(first.crashed) as crashed:
        again = OneAtATime(crashed)
        assert await (await again.resume("r")) == 6
    assert again.most_at_once == 1


class Ask(Workflow):
    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="ok?")
        )
        return StopEvent(result=answer.response)


async def test_a_run_whose_id_is_taken_writes_nothing_to_the_other_run(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "runs.db") as store:
        first = Ask(store=store, timeout=None).run(run_id="order-42")
        async for event in first.stream_events():
            if isinstance(event, InputRequiredEvent):
                break
        # The first run's start, and the start of its wait (journalled for its timeout).
        before = (await store.load("order-42")).records
        assert [r.kind for r in before] == ["started", "once"]
        second = Ask(store=store, timeout=None).run(run_id="order-42")
        second.ctx.send_event(HumanResponseEvent(response="from the second caller"))
        with pytest.raises(RunExistsError, match="'order-42'"):
            await second
        assert (await store.load("order-42")).records == before
        first.ctx.send_event(HumanResponseEvent(response="yes"))
        assert await first == "yes"
        info = await store.get_run("order-42")
        assert info is not None
        assert info.status == "completed"


async def test_a_saved_context_cannot_be_run_on_a_workflow_with_a_store(tmp_path: Path) -> None:
    from agentflow import Context as Ctx

    in_memory = Ask(timeout=None)
    handler = in_memory.run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            await handler.cancel_run()
    saved = handler.ctx.to_dict()
    async with SqliteStore(tmp_path / "runs.db") as store:
        durable = Ask(store=store, timeout=None)
        with pytest.raises(WorkflowRuntimeError, match=r"resume\(run_id\)"):
            durable.run(ctx=Ctx.from_dict(durable, saved))


class SyncCollector(Workflow):
    """A sync step (run in a thread) collects: its collect calls are journalled too."""

    @step
    async def fan(self, ctx: Context, ev: StartEvent) -> Job | None:
        for n in range(3):
            ctx.send_event(Job(n=n))
        return None

    @step
    def gather(self, ctx: Context, ev: Job) -> StopEvent | None:
        got = ctx.collect_events(ev, [Job] * 3)
        return None if got is None else StopEvent(result=sorted(job.n for job in got))


async def test_a_sync_step_collects_in_a_durable_run(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "runs.db") as store:
        assert await SyncCollector(store=store, timeout=None).run(run_id="r") == [0, 1, 2]
        kinds = [r.kind for r in (await store.load("r")).records]
    assert kinds.count("collect") == 3


class FailsAfterASideEffect(Workflow):
    """The failing step changed the state and took an answer before it raised; the
    `@catch_error` step reads both, and the crash comes while it waits."""

    def __init__(self, store: SqliteStore, crash: tuple[Path, Path] | None = None) -> None:
        super().__init__(store=store, timeout=None)
        self.crash = crash
        self.crashed: Path | None = None

    @step
    async def charge(self, ctx: Context, ev: StartEvent) -> StopEvent:
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="amount?")
        )
        await ctx.store.set("charged", answer.response)
        raise RuntimeError("the bank timed out after charging")

    @catch_error
    async def recover(self, ctx: Context, ev: StepFailedEvent) -> StopEvent:
        if self.crash is not None:  # the hand-off is durable: it was routed here
            self.crashed = crash_image(*self.crash)
        again = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="again?")
        )
        return StopEvent(result=f"{await ctx.store.get('charged')} then {again.response}")


async def test_a_recovered_step_leaves_its_state_and_its_answers_behind(tmp_path: Path) -> None:
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        first = FailsAfterASideEffect(store, crash=(database, tmp_path))
        handler = first.run(run_id="r")
        answers = iter(["10", "20"])
        async for event in handler.stream_events():
            if isinstance(event, InputRequiredEvent):
                handler.ctx.send_event(HumanResponseEvent(response=next(answers)))
        assert await handler == "10 then 20"
    assert first.crashed is not None
    async with SqliteStore(first.crashed) as crashed:
        handler = await FailsAfterASideEffect(crashed).resume("r")
        async for event in handler.stream_events():
            if isinstance(event, InputRequiredEvent):
                assert event.prefix == "again?"  # the first answer is not taken again
                handler.ctx.send_event(HumanResponseEvent(response="30"))
        assert await handler == "10 then 30"


class BrokenStore(SqliteStore):
    async def create_run(self, *args: object, **kwargs: object) -> RunInfo:  # type: ignore[override]
        raise RuntimeError("driver bug")


async def test_a_store_failing_to_create_the_run_fails_it_with_a_named_error(
    tmp_path: Path,
) -> None:
    async with BrokenStore(tmp_path / "runs.db") as store:
        with pytest.raises(StoreWriteError, match="failed to create it") as raised:
            await Ask(store=store, timeout=None).run(run_id="r")
    assert isinstance(raised.value.__cause__, RuntimeError)


async def test_a_start_event_the_store_cannot_write_starts_nothing(tmp_path: Path) -> None:
    before = asyncio.all_tasks()
    async with SqliteStore(tmp_path / "runs.db") as store:
        with pytest.raises(ContextSerdeError, match="thing"):
            Ask(store=store, timeout=None).run(run_id="r", thing=object())
        assert asyncio.all_tasks() - before == set()  # no driver left behind
        assert await store.get_run("r") is None


class PaysOnce(Workflow):
    """Charges through ctx.once; the crash comes after the charge, before the step ends."""

    def __init__(self, store: SqliteStore, crash: tuple[Path, Path] | None = None) -> None:
        super().__init__(store=store, timeout=None)
        self.crash = crash
        self.crashed: Path | None = None
        self.charged: list[int] = []
        self.keys: list[str] = []

    def charge(self, amount: int) -> dict[str, object]:
        self.charged.append(amount)
        return {"receipt": f"r-{amount}", "amount": amount}

    @step
    async def pay(self, ctx: Context, ev: StartEvent) -> StopEvent:
        self.keys.append(ctx.idempotency_key("charge"))
        receipt = await ctx.once("charge", self.charge, 42)
        if self.crash is not None:  # the charge's result is journalled: once returned it
            self.crashed = crash_image(*self.crash)
        return StopEvent(result=receipt)


async def test_once_never_calls_again_after_a_crash(tmp_path: Path) -> None:
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        first = PaysOnce(store, crash=(database, tmp_path))
        assert await first.run(run_id="order-9") == {"receipt": "r-42", "amount": 42}
    assert first.crashed is not None
    async with SqliteStore(first.crashed) as crashed:
        again = PaysOnce(crashed)
        assert await (await again.resume("order-9")) == {"receipt": "r-42", "amount": 42}
    assert first.charged == [42]
    assert again.charged == []  # the step ran again; the charge did not
    assert again.keys == first.keys
    assert first.keys[0] == "order-9:pay@0:charge"
