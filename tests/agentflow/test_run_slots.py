"""`Workflow(num_concurrent_runs=n)`: at most n runs of one instance at once, the others
waiting in order (the reference's own outcome is checked in test_llamaindex_compat_names.py)."""

from __future__ import annotations

import asyncio

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import WorkflowCancelledByUser, WorkflowValidationError
from agentflow.events import StartEvent, StopEvent
from agentflow.stores import MemoryStore


class Gated(Workflow):
    """Each run records its start, then waits until the test opens its gate."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.started: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    @step
    async def work(self, ev: StartEvent) -> StopEvent:
        self.started.append(ev.name)
        gate = self.gates.get(ev.name)
        if gate is not None:
            await gate.wait()
        if ev.get("fail"):
            raise ValueError(f"run {ev.name} failed")
        return StopEvent(result=ev.name)


async def test_a_run_cancelled_while_it_waits_never_starts_and_the_next_gets_the_slot() -> None:
    flow = Gated(num_concurrent_runs=1)
    flow.gates["a"] = asyncio.Event()
    first = flow.run(name="a")
    queued = flow.run(name="b")
    third = flow.run(name="c")
    await queued.cancel_run()
    with pytest.raises(WorkflowCancelledByUser):
        await queued
    flow.gates["a"].set()
    assert await asyncio.gather(first, third) == ["a", "c"]
    assert flow.started == ["a", "c"]


async def test_a_run_cancelled_while_it_waits_keeps_its_start_for_its_context() -> None:
    flow = Gated(num_concurrent_runs=1)
    flow.gates["a"] = asyncio.Event()
    first = flow.run(name="a")
    ctx: Context = Context(flow)
    queued = flow.run(ctx=ctx, name="b")
    await queued.cancel_run()
    with pytest.raises(WorkflowCancelledByUser):
        await queued
    flow.gates["a"].set()
    assert await first == "a"
    assert ctx.has_unfinished_run
    assert await flow.run(ctx=ctx) == "b"


async def test_a_failed_run_gives_its_slot_back() -> None:
    flow = Gated(num_concurrent_runs=1)
    flow.gates["a"] = asyncio.Event()
    failing = flow.run(name="a", fail=True)
    queued = flow.run(name="b")
    flow.gates["a"].set()
    with pytest.raises(ValueError, match="run a failed"):
        await failing
    assert await queued == "b"


async def test_the_timeout_counts_from_the_start_not_from_the_wait() -> None:
    # Six runs of 0.1 s each, one at a time: the last waits longer than the 0.5 s timeout
    # before it starts, and still ends well within it once started.
    class Pause(Workflow):
        @step
        async def pause(self, ev: StartEvent) -> StopEvent:
            await asyncio.sleep(0.1)
            return StopEvent(result=ev.n)

    flow = Pause(timeout=0.5, num_concurrent_runs=1)
    assert await asyncio.gather(*(flow.run(n=n) for n in range(6))) == list(range(6))


async def test_two_slots_run_two_at_once() -> None:
    flow = Gated(num_concurrent_runs=2)
    for name in "ab":
        flow.gates[name] = asyncio.Event()
    handlers = [flow.run(name=name) for name in "abc"]
    flow.gates["b"].set()
    assert await handlers[1] == "b"  # ran while "a" held the other slot
    assert await handlers[2] == "c"  # got "b"'s slot while "a" still holds its own
    flow.gates["a"].set()
    assert await handlers[0] == "a"


def test_one_instance_queues_runs_on_one_event_loop_after_another() -> None:
    flow = Gated(num_concurrent_runs=1)

    async def two_runs() -> list[str]:
        flow.gates["a"] = asyncio.Event()
        first, second = flow.run(name="a"), flow.run(name="b")
        flow.gates["a"].set()
        return list(await asyncio.gather(first, second))

    assert asyncio.run(two_runs()) == ["a", "b"]
    assert asyncio.run(two_runs()) == ["a", "b"]


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_a_limit_that_is_not_a_positive_int_is_refused(bad: object) -> None:
    with pytest.raises(WorkflowValidationError, match="num_concurrent_runs"):
        Gated(num_concurrent_runs=bad)


def test_a_limit_with_a_store_is_refused_naming_both() -> None:
    with pytest.raises(WorkflowValidationError, match=r"num_concurrent_runs.*store"):
        Gated(num_concurrent_runs=1, store=MemoryStore())


def test_the_limit_reads_back() -> None:
    assert Gated(num_concurrent_runs=3).num_concurrent_runs == 3
    assert Gated().num_concurrent_runs is None
