"""Programs for the names LlamaIndex Workflows exports (issue 17, point 4), written for
`workflows` and run on both engines by test_llamaindex_compat_names.py: the expected outcome
of each is what llama-index-workflows 2.26.1 gives."""

WORKFLOW_NAMES = """
from workflows import Workflow, step
from workflows.events import Event, StartEvent, StopEvent

class Ask(StartEvent):
    question: str

class Middle(Event):
    pass

class Answer(StopEvent):
    text: str

class Named(Workflow):
    @step
    async def first(self, ev: Ask) -> Middle:
        return Middle()

    @step
    async def second(self, ev: Middle) -> Answer:
        return Answer(text="42")

async def main():
    default, named = Named(), Named(workflow_name="named")
    answer = await named.run(question="?")
    return (
        default.workflow_name == f"{__name__}.Named",
        named.workflow_name,
        default.start_event_class.__name__,
        default.stop_event_class.__name__,
        sorted(event.__name__ for event in default.events),
        answer.text,
    )
"""

CONCURRENT_RUNS = """
import asyncio

from workflows import Workflow, step
from workflows.errors import WorkflowValidationError
from workflows.events import StartEvent, StopEvent

order = []
gates = {}

class Slow(Workflow):
    @step
    async def work(self, ev: StartEvent) -> StopEvent:
        order.append(f"start {ev.name}")
        if ev.name in gates:
            await gates[ev.name].wait()
        order.append(f"end {ev.name}")
        return StopEvent(result=ev.name)

async def main():
    refused = []
    for bad in (0, -1, True, 1.5):
        try:
            Slow(num_concurrent_runs=bad)
            refused.append(False)
        except WorkflowValidationError:
            refused.append(True)
    gates["a"] = asyncio.Event()
    limited = Slow(num_concurrent_runs=1)
    first = limited.run(name="a")
    second = limited.run(name="b")
    # Another instance has a limit of its own: it runs while `limited` is full.
    await Slow(num_concurrent_runs=1).run(name="c")
    while_full = list(order)
    gates["a"].set()
    results = await asyncio.gather(first, second)
    return refused, while_full, order, results
"""

HANDLER_NAMES = """
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent

class One(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="ok")

class Fails(Workflow):
    @step
    async def explode(self, ev: StartEvent) -> StopEvent:
        raise ValueError("kaboom")

async def main():
    handler = One().run()
    before = (handler.is_done(), handler.get_stop_event())
    stop = await handler.stop_event_result()
    after = (handler.is_done(), handler.get_stop_event() is stop, await handler)
    failing = Fails().run()
    try:
        await failing.stop_event_result()
        raised = None
    except ValueError as error:
        raised = str(error)
    return before, type(stop).__name__, stop.result, after, raised, failing.is_done()
"""

FAILED_EVENT_ATTEMPTS = """
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent, WorkflowFailedEvent

class ThreeTimes:
    def next(self, elapsed_time, attempts, error):
        return 0.0 if attempts < 3 else None

class Fails(Workflow):
    @step
    async def explode(self, ev: StartEvent) -> StopEvent:
        raise ValueError("kaboom")

class Flaky(Workflow):
    @step(retry_policy=ThreeTimes())
    async def flaky(self, ev: StartEvent) -> StopEvent:
        raise ValueError("again")

async def main():
    seen = []
    for flow in (Fails(), Flaky()):
        handler = flow.run()
        try:
            async for ev in handler.stream_events():
                if isinstance(ev, WorkflowFailedEvent):
                    seen.append((ev.step_name, ev.attempts, ev.elapsed_seconds >= 0))
        finally:
            try:
                await handler
            except ValueError:
                pass
    return seen, WorkflowFailedEvent(step_name="x", exception=ValueError()).attempts
"""

STEP_CONTEXT_AND_RUNNING_STEPS = """
import asyncio

from workflows import Context, Workflow, step
from workflows.errors import WorkflowRuntimeError
from workflows.events import Event, StartEvent, StopEvent

class Progress(Event):
    n: int

release = {}

class Hold(Workflow):
    @step
    async def work(self, ev: StartEvent) -> StopEvent:
        ctx = Context.get_step_context()  # no ctx parameter: a wrapper's way in
        ctx.write_event_to_stream(Progress(n=1))
        await release["work"].wait()
        return StopEvent(result=type(ctx).__name__)

async def main():
    try:
        Context.get_step_context()
        outside = "no error"
    except WorkflowRuntimeError:
        outside = "WorkflowRuntimeError"
    release["work"] = asyncio.Event()
    handler = Hold().run()
    seen, running = [], None
    async for ev in handler.ctx.stream_events():
        seen.append(type(ev).__name__)
        if isinstance(ev, Progress):
            running = await handler.ctx.running_steps()
            release["work"].set()
        if isinstance(ev, StopEvent):
            break
    return outside, running, seen, await handler
"""

DICT_STATE = """
from workflows import Context, Workflow, step
from workflows.context.state_store import DictState
from workflows.events import StartEvent, StopEvent

class Count(Workflow):
    @step
    async def count(self, ctx: Context, ev: StartEvent) -> StopEvent:
        async with ctx.store.edit_state() as state:
            state["count"] = 1
            state["name"] = "x"
            seen = (
                state["count"],
                state.get("name"),
                state.get("missing", "default"),
                sorted(state.items()),
                sorted(state.keys()),
                "name" in state,
                "missing" in state,
                len(state),
                sorted(state),
            )
        return StopEvent(result=(seen, await ctx.store.get("count"), await ctx.store.get("name")))

async def main():
    direct = DictState()
    direct["a"] = 1
    return await Count().run(), direct["a"], direct.get("b", 2), list(direct.items())
"""

INHERITED_STATE = """
from pydantic import BaseModel

from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StopEvent

class BaseState(BaseModel):
    count: int = 0

class ChildState(BaseState):
    label: str = "child"

class Middle(Event):
    pass

class Parent(Workflow):
    @step
    async def start(self, ctx: Context[BaseState], ev: StartEvent) -> Middle:
        async with ctx.store.edit_state() as state:
            state.count += 1
        return Middle()

    @step
    async def finish(self, ctx: Context[BaseState], ev: Middle) -> StopEvent:
        state = await ctx.store.get_state()
        return StopEvent(result=(type(state).__name__, state.count))

class Child(Parent):
    pass

class Special(Parent):
    @step
    async def finish(self, ctx: Context[ChildState], ev: Middle) -> StopEvent:
        state = await ctx.store.get_state()
        return StopEvent(result=(type(state).__name__, state.count, state.label))

async def main():
    return [await flow().run() for flow in (Parent, Child, Special)]
"""

SERIALIZERS_FROM_CONTEXT = """
from workflows import Context, Workflow, step
from workflows.context import BaseSerializer, JsonSerializer, PickleSerializer
from workflows.events import StartEvent, StopEvent

class Remember(Workflow):
    @step
    async def remember(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.store.set("seen", ev.word)
        return StopEvent(result="ok")

async def main():
    kinds = [issubclass(kind, BaseSerializer) for kind in (JsonSerializer, PickleSerializer)]
    loaded = []
    for serializer in (JsonSerializer(), PickleSerializer()):
        flow = Remember()
        handler = flow.run(word=type(serializer).__name__)
        await handler
        data = handler.ctx.to_dict(serializer=serializer)
        ctx = Context.from_dict(flow, data, serializer=serializer)
        loaded.append(await ctx.store.get("seen"))
    return kinds, loaded
"""

INTERNAL_EVENTS = """
from workflows import Workflow, step
from workflows.events import Event, StartEvent, StepState, StepStateChanged, StopEvent

class Middle(Event):
    pass

class Two(Workflow):
    @step
    async def first(self, ev: StartEvent) -> Middle:
        return Middle()

    @step
    async def second(self, ev: Middle) -> StopEvent:
        return StopEvent(result="done")

def short(name):
    # str(type(ev)) names the engine's module: keep the class name only.
    return None if name is None else name.rsplit(".", 1)[-1].rstrip("'>")

async def main():
    handler = Two().run()
    changes = [
        (ev.name, ev.step_state.value, short(ev.input_event_name), short(ev.output_event_name))
        async for ev in handler.stream_events(expose_internal=True)
        if isinstance(ev, StepStateChanged)
    ]
    await handler
    plain = Two().run()
    hidden = [type(ev).__name__ async for ev in plain.stream_events()]
    await plain
    return changes, hidden, [state.value for state in StepState]
"""

TEST_RUNNER = """
from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StepStateChanged, StopEvent
from workflows.testing import WorkflowTestRunner
from workflows.testing.runner import WorkflowTestResult

class Tick(Event):
    n: int

class Ticks(Workflow):
    @step
    async def tick(self, ctx: Context, ev: StartEvent) -> Tick:
        ctx.write_event_to_stream(Tick(n=0))
        return Tick(n=1)

    @step
    async def done(self, ev: Tick) -> StopEvent:
        return StopEvent(result=ev.n)

async def main():
    runner = WorkflowTestRunner(Ticks())
    full = await runner.run()
    quiet = await runner.run(expose_internal=False)
    excluded = await runner.run(exclude_events=[StepStateChanged])
    return (
        isinstance(full, WorkflowTestResult),
        full.result,
        full.event_types.get(StepStateChanged, 0),
        quiet.event_types.get(StepStateChanged, 0),
        sorted(kind.__name__ for kind in excluded.event_types),
    )
"""
