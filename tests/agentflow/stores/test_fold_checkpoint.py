"""A durable run's checkpoint (the fold's `to_json`) holds each pending event exactly as
the journal record that brought it in wrote it, so that a resume from the checkpoint and a
resume from the records see the same event."""

from __future__ import annotations

import json

from agentflow import Context, Workflow, step
from agentflow.context.serializers import JsonSerializer
from agentflow.durable.fold import Fold
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.runtime.step_table import step_table_of


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
