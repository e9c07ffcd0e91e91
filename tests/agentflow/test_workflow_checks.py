"""`Workflow.validate(...)`: the graph, `@catch_error` scopes and resources, checked on demand
with LlamaIndex Workflows' options, result and errors."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel

from agentflow import Context, Workflow, catch_error, step
from agentflow.errors import WorkflowConfigurationError, WorkflowValidationError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
)
from agentflow.resource import Resource, ResourceConfig


class Plain(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()


class Asks(Workflow):
    @step
    async def ask(self, ev: StartEvent) -> InputRequiredEvent:
        return InputRequiredEvent()

    @step
    async def answer(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent()


def test_validate_tells_whether_the_workflow_asks_a_human() -> None:
    assert Plain().validate() is False
    assert Asks().validate() is True


class NoExit(Workflow):
    @step
    async def only(self, ev: StartEvent) -> None:
        return None


class Orphan(Event):
    pass


class Unconsumed(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent | Orphan:
        return StopEvent()


class ScopedTwice(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @catch_error(for_steps=["only"])
    async def first(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

    @catch_error(for_steps=["only"])
    async def second(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()


def test_validate_raises_on_the_graph_and_on_catch_error_scopes() -> None:
    with pytest.raises(WorkflowConfigurationError, match="no step returns a StopEvent"):
        NoExit().validate()
    with pytest.raises(WorkflowValidationError, match="emits Orphan but no step accepts it"):
        Unconsumed().validate()
    with pytest.raises(
        WorkflowValidationError,
        match="Step 'only' is claimed by two @catch_error handlers: 'first' and 'second'",
    ):
        ScopedTwice().validate()


class Threshold(BaseModel):
    threshold: float


# At module level, for the factory's annotation to name it.
SETTINGS = Path(tempfile.gettempdir()) / f"agentflow-validate-settings-{os.getpid()}.json"
made: list[str] = []


def connect(settings: Annotated[Threshold, ResourceConfig(str(SETTINGS))]) -> str:
    made.append("connection")
    return f"connected at {settings.threshold}"


def broken() -> str:
    raise ConnectionError("database unreachable")


def per_run(ctx: Context) -> str:
    made.append("label")  # only in a run: validate has no Context to give it
    return "label"


class Configured(Workflow):
    @step
    async def only(
        self,
        ev: StartEvent,
        db: Annotated[str, Resource(connect)],
        label: Annotated[str, Resource(per_run)],
    ) -> StopEvent:
        return StopEvent(result=db)


class Broken(Workflow):
    @step
    async def only(self, ev: StartEvent, db: Annotated[str, Resource(broken)]) -> StopEvent:
        return StopEvent()


@pytest.fixture
def settings() -> object:
    made.clear()
    SETTINGS.write_text(json.dumps({"threshold": 0.5}), encoding="utf-8")
    yield
    SETTINGS.unlink(missing_ok=True)


@pytest.mark.usefixtures("settings")
def test_validate_loads_configs_nested_in_factories_again_on_each_call() -> None:
    assert Configured().validate() is False
    SETTINGS.write_text(json.dumps({"threshold": "high"}), encoding="utf-8")
    with pytest.raises(WorkflowValidationError) as raised:
        Configured().validate()
    assert str(raised.value).startswith(
        "Resource config validation failed:\n"
        f"  - In step 'only', parameter 'db' (connect -> {SETTINGS}): {SETTINGS} does not fit "
        "Threshold: field 'threshold': Input should be a valid number"
    )
    assert Configured().validate(validate_resource_configs=False) is False
    assert made == []


@pytest.mark.usefixtures("settings")
async def test_validate_resources_makes_them_and_runs_make_their_own() -> None:
    workflow = Configured()
    assert await asyncio.to_thread(workflow.validate, validate_resources=True) is False
    assert made == ["connection"]
    assert workflow.resource_manager.get_all() == {}
    assert await workflow.run() == "connected at 0.5"
    assert made == ["connection", "connection", "label"]


def running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


class UsesItsLoop(Workflow):
    @step
    async def only(
        self, ev: StartEvent, loop: Annotated[asyncio.AbstractEventLoop, Resource(running_loop)]
    ) -> StopEvent:
        return StopEvent(result=(loop is asyncio.get_running_loop(), loop.is_closed()))


async def test_a_run_after_validate_resources_gets_values_bound_to_its_own_loop() -> None:
    workflow = UsesItsLoop()
    await asyncio.to_thread(workflow.validate, validate_resources=True)
    assert await workflow.run() == (True, False)


async def test_validate_resources_lists_each_factory_that_fails() -> None:
    assert Broken().validate() is False
    with pytest.raises(WorkflowValidationError) as raised:
        await asyncio.to_thread(Broken().validate, validate_resources=True)
    assert str(raised.value) == (
        "Resource validation failed:\n  - In step 'only', parameter 'db': database unreachable"
    )


async def test_validate_resources_inside_a_running_loop_says_how_to_call_it() -> None:
    with pytest.raises(RuntimeError, match=r"asyncio.to_thread"):
        Broken().validate(validate_resources=True)
