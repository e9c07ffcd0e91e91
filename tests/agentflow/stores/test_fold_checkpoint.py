"""What a durable run writes for a fan-out: each checkpoint holds a pending event exactly
as the journal record that brought it in wrote it (so that a resume from the checkpoint and
one from the records see the same event), a run with many pending events does not write them
over and over, and executions with nothing to route share their commits."""

from __future__ import annotations

import json
from collections.abc import Sequence

from agentflow import Context, Workflow, step
from agentflow.context.serializers import JsonSerializer
from agentflow.durable.fold import Fold
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.runtime.step_table import step_table_of
from agentflow.stores import MemoryStore
from agentflow.stores.base import Checkpoint, JournalRecord, RunStatus, StreamEntry


class Order(Event):
    lines: list[str]


class Shop(Workflow):
    @step
    async def take(self, ctx: Context, ev: StartEvent) -> None:
        ctx.send_event(Order(lines=["tea"]))

    @step
    async def ship(self, ev: Order) -> StopEvent:
        return StopEvent(result=ev.lines)


def test_a_checkpoint_holds_a_pending_event_as_its_record_wrote_it() -> None:
    serializer = JsonSerializer()
    table = step_table_of(Shop)
    live = Fold(table, serializer)
    order = Order(lines=["tea"])
    entry = {"id": "1", "value": serializer.serialize(order, "event 1"), "to": ["ship"]}
    live.live["1"] = order  # the live run hands the object itself over, as journal.enter does
    live.apply("sent", None, json.dumps({"event": entry}))
    order.lines.append("cake")  # the sender changes the event after it was journalled

    checkpoint = live.to_json()

    stored = json.loads(checkpoint)["events"]["1"]
    assert serializer.deserialize_at(stored, "checkpointed event") == Order(lines=["tea"])
    resumed = Fold.from_json(checkpoint, table, serializer)
    assert resumed.events["1"] == Order(lines=["tea"])
    assert resumed.deliveries == {("ship", "1"): None}
    # The checkpoint of the resumed fold is the same text again.
    assert json.loads(resumed.to_json())["events"] == {"1": stored}


class CountingStore(MemoryStore):
    """Counts the bytes of the records and of the checkpoints written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.record_bytes = 0
        self.checkpoint_bytes = 0
        self.checkpoints = 0
        self.writes = 0

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
        self.writes += 1
        self.record_bytes += sum(len(record.data) for record in records)
        if checkpoint is not None:
            self.checkpoints += 1
            self.checkpoint_bytes += len(checkpoint.data)
        await super().write(
            run_id, records, status=status, result=result, checkpoint=checkpoint, stream=stream
        )


class Work(Event):
    i: int


class Done(Event):
    i: int


class Fanout(Workflow):
    width = 300

    @step
    async def scatter(self, ctx: Context, ev: StartEvent) -> Work | None:
        for i in range(self.width):
            ctx.send_event(Work(i=i))

    @step(num_workers=8)
    async def work(self, ev: Work) -> Done:
        return Done(i=ev.i)

    @step
    async def gather(self, ctx: Context, ev: Done) -> StopEvent | None:
        collected = ctx.collect_events(ev, Done, count=self.width)
        if collected is None:
            return None
        return StopEvent(result=sum(done.i for done in collected))


async def test_a_fanout_writes_checkpoints_no_bigger_in_all_than_its_records() -> None:
    """A checkpoint holds every pending event; taken every few records while thousands
    are pending, checkpoints would write the same events over and over (quadratic)."""
    store = CountingStore()
    fanout = Fanout(store=store, checkpoint_every=10, timeout=None)

    assert await fanout.run(run_id="fan") == sum(range(Fanout.width))

    assert store.checkpoints >= 1
    assert store.checkpoint_bytes <= 2 * store.record_bytes


class SendsStraightToGather(Workflow):
    width = 300

    @step
    async def scatter(self, ctx: Context, ev: StartEvent) -> Done | None:
        for i in range(self.width):
            ctx.send_event(Done(i=i))
        return None

    @step
    async def gather(self, ctx: Context, ev: Done) -> StopEvent | None:
        collected = ctx.collect_events(ev, Done, count=self.width)
        if collected is None:
            return None
        return StopEvent(result=sum(done.i for done in collected))


async def test_executions_with_nothing_to_route_share_commits() -> None:
    """The collector's executions that only buffer route nothing, so none waits for its
    record to be committed before the next runs: they go out together, not one commit
    (or one per worker) each."""
    store = CountingStore()
    flow = SendsStraightToGather(store=store, timeout=None)

    assert await flow.run(run_id="gather") == sum(range(SendsStraightToGather.width))

    run = await store.load("gather")
    assert run.info.status == "completed"
    assert store.writes <= 10
