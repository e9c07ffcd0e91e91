"""Resource injection: sync and async factories, per-run caching, factories taking ctx."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Annotated
from unittest.mock import ANY

import pytest

from agentflow import Context, Workflow, step
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.resource import Resource, ResourceManager

serial = itertools.count()


class Client:
    def __init__(self, label: str) -> None:
        self.label = label
        self.number = next(serial)


def make_client() -> Client:
    return Client("sync")


async def make_async_client() -> Client:
    await asyncio.sleep(0)
    return Client("async")


async def make_client_from_context(ctx: Context) -> Client:
    return Client(await ctx.store.get("label", default="none"))


class Ping(Event):
    pass


class ResourceWorkflow(Workflow):
    @step
    async def first(
        self,
        ctx: Context,
        ev: StartEvent,
        client: Annotated[Client, Resource(make_client)],
        fresh: Annotated[Client, Resource(make_async_client, cache=False)],
    ) -> Ping:
        await ctx.store.set("first", (client.number, fresh.number))
        await ctx.store.set("label", "from ctx")
        return Ping()

    @step
    async def second(
        self,
        ctx: Context,
        ev: Ping,
        client: Annotated[Client, Resource(make_client)],
        fresh: Annotated[Client, Resource(make_async_client, cache=False)],
        contextual: Annotated[Client, Resource(make_client_from_context)],
    ) -> StopEvent:
        first_client, first_fresh = await ctx.store.get("first")
        return StopEvent(
            result={
                "same cached client": first_client == client.number,
                "fresh differs": first_fresh != fresh.number,
                "labels": (client.label, fresh.label, contextual.label),
            }
        )


async def test_resources_are_injected_cached_per_run_or_made_per_execution() -> None:
    assert await ResourceWorkflow().run() == {
        "same cached client": True,
        "fresh differs": True,
        "labels": ("sync", "async", "from ctx"),
    }


class Cached(Workflow):
    @step
    async def only(
        self, ev: StartEvent, client: Annotated[Client, Resource(make_client)]
    ) -> StopEvent:
        return StopEvent(result=client.number)


async def test_a_cached_resource_lives_as_long_as_its_workflow_instance() -> None:
    workflow = Cached()
    first, second = await workflow.run(), await workflow.run()
    assert first == second
    assert await Cached().run() != first
    assert workflow.resource_manager.get_all() == {"make_client": ANY}


async def test_workflows_given_one_resource_manager_share_its_resources() -> None:
    manager = ResourceManager()
    assert (
        await Cached(resource_manager=manager).run() == await Cached(resource_manager=manager).run()
    )
    await manager.set("make_client", Client("fake"))
    assert await Cached(resource_manager=manager).run() == manager.resources["make_client"].number


class PerRunFromContext(Workflow):
    @step
    async def only(
        self, ev: StartEvent, client: Annotated[Client, Resource(make_client_from_context)]
    ) -> StopEvent:
        return StopEvent(result=client.number)


async def test_a_factory_taking_the_context_is_cached_per_run() -> None:
    workflow = PerRunFromContext()
    assert await workflow.run() != await workflow.run()
    assert workflow.resource_manager.get_all() == {}


calls = 0


async def slow_factory() -> Client:
    global calls
    calls += 1
    await asyncio.sleep(0)  # suspends, so the other workers ask while this one is made
    return Client("slow")


class Part(Event):
    index: int


class ConcurrentFirstUse(Workflow):
    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Part | None:
        for index in range(4):
            ctx.send_event(Part(index=index))
        return None

    @step(num_workers=4)
    async def use(self, ev: Part, client: Annotated[Client, Resource(slow_factory)]) -> Ping:
        return Ping(number=client.number)

    @step
    async def join(self, ctx: Context, ev: Ping) -> StopEvent | None:
        pings = ctx.collect_events(ev, Ping, count=4)
        return None if pings is None else StopEvent(result={p.number for p in pings})


async def test_concurrent_first_requests_share_one_factory_call() -> None:
    global calls
    calls = 0
    numbers = await ConcurrentFirstUse().run()
    assert len(numbers) == 1
    assert calls == 1


def broken_factory() -> Client:
    raise ConnectionError("database unreachable")


class BrokenResource(Workflow):
    @step
    async def only(
        self, ev: StartEvent, client: Annotated[Client, Resource(broken_factory)]
    ) -> StopEvent:
        return StopEvent()


async def test_a_failing_factory_fails_the_step_that_needed_it() -> None:
    with pytest.raises(ConnectionError, match="unreachable") as raised:
        await BrokenResource().run()
    assert "raised in step 'only' of workflow BrokenResource" in raised.value.__notes__


class SyncStepWithResource(Workflow):
    @step
    def only(self, ev: StartEvent, client: Annotated[Client, Resource(make_client)]) -> StopEvent:
        return StopEvent(result=client.label)


async def test_sync_steps_receive_resources_too() -> None:
    assert await SyncStepWithResource().run() == "sync"


flaky_attempts: list[int] = []


def flaky() -> Client:
    flaky_attempts.append(1)
    if len(flaky_attempts) == 1:
        raise ConnectionError("first call fails")
    return Client("second call")


class Flaky(Workflow):
    @step
    async def only(self, ev: StartEvent, client: Annotated[Client, Resource(flaky)]) -> StopEvent:
        return StopEvent(result=client.label)


async def test_a_failed_factory_is_called_again_by_the_next_run() -> None:
    flaky_attempts.clear()
    workflow = Flaky()
    with pytest.raises(ConnectionError):
        await workflow.run()
    assert await workflow.run() == "second call"
    assert await workflow.run() == "second call"
    assert len(flaky_attempts) == 2


def test_resource_needs_a_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        Resource("not callable")  # type: ignore[arg-type]


class Gate:
    """Lets a test hold a factory call open until it says so."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.asked = 0
        self.second_asks = asyncio.Event()
        self.calls = 0


gate = Gate()


def ask() -> int:
    """Made just before the gated resource: once it ran for the second run, that run's
    step waits on the first run's factory call (nothing suspends in between)."""
    gate.asked += 1
    if gate.asked == 2:
        gate.second_asks.set()
    return gate.asked


async def gated_factory() -> Client:
    gate.calls += 1
    gate.entered.set()
    await gate.release.wait()
    return Client("gated")


class Gated(Workflow):
    @step
    async def only(
        self,
        ev: StartEvent,
        asked: Annotated[int, Resource(ask, cache=False)],
        client: Annotated[Client, Resource(gated_factory)],
    ) -> StopEvent:
        return StopEvent(result=client.label)


async def test_a_run_waiting_on_a_resource_whose_maker_was_cancelled_makes_it_itself() -> None:
    global gate
    gate = Gate()
    workflow = Gated()
    first = workflow.run()
    await gate.entered.wait()
    second = workflow.run()
    await gate.second_asks.wait()
    await first.cancel_run()
    gate.release.set()
    assert await second == "gated"
    assert gate.calls == 2
    assert list(workflow.resource_manager.get_all()) == ["gated_factory"]


class TimedWithResource(Workflow):
    @step(timeout=30)
    async def only(
        self, ev: StartEvent, client: Annotated[Client, Resource(make_client)]
    ) -> StopEvent:
        return StopEvent(result=client.label)


async def test_a_step_with_a_timeout_receives_its_resources() -> None:
    assert await TimedWithResource().run() == "sync"


def labelled(label: str) -> Callable[[], str]:
    """Factories sharing one qualified name (`labelled.<locals>.make`), each its own."""

    def make() -> str:
        return label

    return make


def labelled_for_run(label: str) -> Callable[[Context], str]:
    def make(ctx: Context) -> str:
        return label

    return make


class SameNamedFactories(Workflow):
    @step
    async def first(
        self, ctx: Context, ev: StartEvent, a: Annotated[str, Resource(labelled("a"))]
    ) -> Ping:
        await ctx.store.set("first", a)
        return Ping()

    @step
    async def second(
        self,
        ctx: Context,
        ev: Ping,
        b: Annotated[str, Resource(labelled("b"))],
        fresh_c: Annotated[str, Resource(labelled("c"), cache=False)],
        fresh_d: Annotated[str, Resource(labelled("d"), cache=False)],
        run_e: Annotated[str, Resource(labelled_for_run("e"))],
        run_f: Annotated[str, Resource(labelled_for_run("f"))],
        one: Annotated[int, Resource(lambda: 1)],
        two: Annotated[int, Resource(lambda: 2)],
    ) -> StopEvent:
        first = await ctx.store.get("first")
        return StopEvent(result=(first, b, fresh_c, fresh_d, run_e, run_f, one, two))


async def test_factories_sharing_a_qualified_name_each_make_their_own_value() -> None:
    workflow = SameNamedFactories()
    assert await workflow.run() == ("a", "b", "c", "d", "e", "f", 1, 2)
    assert await workflow.run() == ("a", "b", "c", "d", "e", "f", 1, 2)
    # By name, as the reference's API has it: a name's value is the one made last.
    assert set(workflow.resource_manager.get_all()) == {
        "labelled.<locals>.make",
        "<lambda>",
    }


async def test_a_value_set_by_name_replaces_every_factory_of_that_name() -> None:
    manager = ResourceManager()
    await manager.set("labelled.<locals>.make", "fake")
    assert await SameNamedFactories(resource_manager=manager).run() == (
        *("fake", "fake", "c", "d", "e", "f"),
        *(1, 2),
    )


class Unhashable:
    """A callable factory that cannot be a dict key (it defines `__eq__` only)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unhashable) and other.label == self.label

    def __call__(self) -> str:
        return self.label


class UnhashableFactories(Workflow):
    @step
    async def only(
        self,
        ev: StartEvent,
        a: Annotated[str, Resource(Unhashable("a"))],
        b: Annotated[str, Resource(Unhashable("b"), cache=False)],
    ) -> StopEvent:
        return StopEvent(result=(a, b))


async def test_an_unhashable_callable_is_a_factory_too() -> None:
    workflow = UnhashableFactories()
    assert await workflow.run() == ("a", "b")
    assert workflow.resource_manager.get_all() == {"Unhashable": "a"}
