"""A durable run's stream in the store: every event a step writes, numbered from 0 without
gaps, the terminal StopEvent last, written behind the run (a streaming step never waits for
the store), and after a crash (a crash image: the files a `kill -9` at that moment leaves)
no event twice: a re-run execution's writes that were stored before the crash are not
stored again, and the numbering goes on after the stored ones."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from test_durable_crashes import crash_image
from test_durable_modes import WatchedStore

from agentflow import Context, Workflow, step
from agentflow.context.serializers import JsonSerializer
from agentflow.durable import Durability
from agentflow.errors import StoreWriteError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepState,
    StepStateChanged,
    StopEvent,
)
from agentflow.stores import MemoryStore, SqliteStore
from agentflow.stores.base import Checkpoint, JournalRecord, RunStatus, RunStore, StreamEntry


class NotingStore(SqliteStore):
    """A SQLite store that lets a step wait until the stream holds some entries (so that a
    crash image taken then has them)."""

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        self.stored: list[StreamEntry] = []
        self._changed = asyncio.Event()

    async def write(
        self,
        run_id: str,
        records: Sequence[JournalRecord] = (),
        *,
        status: RunStatus | None = None,
        result: str | None = None,
        checkpoint: Checkpoint | None = None,
        stream: Sequence[StreamEntry] = (),
    ) -> None:
        await super().write(
            run_id, records, status=status, result=result, checkpoint=checkpoint, stream=stream
        )
        self.stored.extend(stream)
        self._changed.set()

    async def until(self, holds: Callable[[list[StreamEntry]], bool]) -> None:
        while not holds(self.stored):
            self._changed.clear()
            await self._changed.wait()


class Said(Event):
    n: int
    part: int


class Count(Event):
    n: int


def stored_events(entries: list[StreamEntry]) -> list[Event]:
    return [JsonSerializer().deserialize(entry.data) for entry in entries]


def said(entries: list[StreamEntry]) -> list[tuple[int, int]]:
    return [(e.n, e.part) for e in stored_events(entries) if isinstance(e, Said)]


class StreamingChain(Workflow):
    """Counts 0..5; each count writes Said(n, 0) and Said(n, 1). With `crash`, count 3
    takes a crash image once its Said(3, 0) is stored, then writes Said(3, 1)."""

    def __init__(self, store: RunStore, crash: tuple[Path, Path] | None = None, **options: Any):
        super().__init__(store=store, timeout=None, **options)
        self.crash = crash
        self.crashed: Path | None = None
        self.counted: list[int] = []

    @step
    async def begin(self, ev: StartEvent) -> Count:
        return Count(n=0)

    @step
    async def count(self, ctx: Context, ev: Count) -> Count | StopEvent:
        self.counted.append(ev.n)
        ctx.write_event_to_stream(Said(n=ev.n, part=0))
        if ev.n == 3 and self.crash is not None:
            store = self.store
            assert isinstance(store, NotingStore)
            await store.until(lambda stored: (3, 0) in said(stored))
            self.crashed = crash_image(*self.crash)
        ctx.write_event_to_stream(Said(n=ev.n, part=1))
        return Count(n=ev.n + 1) if ev.n < 5 else StopEvent(result=ev.n)


async def test_a_streaming_chain_resumed_after_a_crash_stores_its_stream_once(
    tmp_path: Path,
) -> None:
    database = tmp_path / "runs.db"
    async with NotingStore(database) as store:
        first = StreamingChain(store, crash=(database, tmp_path))
        assert await first.run(run_id="r") == 5
        uninterrupted = await store.read_stream("r")
    assert first.crashed is not None
    expected = [(n, part) for n in range(6) for part in (0, 1)]
    assert said(uninterrupted) == expected
    assert [entry.seq for entry in uninterrupted] == list(range(13))

    async with SqliteStore(first.crashed) as crashed:
        before = said(await crashed.read_stream("r"))
        assert before[-1] == (3, 0)  # the crash came between count 3's two writes
        again = StreamingChain(crashed)
        handler = await again.resume("r")
        live = [event async for event in handler.stream_events()]
        assert await handler == 5
        resumed = await crashed.read_stream("r")
    assert again.counted == [3, 4, 5]  # count 3 was in flight: it ran again
    assert said(resumed) == expected  # Said(3, 0) is stored once, not again by the re-run
    assert [entry.seq for entry in resumed] == list(range(13))
    assert [(e.key, e.data) for e in resumed] == [(e.key, e.data) for e in uninterrupted]
    last = stored_events(resumed)[-1]
    assert type(last) is StopEvent
    assert (last.result, resumed[-1].key) == (5, None)
    # The handler of the resumed run streams what this process ran: the re-run's first
    # write is there, as its consumer never saw it.
    assert [(e.n, e.part) for e in live if isinstance(e, Said)] == expected[6:]


class Item(Event):
    n: int


class Done(Event):
    n: int


class StreamingFanOut(Workflow):
    """Sends Item(0..7) to four workers; each writes Said(n, 0) and Said(n, 1); gather
    collects the eight Done. With `crash`, worker 5 takes a crash image once its first
    write is stored, while other workers are under way."""

    def __init__(self, store: RunStore, crash: tuple[Path, Path] | None = None):
        super().__init__(store=store, timeout=None)
        self.crash = crash
        self.crashed: Path | None = None
        self.worked: list[int] = []

    @step
    async def scatter(self, ctx: Context, ev: StartEvent) -> Item | None:
        for n in range(8):
            ctx.send_event(Item(n=n))
        return None

    @step(num_workers=4)
    async def work(self, ctx: Context, ev: Item) -> Done:
        self.worked.append(ev.n)
        ctx.write_event_to_stream(Said(n=ev.n, part=0))
        if ev.n == 5 and self.crash is not None:
            store = self.store
            assert isinstance(store, NotingStore)
            await store.until(lambda stored: (5, 0) in said(stored))
            self.crashed = crash_image(*self.crash)
        await asyncio.sleep(0)  # let the other workers write in between
        ctx.write_event_to_stream(Said(n=ev.n, part=1))
        return Done(n=ev.n)

    @step
    async def gather(self, ctx: Context, ev: Done) -> StopEvent | None:
        done = ctx.collect_events(ev, [Done] * 8)
        return None if done is None else StopEvent(result=sorted(d.n for d in done))


async def test_a_streaming_fan_out_resumed_after_a_crash_stores_each_event_once(
    tmp_path: Path,
) -> None:
    database = tmp_path / "runs.db"
    async with NotingStore(database) as store:
        first = StreamingFanOut(store, crash=(database, tmp_path))
        assert await first.run(run_id="f") == list(range(8))
        uninterrupted = await store.read_stream("f")
    assert first.crashed is not None
    async with SqliteStore(first.crashed) as crashed:
        again = StreamingFanOut(crashed)
        assert await (await again.resume("f")) == list(range(8))
        resumed = await crashed.read_stream("f")
    assert 5 in again.worked  # in flight at the crash: it ran again
    assert Counter(said(resumed)) == Counter(said(uninterrupted))
    assert Counter(said(resumed)) == Counter((n, part) for n in range(8) for part in (0, 1))
    assert [entry.seq for entry in resumed] == list(range(17))
    assert isinstance(stored_events(resumed)[-1], StopEvent)
    # Each worker's two events are stored under its own lineage.
    assert Counter(Counter(e.key for e in resumed[:-1]).values()) == Counter({2: 8})


class Asks(Workflow):
    """Writes Said(0, 0), asks a question, writes Said(0, 1) with the answer, ends."""

    def __init__(self, store: RunStore, durability: Durability) -> None:
        super().__init__(store=store, timeout=None, durability=durability)
        self.asked = 0

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        self.asked += 1
        ctx.write_event_to_stream(Said(n=0, part=0))
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        ctx.write_event_to_stream(Said(n=0, part=1))
        return StopEvent(result=answer.response)


async def until_asked(handler: Any) -> None:
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            return


@pytest.mark.parametrize("durability", ["sync", "exit"])
async def test_a_run_waiting_for_a_human_resumes_its_stream_without_repeating_it(
    tmp_path: Path, durability: Durability
) -> None:
    database = tmp_path / "runs.db"
    async with NotingStore(database) as store:
        first = Asks(store, durability)
        handler = first.run(run_id="a")
        await until_asked(handler)  # the run is stored as waiting before it asks
        if durability == "sync":  # the question is stored behind: let it be, then crash
            await store.until(lambda stored: len(stored) == 2)
        crashed_at = crash_image(database, tmp_path)
        handler.ctx.send_event(HumanResponseEvent(response="Ann"))
        assert await handler == "Ann"
        uninterrupted = await store.read_stream("a")
    async with SqliteStore(crashed_at) as crashed:
        stored = stored_events(await crashed.read_stream("a"))
        if durability == "exit":
            # Only the waiting checkpoint was written, with what was streamed before it.
            assert [type(e) for e in stored] == [Said]
        else:  # the re-run's first two writes are stored: neither is stored again
            assert [type(e) for e in stored] == [Said, InputRequiredEvent]
        again = Asks(crashed, durability)
        resumed_handler = await again.resume("a")
        await until_asked(resumed_handler)
        resumed_handler.ctx.send_event(HumanResponseEvent(response="Ann"))
        assert await resumed_handler == "Ann"
        resumed = await crashed.read_stream("a")
    assert again.asked == 1
    assert [type(e) for e in stored_events(resumed)] == [
        Said,
        InputRequiredEvent,
        Said,
        StopEvent,
    ]
    assert [(e.seq, e.key, e.data) for e in resumed] == [
        (e.seq, e.key, e.data) for e in uninterrupted
    ]


class Talks(Workflow):
    def __init__(self, store: RunStore, release: asyncio.Event) -> None:
        super().__init__(store=store, timeout=None)
        self.release = release

    @step
    async def talk(self, ctx: Context, ev: StartEvent) -> StopEvent:
        for n in range(3):
            ctx.write_event_to_stream(Said(n=n, part=0))
        await self.release.wait()
        return StopEvent(result="said")


async def test_a_streaming_step_never_waits_for_the_store() -> None:
    watched = WatchedStore(MemoryStore())
    release = asyncio.Event()
    flow = Talks(watched, release)
    handler = flow.run(run_id="t")
    stream = handler.stream_events()
    await anext(stream)  # the run is in the store: create_run does not pass the gate
    watched.gate.clear()  # from now on, no write reaches the store
    seen = [await anext(stream) for _ in range(2)]
    # The three writes reached the stream while none of them could be stored.
    assert [e.n for e in seen if isinstance(e, Said)] == [1, 2]
    release.set()
    watched.gate.set()
    assert await handler == "said"
    stored = stored_events(await watched.read_stream("t"))
    assert [type(e) for e in stored] == [Said, Said, Said, StopEvent]


async def test_a_failed_stream_write_fails_the_run() -> None:
    watched = WatchedStore(MemoryStore())
    watched.fail_on = "talk@0"  # the lineage of the step's stream entries
    flow = Talks(watched, asyncio.Event())  # never released: only the failure ends it
    with pytest.raises(StoreWriteError, match="the disk is full"):
        await flow.run(run_id="t")
    info = await watched.get_run("t")
    assert info is not None
    assert info.status == "running"  # nothing more was written
    assert await watched.read_stream("t") == []


class ImagedAtStore(NotingStore):
    """A NotingStore that takes a crash image (`crashed`) right after the first write that
    stores an entry `at` holds for, before anything else can reach the store."""

    def __init__(self, path: Path, at: Callable[[Event], bool]) -> None:
        super().__init__(path)
        self.path = path
        self.at = at
        self.crashed: Path | None = None

    async def write(
        self,
        run_id: str,
        records: Sequence[JournalRecord] = (),
        *,
        status: RunStatus | None = None,
        result: str | None = None,
        checkpoint: Checkpoint | None = None,
        stream: Sequence[StreamEntry] = (),
    ) -> None:
        await super().write(
            run_id, records, status=status, result=result, checkpoint=checkpoint, stream=stream
        )
        if self.crashed is None and any(map(self.at, stored_events(list(stream)))):
            self.crashed = crash_image(self.path, self.path.parent)


class TalksAroundAWait(Workflow):
    """`talk` writes Said(0, 0), waits for `release`, writes Said(0, 1) and ends."""

    def __init__(self, store: RunStore, release: asyncio.Event) -> None:
        super().__init__(store=store, timeout=None)
        self.release = release

    @step
    async def talk(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.write_event_to_stream(Said(n=0, part=0))
        await self.release.wait()
        ctx.write_event_to_stream(Said(n=0, part=1))
        return StopEvent(result="said")


def stopped_running(event: Event) -> bool:
    return isinstance(event, StepStateChanged) and event.step_state is StepState.NOT_RUNNING


async def test_a_step_state_stored_as_its_step_was_cancelled_drops_no_write_of_its_re_run(
    tmp_path: Path,
) -> None:
    """The NOT_RUNNING a cancelled execution reports is stored, and the execution runs again
    on resume: it is not one of the execution's own writes, which the re-run skips as many
    of as were stored before, so the re-run's Said(0, 1) is stored all the same."""
    async with ImagedAtStore(tmp_path / "runs.db", stopped_running) as store:
        first = TalksAroundAWait(store, asyncio.Event())  # never released: cancelled
        handler = first.run(run_id="c")
        async for event in handler.stream_events(expose_internal=True):
            if isinstance(event, Said):
                break
        await store.until(lambda stored: (0, 0) in said(stored))
        await handler.cancel_run()
    assert store.crashed is not None
    async with SqliteStore(store.crashed) as crashed:
        before = stored_events(await crashed.read_stream("c"))
        assert [type(e) for e in before] == [StepStateChanged, Said, StepStateChanged]
        assert stopped_running(before[-1])  # the run was not ended yet: it is resumed
        release = asyncio.Event()
        release.set()
        resumed = await TalksAroundAWait(crashed, release).resume("c")
        live = [event async for event in resumed.stream_events(expose_internal=True)]
        assert await resumed == "said"
        after = await crashed.read_stream("c")
    assert [(e.n, e.part) for e in live if isinstance(e, Said)] == [(0, 0), (0, 1)]
    assert said(after) == [(0, 0), (0, 1)]  # Said(0, 0) once, and the re-run's Said(0, 1)
    assert [entry.seq for entry in after] == list(range(len(after)))
    assert isinstance(stored_events(after)[-1], StopEvent)


class Work(Event):
    pass


class AsksByReturning(Workflow):
    """`begin` returns a question (LlamaIndex's human in the loop: `reply` takes the
    answer) and sends `work` an event, which writes Said(1, 0) once `release` is set."""

    def __init__(self, store: RunStore, durability: Durability, release: asyncio.Event) -> None:
        super().__init__(store=store, timeout=None, durability=durability)
        self.release = release
        self.began = 0

    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent | Work:
        self.began += 1
        ctx.send_event(Work())
        return InputRequiredEvent(prefix="name?")

    @step
    async def work(self, ctx: Context, ev: Work) -> None:
        await self.release.wait()
        ctx.write_event_to_stream(Said(n=1, part=0))

    @step
    async def reply(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)


async def stream_answering(handler: Any, answer: str) -> list[Event]:
    """Every event `handler` streams; `answer` is sent once `Said` has come, so that the
    run does not end before the resumed `work` streams."""
    events: list[Event] = []
    async for event in handler.stream_events():
        events.append(event)
        if isinstance(event, Said):
            handler.ctx.send_event(HumanResponseEvent(response=answer))
    return events


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_a_resumed_run_streams_its_unanswered_returned_question_again_first(
    tmp_path: Path, durability: Durability
) -> None:
    database = tmp_path / "runs.db"
    async with NotingStore(database) as store:
        first = AsksByReturning(store, durability, asyncio.Event())
        handler = first.run(run_id="q")
        await until_asked(handler)
        if durability != "exit":  # the question is stored behind the run: let it be
            await store.until(lambda stored: len(stored) == 1)
        crashed_at = crash_image(database, tmp_path)
        await handler.cancel_run()
    async with SqliteStore(crashed_at) as crashed:
        again = AsksByReturning(crashed, durability, asyncio.Event())
        again.release.set()
        resumed = await again.resume("q")
        streamed = await stream_answering(resumed, "Ann")
        assert await resumed == "Ann"
        stored = stored_events(await crashed.read_stream("q"))
    if durability == "exit":
        # Nothing was written since the start, so the run began again and asked anew.
        assert again.began == 1
        assert [type(e) for e in streamed][-1] is StopEvent
        assert sum(isinstance(e, InputRequiredEvent) for e in streamed) == 1
        return
    # The step that asked completed before the crash: it did not run again, yet the
    # question, still unanswered, is streamed again, once and before anything new.
    assert again.began == 0
    assert [type(e) for e in streamed] == [InputRequiredEvent, Said, StopEvent]
    assert isinstance(streamed[0], InputRequiredEvent)
    assert streamed[0].prefix == "name?"
    # The store held it already: it is not stored twice.
    assert [type(e) for e in stored] == [InputRequiredEvent, Said, StopEvent]


async def test_an_exit_run_waiting_on_its_returned_question_streams_it_again_on_resume(
    tmp_path: Path,
) -> None:
    database = tmp_path / "runs.db"
    release = asyncio.Event()
    release.set()  # `work` is done before the run waits: the run checkpoints its question
    async with SqliteStore(database) as inner:
        store = WatchedStore(inner)
        first = AsksByReturning(store, "exit", release)
        handler = first.run(run_id="q")
        events = []
        async for event in handler.stream_events():
            events.append(event)
            if len(events) == 2:
                break
        assert {type(e) for e in events} == {InputRequiredEvent, Said}
        await store.until_status("waiting")
        crashed_at = crash_image(database, tmp_path)
        await handler.cancel_run()
    async with SqliteStore(crashed_at) as crashed:
        again = AsksByReturning(crashed, "exit", release)
        resumed = await again.resume("q")
        resumed.ctx.send_event(HumanResponseEvent(response="Ann"))  # a reply that came in
        streamed = [event async for event in resumed.stream_events()]
        assert await resumed == "Ann"
    assert again.began == 0  # resumed from the waiting checkpoint, after the question
    assert [type(e) for e in streamed] == [InputRequiredEvent, StopEvent]
