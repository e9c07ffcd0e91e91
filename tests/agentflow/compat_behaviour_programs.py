"""Programs written against LlamaIndex Workflows that depend on when and how it refuses bad
code, on its error messages and on the shape of its StopEvent; the same shape as
compat_programs.py (each defines `async def main()`, whose return value is the outcome), run
on both engines by tests/agentflow/test_llamaindex_compat_behaviour.py.

A program that checks an error returns where it was raised ("decoration", "construction",
"run") and whether the message holds the reference's sentence, so that the expected outcome
is the same on both engines while agentflow's messages say more.
"""

from __future__ import annotations

LOCAL_EVENT_CLASSES = """
from __future__ import annotations

from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StopEvent

def make_doubler(factor):
    class Scaled(Event):  # a class local to the factory, named by a string annotation
        value: int

    class Doubler(Workflow):
        @step
        async def scale(self, ev: StartEvent) -> Scaled:
            return Scaled(value=ev.n * factor)

        @step(num_workers=1)
        async def finish(self, ctx: Context, ev: Scaled) -> StopEvent:
            return StopEvent(result=ev.value)

    return Doubler

async def main():
    class Greeted(Event):  # local to main, as in a test function
        name: str

    class Greeter(Workflow):
        @step
        async def greet(self, ev: StartEvent) -> Greeted | None:
            return Greeted(name=ev.name)

        @step
        async def done(self, ev: Greeted) -> StopEvent:
            return StopEvent(result=f"hello {ev.name}")

    return [await Greeter().run(name="Ada"), await make_doubler(3)().run(n=7)]
"""

DECORATION_TIME_CHECKS = """
import asyncio

from workflows import Context, Workflow, catch_error, step
from workflows.errors import WorkflowValidationError
from workflows.events import StartEvent, StepFailedEvent, StopEvent

def no_event_parameter():
    class Flow(Workflow):
        @step
        async def start(self, ctx: Context) -> StopEvent:
            return StopEvent()

def no_return_annotation():
    class Flow(Workflow):
        @step
        async def start(self, ev: StartEvent):
            return StopEvent()

def zero_workers():
    class Flow(Workflow):
        @step(num_workers=0)
        async def start(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

def handler_without_step_failed_event():
    class Flow(Workflow):
        @catch_error
        async def recover(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

def no_recoveries():
    class Flow(Workflow):
        @catch_error(max_recoveries=0)
        async def recover(self, ev: StepFailedEvent) -> StopEvent:
            return StopEvent()

def for_steps_as_a_string():
    class Flow(Workflow):
        @catch_error(for_steps="start")
        async def recover(self, ev: StepFailedEvent) -> StopEvent:
            return StopEvent()

def free_function_without_workflow():
    @step
    async def start(ev: StartEvent) -> StopEvent:
        return StopEvent()

def async_generator_step():
    class Flow(Workflow):
        @step
        async def start(self, ev: StartEvent) -> StopEvent:
            yield StopEvent()

CASES = [
    (no_event_parameter, "Step signature must have at least one parameter annotated as type"),
    (no_return_annotation, "Return types of workflows step functions must be annotated with"),
    (zero_workers, "num_workers must be an integer greater than 0"),
    (handler_without_step_failed_event, "must accept StepFailedEvent as its event parameter."),
    (no_recoveries, "@catch_error max_recoveries must be an integer >= 1"),
    (for_steps_as_a_string, "@catch_error for_steps must be None or a list of step name strings"),
    (free_function_without_workflow, "please pass a workflow class to the @step decorator."),
    (async_generator_step, "Async-iterator fan-out"),
]

async def main():
    outcomes = []
    for define, sentence in CASES:
        try:
            define()
            outcomes.append((define.__name__, "accepted"))
        except WorkflowValidationError as error:
            outcomes.append((define.__name__, sentence in str(error)))
    return outcomes
"""

CONSTRUCTION_TIME_CHECKS = """
from workflows import Workflow, step
from workflows.errors import WorkflowConfigurationError, WorkflowValidationError
from workflows.events import Event, StartEvent, StopEvent

class OtherStart(StartEvent):
    pass

class OtherStop(StopEvent):
    pass

class Orphan(Event):
    pass

class NoStart(Workflow):
    @step
    async def middle(self, ev: Orphan) -> StopEvent:
        return StopEvent()

class TwoStarts(Workflow):
    @step
    async def one(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @step
    async def two(self, ev: OtherStart) -> StopEvent:
        return StopEvent()

class NoStop(Workflow):
    @step
    async def start(self, ev: StartEvent) -> Orphan:
        return Orphan()

    @step
    async def middle(self, ev: Orphan) -> None:
        return None

class TwoStops(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent | OtherStop:
        return StopEvent()

class Unconsumed(Workflow):  # fine at construction, refused when run
    @step
    async def start(self, ev: StartEvent) -> Orphan | StopEvent:
        return StopEvent(result="ran")

CASES = [
    (NoStart, {}, "At least one Event of type StartEvent must be received by any step."),
    (TwoStarts, {}, "Only one type of StartEvent is allowed per workflow"),
    (NoStop, {}, "At least one Event of type StopEvent must be returned by any step."),
    (NoStop, {"disable_validation": True}, "At least one Event of type StopEvent must be returned"),
    (TwoStops, {}, "Only one type of StopEvent is allowed per workflow"),
    (Unconsumed, {}, "The following events are produced but never consumed: Orphan"),
]

async def main():
    outcomes = []
    for workflow_class, options, sentence in CASES:
        try:
            workflow = workflow_class(**options)
        except WorkflowConfigurationError as error:
            outcomes.append(("construction", sentence in str(error)))
            continue
        try:
            await workflow.run()
            outcomes.append(("ran", None))
        except WorkflowValidationError as error:
            outcomes.append(("run", sentence in str(error)))
    return outcomes
"""

RUN_TIME_VALIDATION_MESSAGES = """
from workflows import Workflow, catch_error, step
from workflows.errors import WorkflowValidationError
from workflows.events import Event, StartEvent, StepFailedEvent, StopEvent

class Never(Event):
    pass

class Ping(Event):
    pass

class Pong(Event):
    pass

class NeverProduced(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @step
    async def waits(self, ev: Never) -> StopEvent:
        return StopEvent()

class TakesStop(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @step
    async def after(self, ev: StopEvent) -> None:
        return None

class Unreachable(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @step
    async def ping(self, ev: Ping) -> Pong:
        return Pong()

    @step
    async def pong(self, ev: Pong) -> Ping | StopEvent:
        return StopEvent()

class TwoWildcards(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @catch_error
    async def first(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

    @catch_error
    async def second(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

class UnknownTarget(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @catch_error(for_steps=["missing"])
    async def recover(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

class ClaimedTwice(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @catch_error(for_steps=["start"])
    async def first(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

    @catch_error(for_steps=["start"])
    async def second(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

CASES = [
    (NeverProduced, "The following events are consumed but never produced: Never"),
    (TakesStop, "Step 'after' cannot accept StopEvent. StopEvent signals the end of the workflow."),
    (Unreachable, "Unreachable steps: ping, pong"),
    (TwoWildcards, "Only one wildcard @catch_error handler is allowed per workflow"),
    (UnknownTarget, "@catch_error handler 'recover' lists unknown step 'missing' in for_steps."),
    (ClaimedTwice, "Step 'start' is claimed by two @catch_error handlers: 'first' and 'second'."),
]

async def main():
    outcomes = []
    for workflow_class, sentence in CASES:
        workflow = workflow_class()
        try:
            await workflow.run()
            outcomes.append((workflow_class.__name__, "ran"))
        except WorkflowValidationError as error:
            outcomes.append((workflow_class.__name__, sentence in str(error)))
    return outcomes
"""

BAD_START_EVENT = """
from pydantic import ValidationError

from workflows import Workflow, step
from workflows.errors import WorkflowRuntimeError
from workflows.events import StartEvent, StopEvent

class Order(StartEvent):
    quantity: int

class Shop(Workflow):
    @step
    async def take(self, ev: Order) -> StopEvent:
        return StopEvent(result=ev.quantity)

async def main():
    shop = Shop()
    try:
        shop.run(quantity="many")
        return "started"
    except WorkflowRuntimeError as error:
        pydantic_error = error.__cause__ or error.__context__
        sentence = "Failed creating a start event of type 'Order' with the keyword arguments"
        from_pydantic = isinstance(pydantic_error, ValidationError)
        return [sentence in str(error), from_pydantic, await shop.run(quantity=2)]
"""

WAIT_FOR_EVENT_TIMEOUT = """
import asyncio

from workflows import Context, Workflow, step
from workflows.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

class Answer(HumanResponseEvent):
    text: str

class Ask(Workflow):
    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        try:
            question = InputRequiredEvent()
            answer = await ctx.wait_for_event(Answer, waiter_event=question, timeout=0.01)
        except asyncio.TimeoutError as error:
            if ev.get("reraise"):
                raise
            return StopEvent(result=["caught", "Timed out waiting for Answer" in str(error)])
        return StopEvent(result=answer.text)

async def main():
    caught = await Ask().run()
    try:
        await Ask().run(reraise=True)
        failed = "finished"
    except asyncio.TimeoutError as error:
        failed = "Timed out waiting for Answer" in str(error)
    return [caught, failed]
"""

STOP_EVENT_SHAPE = """
from workflows.events import StopEvent

class Receipt(StopEvent):
    total: int
    currency: str = "EUR"

async def main():
    shapes = []
    for event in (
        StopEvent(),
        StopEvent(result=3),
        StopEvent("positional"),
        StopEvent(result={"a": [1, 2]}),
        Receipt(total=5),
        Receipt(total=5, result="paid"),
    ):
        shapes.append([repr(event), str(event), event.model_dump(), event.model_dump_json()])
    shapes.append(repr(StopEvent(result=1, note="extra")))
    return shapes
"""

BEHAVES_THE_SAME: dict[str, tuple[str, object]] = {
    # program name: (source, outcome on both engines)
    "Event classes local to a function or a factory": (LOCAL_EVENT_CLASSES, ["hello Ada", 21]),
    "Checks made when a step is decorated": (
        DECORATION_TIME_CHECKS,
        [
            ("no_event_parameter", True),
            ("no_return_annotation", True),
            ("zero_workers", True),
            ("handler_without_step_failed_event", True),
            ("no_recoveries", True),
            ("for_steps_as_a_string", True),
            ("free_function_without_workflow", True),
            ("async_generator_step", True),
        ],
    ),
    "Checks made when a workflow is constructed": (
        CONSTRUCTION_TIME_CHECKS,
        [
            ("construction", True),
            ("construction", True),
            ("construction", True),
            ("construction", True),
            ("construction", True),
            ("run", True),
        ],
    ),
    "Graph checks made at run(), with the reference's sentences": (
        RUN_TIME_VALIDATION_MESSAGES,
        [
            ("NeverProduced", True),
            ("TakesStop", True),
            ("Unreachable", True),
            ("TwoWildcards", True),
            ("UnknownTarget", True),
            ("ClaimedTwice", True),
        ],
    ),
    "A start event that fails validation": (BAD_START_EVENT, [True, True, 2]),
    "A wait_for_event timeout caught as asyncio.TimeoutError": (
        WAIT_FOR_EVENT_TIMEOUT,
        [["caught", True], True],
    ),
    "StopEvent's repr, str, model_dump and JSON": (
        STOP_EVENT_SHAPE,
        [
            ["StopEvent()", "None", {}, "{}"],
            ["StopEvent(result=3)", "3", {"result": 3}, '{"result":3}'],
            [
                "StopEvent(result='positional')",
                "positional",
                {"result": "positional"},
                '{"result":"positional"}',
            ],
            [
                "StopEvent(result={'a': [1, 2]})",
                "{'a': [1, 2]}",
                {"result": {"a": [1, 2]}},
                '{"result":{"a":[1,2]}}',
            ],
            [
                "Receipt(total=5, currency='EUR')",
                "None",
                {"total": 5, "currency": "EUR"},
                '{"total":5,"currency":"EUR"}',
            ],
            [
                "Receipt(total=5, currency='EUR', result='paid')",
                "paid",
                {"total": 5, "currency": "EUR", "result": "paid"},
                '{"total":5,"currency":"EUR","result":"paid"}',
            ],
            "StopEvent(note='extra', result=1)",
        ],
    ),
}
