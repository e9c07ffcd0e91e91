"""Step annotations as strings (`from __future__ import annotations`, as here): they may
name classes local to the function that defines the workflow, a class nested in the
workflow, or classes defined further down the module; and when they are read.
"""

from __future__ import annotations

import gc
import re
import weakref

import pytest

from agentflow import Context, Workflow, catch_error, step
from agentflow.errors import WorkflowValidationError
from agentflow.events import Event, StartEvent, StepFailedEvent, StopEvent


async def test_event_classes_local_to_the_test_function_resolve() -> None:
    class Counted(Event):
        n: int

    class Counter(Workflow):
        @step
        async def count(self, ev: StartEvent) -> Counted:
            return Counted(n=len(ev.words))

        @step(num_workers=1)
        async def report(self, ctx: Context, ev: Counted) -> StopEvent:
            return StopEvent(result=ev.n)

    assert await Counter().run(words=["a", "b"]) == 2


def make_relay(label: str) -> type[Workflow]:
    class Relayed(Event):
        text: str

    class Relay(Workflow):
        @step
        async def send(self, ev: StartEvent) -> Relayed:
            return Relayed(text=f"{label}:{ev.text}")

        @step
        async def receive(self, ev: Relayed) -> StopEvent:
            return StopEvent(result=ev.text)

    return Relay


async def test_a_factory_s_local_classes_resolve_for_each_class_it_makes() -> None:
    first, second = make_relay("one"), make_relay("two")
    assert await first().run(text="x") == "one:x"
    assert await second().run(text="y") == "two:y"


async def test_a_free_step_s_local_annotations_resolve() -> None:
    class Asked(Event):
        question: str

    class Host(Workflow):
        @step
        async def ask(self, ev: StartEvent) -> Asked:
            return Asked(question=ev.q)

    @step(workflow=Host)
    async def answer(ev: Asked) -> StopEvent:
        return StopEvent(result=ev.question.upper())

    assert await Host().run(q="why") == "WHY"


async def test_a_catch_error_step_s_local_annotations_resolve() -> None:
    class Recovered(Event):
        step_name: str

    class Fragile(Workflow):
        @step
        async def start(self, ev: StartEvent) -> StopEvent:
            raise ValueError("broken")

        @catch_error
        async def recover(self, ev: StepFailedEvent) -> Recovered:
            return Recovered(step_name=ev.step_name)

        @step
        async def finish(self, ev: Recovered) -> StopEvent:
            return StopEvent(result=f"recovered {ev.step_name}")

    assert await Fragile().run() == "recovered start"


async def test_a_class_nested_in_the_workflow_resolves() -> None:
    class Nested(Workflow):
        class Inner(Event):
            value: int

        @step
        async def start(self, ev: StartEvent) -> Inner:
            return self.Inner(value=5)

        @step
        async def finish(self, ev: Inner) -> StopEvent:
            return StopEvent(result=ev.value)

    assert await Nested().run() == 5


class Forward(Workflow):
    @step
    async def start(self, ev: StartEvent) -> Later:
        return Later(value=ev.value)

    @step
    async def finish(self, ev: Later) -> StopEvent:
        return StopEvent(result=ev.value * 2)


class Later(Event):  # defined after the workflow that names it
    value: int


async def test_a_forward_reference_to_a_class_further_down_the_module_resolves() -> None:
    assert await Forward().run(value=4) == 8


def test_a_name_that_never_resolves_is_reported_when_the_workflow_is_made() -> None:
    class Dangling(Workflow):  # decorating it is fine: the name may be defined later
        @step
        async def start(self, ev: StartEvent) -> Undefined:  # type: ignore[name-defined]  # noqa: F821
            return StopEvent()

    expected = (
        "step 'start' of Dangling: cannot resolve its annotations (name 'Undefined' is not defined)"
    )
    with pytest.raises(WorkflowValidationError, match=re.escape(expected)) as raised:
        Dangling()
    message = str(raised.value)
    assert "Failed to resolve type annotations for " in message
    assert "Missing name: Undefined." in message


class Bulky:
    """Something large a function holds while it defines a workflow."""


def make_echo(bulky: Bulky) -> type[Workflow]:
    class Echoed(Event):
        text: str

    class Echo(Workflow):
        @step
        async def echo(self, ev: StartEvent) -> Echoed:
            return Echoed(text=ev.text)

        @step
        async def done(self, ev: Echoed) -> StopEvent:
            return StopEvent(result=ev.text)

    return Echo


def echo_made_beside_something_bulky() -> tuple[weakref.ref[Bulky], type[Workflow]]:
    bulky = Bulky()
    return weakref.ref(bulky), make_echo(bulky)


async def test_a_workflow_made_in_a_function_keeps_none_of_its_other_locals_alive() -> None:
    held, echo = echo_made_beside_something_bulky()
    gc.collect()
    assert held() is None  # only the names the annotations mention are kept
    assert await echo().run(text="hi") == "hi"
