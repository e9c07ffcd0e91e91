"""What a durable run cannot journal is refused with an error naming the step and the event
type, and the run fails at once with it (it hung before, the worker's error unseen), on
every store kind. A checkpoint is not held to the record limit: a large fan-out's
checkpoint holds every pending event."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import ContextSerdeError, RecordTooLargeError
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.stores.base import RunStore


class Parcel(Event):
    contents: Any


class Returns(Workflow):
    """Its first step returns the parcel the start event describes."""

    @step
    async def pack(self, ev: StartEvent) -> Parcel:
        return Parcel(contents=threading.Lock() if ev.kind == "lock" else "x" * ev.size)

    @step
    async def ship(self, ev: Parcel) -> StopEvent:
        return StopEvent(result="shipped")


class Sends(Workflow):
    """Its first step sends the parcel with `ctx.send_event` instead of returning it."""

    @step
    async def pack(self, ctx: Context, ev: StartEvent) -> Parcel | None:
        ctx.send_event(Parcel(contents=threading.Lock() if ev.kind == "lock" else "x" * ev.size))
        return None

    @step
    async def ship(self, ev: Parcel) -> StopEvent:
        return StopEvent(result="shipped")


class KeepsALock(Workflow):
    @step
    async def hold(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.store.set("lock", threading.Lock())
        return StopEvent(result="held")


@pytest.mark.parametrize("workflow_type", [Returns, Sends])
async def test_an_event_over_the_limit_fails_the_run_naming_the_step_and_type(
    open_store: Callable[..., RunStore], workflow_type: type[Workflow]
) -> None:
    async with open_store(max_record_bytes=1_000) as store:
        with pytest.raises(RecordTooLargeError) as raised:
            await workflow_type(store=store, timeout=None).run(run_id="big", kind="x", size=5_000)
        message = str(raised.value)
        assert "step 'pack'" in message
        assert "Parcel" in message
        assert "1000 bytes" in message
        info = await store.get_run("big")
        assert info is not None
        assert info.status == "failed"


@pytest.mark.parametrize("workflow_type", [Returns, Sends])
async def test_an_event_the_serializer_cannot_write_fails_the_run_naming_the_step_and_type(
    store: RunStore, workflow_type: type[Workflow]
) -> None:
    with pytest.raises(ContextSerdeError) as raised:
        await workflow_type(store=store, timeout=None).run(run_id="lock", kind="lock", size=0)
    message = str(raised.value)
    assert "step 'pack'" in message
    assert "Parcel" in message
    assert "contents" in message


async def test_a_state_the_serializer_cannot_write_fails_the_run_naming_the_step(
    store: RunStore,
) -> None:
    with pytest.raises(ContextSerdeError, match="step 'hold' left a state"):
        await KeepsALock(store=store, timeout=None).run(run_id="state")


async def test_the_same_event_under_the_limit_goes_through(
    open_store: Callable[..., RunStore],
) -> None:
    async with open_store(max_record_bytes=1_000) as store:
        assert await Returns(store=store, timeout=None).run(kind="x", size=500) == "shipped"


class Scatter(Workflow):
    """Hundreds of items pending at once: the run's checkpoints are far over the limit of
    one record, each record is under it."""

    @step
    async def scatter(self, ctx: Context, ev: StartEvent) -> Parcel | None:
        for n in range(300):
            ctx.send_event(Parcel(contents=f"{n:03}" + "y" * 50))
        await ctx.store.set("sent", 300)
        return None

    @step(num_workers=1)
    async def gather(self, ctx: Context, ev: Parcel) -> StopEvent | None:
        parcels = ctx.collect_events(ev, [Parcel] * 300)
        return None if parcels is None else StopEvent(result=len(parcels))


async def test_a_checkpoint_over_the_record_limit_does_not_fail_the_run(
    open_store: Callable[..., RunStore],
) -> None:
    async with open_store(max_record_bytes=4_000) as store:
        workflow = Scatter(store=store, timeout=None, checkpoint_every=10)
        # Its checkpoints, taken while the 300 parcels are pending, are about 30 kB each.
        assert await workflow.run(run_id="fan") == 300
