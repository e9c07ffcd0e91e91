"""What a durable run does when its store misbehaves or a caller's event is refused: the run
fails loudly with a named error and its end is stored where the store can take it; a caller
waiting on a record is never cancelled by someone else's cancellation; a retried step's
`ctx.once` is not called again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest
from watched_store import WatchedStore

from agentflow import Context, Workflow, step
from agentflow.errors import RecordTooLargeError, RunExistsError, StoreWriteError
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.retry_policy import ConstantDelayRetryPolicy
from agentflow.stores import MemoryStore
from agentflow.stores.base import JournalRecord, RunStatus, RunStore

pytestmark = pytest.mark.timeout(20)


class Ping(Event):
    pass


class Idle(Workflow):
    """Idle after its start until a caller sends a Ping."""

    @step
    async def start(self, ev: StartEvent) -> None:
        return None

    @step(skip_graph_checks=["reachability"])
    async def pong(self, ev: Ping) -> StopEvent:
        return StopEvent(result="pong")


async def test_a_caller_waiting_on_its_send_is_not_cancelled_when_the_run_is() -> None:
    """The caller and the worker that routes the event wait on the same record; cancelling
    the run stops the worker, and must not cancel the caller's wait with it."""
    store = WatchedStore(MemoryStore())
    handler = Idle(store=store, timeout=None).run(run_id="r")
    await handler.stored()
    await store.until_status("waiting")
    store.gate.clear()  # the next write is held, as on a slow disk
    sending = asyncio.create_task(handler.send_event_confirmed(Ping()))
    cancelling = asyncio.create_task(handler.cancel_run())
    await asyncio.wait([cancelling], timeout=0)  # both have started
    store.gate.set()
    await cancelling
    assert await sending in (True, False)  # answered, not cancelled
    info = await store.get_run("r")
    assert info is not None
    assert info.status in ("cancelled", "completed")


class RaisesOSError(MemoryStore):
    """A store of the user's that raises its own errors, not the store contract's."""

    def __init__(self, on: str) -> None:
        super().__init__()
        self.on = on

    async def write(
        self,
        run_id: str,
        records: Sequence[JournalRecord] = (),
        *,
        status: RunStatus | None = None,
        **options: Any,
    ) -> None:
        if self.on == "record" and any(record.key == "a@0" for record in records):
            raise OSError("disk on fire")
        if self.on == "end" and status == "completed":
            raise OSError("disk on fire")
        await super().write(run_id, records, status=status, **options)


class Mid(Event):
    pass


class Chain(Workflow):
    @step
    async def a(self, ev: StartEvent) -> Mid:
        return Mid()

    @step
    async def b(self, ev: Mid) -> StopEvent:
        return StopEvent(result="done")


@pytest.mark.parametrize(
    ("on", "durability"), [("record", "sync"), ("record", "async"), ("end", "sync")]
)
async def test_a_store_raising_its_own_error_fails_the_run_with_a_store_error(
    on: str, durability: Any
) -> None:
    store = RaisesOSError(on)
    with pytest.raises(StoreWriteError, match="disk on fire") as raised:
        await Chain(store=store, timeout=None, durability=durability).run(run_id="r")
    assert isinstance(raised.value.__cause__, OSError)


class BigState(Workflow):
    @step
    async def a(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.store.set("notes", "n" * 5_000)
        return StopEvent(result="kept")


async def test_a_completion_record_over_the_limit_fails_the_run_naming_the_step(
    open_store: Any,
) -> None:
    """Not the store's write failing (which writes nothing more, leaving the run `running`
    to be resumed into the same failure): the run is refused, and its end is stored."""
    async with open_store(max_record_bytes=1_000) as store:
        with pytest.raises(RecordTooLargeError) as raised:
            await BigState(store=store, timeout=None).run(run_id="big")
        message = str(raised.value)
        assert "step 'a'" in message
        assert "state" in message
        info = await store.get_run("big")
        assert info is not None
        assert info.status == "failed"


class Asker(Workflow):
    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        answer = await ctx.wait_for_event(HumanResponseEvent, waiter_event=InputRequiredEvent())
        return StopEvent(result=answer.response)


async def test_an_answer_over_the_limit_is_refused_to_its_caller_and_the_run_goes_on() -> None:
    store = MemoryStore(max_record_bytes=1_000)
    handler = Asker(store=store, timeout=None).run(run_id="r")
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    with pytest.raises(RecordTooLargeError, match="the caller made a HumanResponseEvent"):
        await handler.send_event_confirmed(HumanResponseEvent(response="x" * 5_000))
    assert await handler.send_event_confirmed(HumanResponseEvent(response="short")) is True
    assert await handler == "short"


CHARGES: list[str] = []


class Pays(Workflow):
    @step(retry_policy=ConstantDelayRetryPolicy(delay=0, maximum_attempts=3))
    async def pay(self, ctx: Context, ev: StartEvent) -> StopEvent:
        receipt = await ctx.once("charge", charge, "order-1")
        attempts = await ctx.store.get("attempts", 0)
        await ctx.store.set("attempts", attempts + 1)
        if attempts < 2:
            raise RuntimeError("the receipt printer jammed")
        return StopEvent(result=receipt)


async def charge(order: str) -> str:
    CHARGES.append(order)
    return f"receipt for {order}"


async def test_a_retried_step_gets_its_once_result_back_without_calling_it_again(
    store: RunStore,
) -> None:
    CHARGES.clear()
    assert await Pays(store=store, timeout=None).run(run_id="p") == "receipt for order-1"
    assert CHARGES == ["order-1"]


async def test_a_run_id_already_taken_is_refused_with_no_note_about_a_failed_write() -> None:
    store = MemoryStore()
    await Chain(store=store, timeout=None).run(run_id="taken")
    with pytest.raises(RunExistsError) as raised:
        await Chain(store=store, timeout=None).run(run_id="taken")
    assert not getattr(raised.value, "__notes__", [])
    assert json.loads((await store.get_run("taken")).result or "")["result"]  # type: ignore[union-attr]
