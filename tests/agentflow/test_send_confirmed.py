"""`WorkflowHandler.send_event_confirmed`: an event sent from outside, returned once the run
holds it; for a durable run, once its `sent` record is in the store (the server acknowledges
`POST /events` only then)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from agentflow import Context, Workflow, step
from agentflow.events import HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.stores import MemoryStore
from agentflow.stores.base import JournalRecord

pytestmark = pytest.mark.timeout(10)


class Asker(Workflow):
    @step
    async def ask(self, ev: StartEvent, ctx: Context) -> StopEvent:
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="? ")
        )
        return StopEvent(result=answer.response)


class GatedStore(MemoryStore):
    """Holds the write of a `sent` record until `gate` is set; `entered` tells it began."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def write(self, run_id: str, records: Sequence[JournalRecord] = (), **kw: Any) -> None:
        if any(record.kind == "sent" for record in records):
            self.entered.set()
            await self.gate.wait()
        await super().write(run_id, records, **kw)


async def test_a_durable_send_returns_once_its_record_is_written() -> None:
    store = GatedStore()
    handler = Asker(timeout=None, store=store).run(run_id="r1")
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    sending = asyncio.create_task(handler.send_event_confirmed(HumanResponseEvent(response="x")))
    await store.entered.wait()
    assert not sending.done()  # the record's write is under way, held by the store
    store.gate.set()
    assert await sending is True
    stored = await store.load("r1")
    assert [record.kind for record in stored.records].count("sent") == 1
    assert await handler == "x"
    assert await handler.send_event_confirmed(HumanResponseEvent(response="late")) is False


async def test_in_memory_the_event_is_routed_at_once() -> None:
    handler = Asker(timeout=None).run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    assert await handler.send_event_confirmed(HumanResponseEvent(response="y")) is True
    assert await handler == "y"
    assert await handler.send_event_confirmed(HumanResponseEvent(response="z")) is False
