"""`WorkflowHandler.send_event_confirmed`: an event sent from outside, returned once the run
holds it; for a durable run, once its `sent` record is in the store (the server acknowledges
`POST /events` only then)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import RunExistsError, WorkflowCancelledByUser
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


@pytest.mark.parametrize("durability", ["sync", "async"])
async def test_a_durable_send_returns_once_its_record_is_written(durability: Any) -> None:
    """Also with `durability="async"`, which routes the event before its record is written:
    the caller still learns when the record is durable."""
    store = GatedStore()
    handler = Asker(timeout=None, store=store, durability=durability).run(run_id="r1")
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


async def test_with_durability_exit_the_send_is_confirmed_once_folded() -> None:
    """`"exit"` writes nothing per event: the send is confirmed once the run holds it."""
    handler = Asker(timeout=None, store=MemoryStore(), durability="exit").run(run_id="r2")
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    assert await handler.send_event_confirmed(HumanResponseEvent(response="e")) is True
    assert await handler == "e"


async def test_in_memory_the_event_is_routed_at_once() -> None:
    handler = Asker(timeout=None).run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    assert await handler.send_event_confirmed(HumanResponseEvent(response="y")) is True
    assert await handler == "y"
    assert await handler.send_event_confirmed(HumanResponseEvent(response="z")) is False


class GatedCreateStore(MemoryStore):
    """Holds `create_run` until `gate` is set; `entered` tells it began."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def create_run(self, *args: Any, **kw: Any) -> Any:
        self.entered.set()
        await self.gate.wait()
        return await super().create_run(*args, **kw)


async def test_stored_returns_once_the_run_is_in_the_store() -> None:
    store = GatedCreateStore()
    handler = Asker(timeout=None, store=store).run(run_id="r2")
    storing = asyncio.create_task(handler.stored())
    await store.entered.wait()
    assert not storing.done()
    store.gate.set()
    assert await storing is True
    assert (await store.get_run("r2")) is not None
    await handler.cancel_run()
    with pytest.raises(WorkflowCancelledByUser):
        await handler


async def test_stored_is_false_when_the_store_refuses_the_run() -> None:
    store = MemoryStore()
    await store.create_run("taken", "elsewhere:Flow", None)
    handler = Asker(timeout=None, store=store).run(run_id="taken")
    assert await handler.stored() is False
    with pytest.raises(RunExistsError):
        await handler
    in_memory = Asker(timeout=None).run()
    assert await in_memory.stored() is True
    await in_memory.cancel_run()
    with pytest.raises(WorkflowCancelledByUser):
        await in_memory
