"""Factories that take resources: resolution order, what is shared, and cycles."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import ResourceCycleError, ResourceError
from agentflow.events import StartEvent, StopEvent
from agentflow.resource import Resource, ResourceManager

made: list[str] = []


def make_settings() -> dict[str, str]:
    made.append("settings")
    return {"url": "sqlite://"}


async def make_pool(settings: Annotated[dict[str, str], Resource(make_settings)]) -> str:
    made.append("pool")
    return f"pool of {settings['url']}"


def make_request_id() -> object:
    made.append("request id")
    return object()


def make_session(
    pool: Annotated[str, Resource(make_pool)],
    request_id: Annotated[object, Resource(make_request_id, cache=False)],
) -> tuple[str, object]:
    made.append("session")
    return pool, request_id


class Sessions(Workflow):
    @step
    async def only(
        self,
        ev: StartEvent,
        session: Annotated[tuple[str, object], Resource(make_session, cache=False)],
        request_id: Annotated[object, Resource(make_request_id, cache=False)],
    ) -> StopEvent:
        return StopEvent(result=(session[0], session[1] is request_id))


async def test_a_factory_gets_its_resources_made_first_and_uncached_ones_shared_in_a_step() -> None:
    made.clear()
    workflow = Sessions()
    assert await workflow.run() == ("pool of sqlite://", True)
    assert made == ["settings", "pool", "request id", "session"]
    assert await workflow.run() == ("pool of sqlite://", True)
    assert made[4:] == ["request id", "session"]


def make_label(ctx: Context) -> str:
    return f"run of {type(ctx.workflow).__name__}"


def make_greeting(label: Annotated[str, Resource(make_label)]) -> object:
    return object()


class ThroughContext(Workflow):
    @step
    async def only(
        self, ev: StartEvent, greeting: Annotated[object, Resource(make_greeting)]
    ) -> StopEvent:
        return StopEvent(result=greeting)


async def test_a_resource_needing_a_context_taking_one_is_kept_per_run_too() -> None:
    workflow = ThroughContext()
    assert await workflow.run() is not await workflow.run()
    with pytest.raises(ResourceError, match="'make_greeting' takes the run's Context"):
        await ResourceManager().get(Resource(make_greeting))


def make_a(b: Annotated[str, Resource(make_b)]) -> str:
    return "a"


def make_b(c: Annotated[str, Resource(make_c)]) -> str:
    return "b"


def make_c(a: Annotated[str, Resource(make_a)]) -> str:
    return "c"


def make_self(again: Annotated[str, Resource(make_self)]) -> str:
    return "self"


class Cycle(Workflow):
    @step
    async def only(self, ev: StartEvent, a: Annotated[str, Resource(make_a)]) -> StopEvent:
        return StopEvent(result=a)


async def test_a_dependency_cycle_fails_the_step_naming_the_cycle_and_its_parameters() -> None:
    with pytest.raises(ResourceCycleError) as raised:
        await Cycle().run()
    assert str(raised.value).startswith(
        "Circular resource dependency detected: make_a -> make_b -> make_c -> make_a "
        "(through make_a's parameter 'b', make_b's parameter 'c', make_c's parameter 'a')"
    )
    assert isinstance(raised.value, ValueError)
    assert "raised in step 'only' of workflow Cycle" in raised.value.__notes__


async def test_a_factory_needing_itself_is_a_cycle_of_one() -> None:
    with pytest.raises(ResourceCycleError, match="detected: make_self -> make_self "):
        await ResourceManager().get(Resource(make_self))


def needs_a_port(port: int) -> str:
    return f"localhost:{port}"


def unresolvable(thing: Annotated[Any, "not a resource"]) -> str:
    return "never"


@pytest.mark.parametrize(
    ("factory", "why"),
    [
        (needs_a_port, "it is neither Annotated[T, Resource(...)] nor the run's Context"),
        (unresolvable, "holds no Resource or ResourceConfig"),
    ],
)
async def test_a_factory_parameter_nothing_can_fill_is_named(factory: Any, why: str) -> None:
    with pytest.raises(ResourceError) as raised:
        await ResourceManager().get(Resource(factory))
    message = str(raised.value)
    assert message.startswith(f"resource factory '{factory.__name__}': parameter ")
    assert why in message
    assert message.endswith("and it has no default")


class Pool:
    def __init__(self, settings: Annotated[dict[str, str], Resource(make_settings)]) -> None:
        self.url = settings["url"]


async def test_a_class_is_a_factory_whose_init_takes_resources() -> None:
    assert (await ResourceManager().get(Resource(Pool))).url == "sqlite://"
