"""agentflow.runtime.step_table.step_table_of: the public, cached way to read a workflow
class's steps (drawings and the command line use it rather than a private method)."""

from __future__ import annotations

from agentflow import Workflow, step
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.runtime.step_table import step_table_of


class Middle(Event):
    pass


class Base(Workflow):
    @step
    async def begin(self, ev: StartEvent) -> StopEvent:
        return StopEvent()


class Derived(Base):
    @step
    async def middle(self, ev: Middle) -> StopEvent:
        return StopEvent()


def test_the_table_names_every_step_with_what_it_accepts_and_emits() -> None:
    table = step_table_of(Derived)
    assert {name: (spec.accepted, spec.emitted) for name, spec in table.steps.items()} == {
        "begin": ((StartEvent,), (StopEvent,)),
        "middle": ((Middle,), (StopEvent,)),
    }


def test_the_table_is_built_once_per_class_and_a_subclass_has_its_own() -> None:
    assert step_table_of(Base) is step_table_of(Base)
    assert step_table_of(Derived) is not step_table_of(Base)
    assert set(step_table_of(Base).steps) == {"begin"}


def test_adding_a_step_rebuilds_the_table_of_the_class_and_its_subclasses() -> None:
    class Host(Workflow):
        @step
        async def begin(self, ev: StartEvent) -> Middle:
            return Middle()

    class Child(Host):
        pass

    before, child_before = step_table_of(Host), step_table_of(Child)

    @step(workflow=Host)
    async def finish(ev: Middle) -> StopEvent:
        return StopEvent()

    assert step_table_of(Host) is not before
    assert set(step_table_of(Host).steps) == {"begin", "finish"}
    assert step_table_of(Child) is not child_before
    assert set(step_table_of(Child).steps) == {"begin", "finish"}
