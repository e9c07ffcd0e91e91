"""Small programs written against LlamaIndex Workflows (`from workflows...`), one per item of
the README's compatibility list; tests/agentflow/test_llamaindex_compat.py runs each with its
imports renamed to agentflow, and on llama-index-workflows 2.26.1 itself when installed.

Each program defines `async def main()`, whose return value is the program's outcome.
`RUNS_UNCHANGED` maps a program to that outcome on both engines (its name starts with the
README item it backs); `NOT_YET` maps a README item to its program's outcome on workflows
2.26.1 and the exception agentflow raises instead.
"""

from __future__ import annotations

STEPS_AND_START_FIELDS = """
from workflows import Workflow, step
from workflows.events import Event, StartEvent, StopEvent

class Drafted(Event):
    text: str

class Writer(Workflow):
    @step
    async def draft(self, ev: StartEvent) -> Drafted:
        return Drafted(text=f"{ev.topic}/{ev['topic']}/{ev.get('tone', 'plain')}")

    @step
    def publish(self, ev: Drafted) -> StopEvent:  # a sync step
        return StopEvent(ev.text.upper())  # the result given positionally

async def main():
    return await Writer(timeout=10, verbose=False).run(topic="otters")
"""

BRANCH_LOOP_AND_NONE = """
from workflows import Workflow, step
from workflows.events import Event, StartEvent, StopEvent

class Again(Event):
    left: int

class Skip(Event):
    pass

class Looper(Workflow):
    @step
    async def begin(self, ev: StartEvent) -> Again | Skip:
        return Skip() if ev.skip else Again(left=3)

    @step
    async def loop(self, ev: Again) -> Again | StopEvent:
        return StopEvent(result="looped") if ev.left == 0 else Again(left=ev.left - 1)

    @step
    async def skipped(self, ev: Skip) -> StopEvent | None:
        return StopEvent(result="skipped")

async def main():
    return [await Looper().run(skip=False), await Looper().run(skip=True)]
"""

FAN_OUT_AND_COLLECT = """
from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StopEvent

class Job(Event):
    n: int

class Done(Event):
    n: int

class Extra(Event):
    label: str

class FanOut(Workflow):
    @step
    async def spread(self, ctx: Context, ev: StartEvent) -> Job | Extra | None:
        for n in range(3):
            ctx.send_event(Job(n=n))
        ctx.send_event(Extra(label="to b only"), step="gather_b")

    @step(num_workers=3)
    async def work(self, ev: Job) -> Done:
        return Done(n=ev.n * 10)

    @step
    async def gather(self, ctx: Context, ev: Done | Extra) -> StopEvent | None:
        got = ctx.collect_events(ev, [Done, Done, Done, Extra])
        if got is None:
            return None
        return StopEvent(result=[sorted(e.n for e in got[:3]), got[3].label])

    @step
    async def gather_b(self, ctx: Context, ev: Extra) -> None:
        ctx.send_event(ev, step="gather")

async def main():
    return await FanOut().run()
"""

FIRST_STOP_EVENT_WINS = """
import asyncio
from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StopEvent

class Query(Event):
    text: str

class Race(Workflow):
    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Query | None:
        for text in ("slow", "fast", "slower"):
            ctx.send_event(Query(text=text))

    @step(num_workers=4)
    async def answer(self, ev: Query) -> StopEvent:
        if ev.text != "fast":
            await asyncio.Event().wait()  # never answers: the run ends first
        return StopEvent(result=ev.text)

async def main():
    return await Race().run()
"""

STREAM_AND_END_EVENTS = """
import asyncio
from workflows import Context, Workflow, step
from workflows.events import (
    Event, StartEvent, StopEvent, WorkflowCancelledEvent, WorkflowFailedEvent,
    WorkflowTimedOutEvent,
)
from workflows.errors import WorkflowCancelledByUser, WorkflowTimeoutError

class Progress(Event):
    msg: str

class Talks(Workflow):
    @step
    async def talk(self, ctx: Context, ev: StartEvent) -> StopEvent:
        for word in ("a", "b"):
            ctx.write_event_to_stream(Progress(msg=word))
        return StopEvent(result="said")

class Hangs(Workflow):
    @step
    async def hang(self, ev: StartEvent) -> StopEvent:
        await asyncio.Event().wait()

class Fails(Workflow):
    @step
    async def explode(self, ev: StartEvent) -> StopEvent:
        raise ValueError("kaboom")

async def ending(handler):
    seen = [type(ev).__name__ for ev in [ev async for ev in handler.stream_events()]]
    try:
        outcome = await handler
    except Exception as error:
        outcome = type(error).__name__
    return seen, outcome

async def main():
    talked = await ending(Talks().run())
    handler = Talks().run()
    msgs = [ev.msg async for ev in handler.stream_events() if isinstance(ev, Progress)]
    await handler
    timed_out = Hangs(timeout=0.05).run()
    timeout_fields = None
    async for ev in timed_out.stream_events():
        if isinstance(ev, WorkflowTimedOutEvent):
            timeout_fields = (ev.timeout, ev.active_steps)
    try:
        await timed_out
    except WorkflowTimeoutError:
        pass
    failed = Fails().run()
    failure = None
    async for ev in failed.stream_events():
        if isinstance(ev, WorkflowFailedEvent):
            failure = (ev.step_name, repr(ev.exception))
    try:
        await failed
    except ValueError:
        pass
    cancelled = Hangs().run()
    await cancelled.cancel_run()
    cancel_seen = [isinstance(ev, WorkflowCancelledEvent) async for ev in cancelled.stream_events()]
    try:
        await cancelled
    except WorkflowCancelledByUser:
        cancel_seen.append("WorkflowCancelledByUser")
    return talked, msgs, timeout_fields, failure, cancel_seen
"""

HUMAN_IN_THE_LOOP = """
from workflows import Context, Workflow, step
from workflows.events import (
    HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent,
)

class AskColour(InputRequiredEvent):
    hint: str

class Colour(HumanResponseEvent):
    certain: bool

class Ask(Workflow):
    @step
    async def ask(self, ev: StartEvent) -> AskColour:
        return AskColour(prefix="Colour? ", hint="a rainbow one")

    @step
    async def answer(self, ctx: Context, ev: Colour) -> StopEvent:
        size = await ctx.wait_for_event(
            HumanResponseEvent,
            waiter_event=InputRequiredEvent(prefix="Size? "),
            waiter_id="size",
            requirements={"unit": "cm"},
        )
        return StopEvent(result=[ev.response, ev.certain, size.response])

async def main():
    handler = Ask().run()
    async for ev in handler.stream_events():
        if isinstance(ev, AskColour):
            handler.ctx.send_event(Colour(response="blue", certain=True))
        elif isinstance(ev, InputRequiredEvent):
            handler.ctx.send_event(HumanResponseEvent(response="wrong unit", unit="in"))
            handler.ctx.send_event(HumanResponseEvent(response="30", unit="cm"))
    return await handler
"""

SAVE_CANCEL_RESTORE = """
import json
from workflows import Context, Workflow, step
from workflows.events import HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

class Ask(Workflow):
    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent:
        await ctx.store.set("asked", True)
        return InputRequiredEvent(prefix="Name? ")

    @step
    async def greet(self, ctx: Context, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=[ev.response, await ctx.store.get("asked")])

async def main():
    workflow = Ask()
    handler = workflow.run()
    async for ev in handler.stream_events():
        if isinstance(ev, InputRequiredEvent):
            saved = json.dumps(handler.ctx.to_dict())
            await handler.cancel_run()
            break
    workflow = Ask()  # as in a new process
    handler = workflow.run(ctx=Context.from_dict(workflow, json.loads(saved)))
    handler.ctx.send_event(HumanResponseEvent(response="Ada"))
    async for _ in handler.stream_events():
        pass
    return await handler
"""

STATE_STORE = """
from pydantic import BaseModel
from workflows import Context, Workflow, step
from workflows.events import StartEvent, StopEvent
from workflows.context.serializers import JsonSerializer, PickleSerializer

class Tally(BaseModel):
    runs: int = 0
    names: list[str] = []

class Typed(Workflow):
    @step
    async def count(self, ctx: Context[Tally], ev: StartEvent) -> StopEvent:
        async with ctx.store.edit_state() as state:
            state.runs += 1
            state.names.append(ev.name)
        return StopEvent(result=(await ctx.store.get_state()).model_dump())

class Untyped(Workflow):
    @step
    async def count(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.store.set("seen", await ctx.store.get("seen", default=0) + 1)
        async with ctx.store.edit_state() as state:
            state.last = ev.name
        return StopEvent(result=[await ctx.store.get("seen"), await ctx.store.get("last")])

async def main():
    typed = Typed()
    ctx = Context(typed)
    await typed.run(ctx=ctx, name="a")
    saved = ctx.to_dict(serializer=JsonSerializer())
    ctx = Context.from_dict(typed, saved, serializer=JsonSerializer())
    second = await typed.run(ctx=ctx, name="b")
    untyped = Untyped()
    uctx = Context(untyped)
    await untyped.run(ctx=uctx, name="x")
    data = uctx.to_dict(serializer=PickleSerializer())
    uctx = Context.from_dict(untyped, data, serializer=PickleSerializer())
    return second, await untyped.run(ctx=uctx, name="y")
"""

CUSTOM_START_AND_STOP = """
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent

class Order(StartEvent):
    item: str
    quantity: int = 1

class Receipt(StopEvent):
    line: str

class Shop(Workflow):
    @step
    async def sell(self, ev: Order) -> Receipt:
        return Receipt(line=f"{ev.quantity} x {ev.item}")

async def main():
    by_event = await Shop().run(start_event=Order(item="tea", quantity=2))
    by_kwargs = await Shop().run(item="cake")
    return [type(by_event).__name__, by_event.line, by_kwargs.line]
"""

RESOURCES = """
from typing import Annotated
from workflows import Workflow, step
from workflows.events import Event, StartEvent, StopEvent
from workflows.resource import Resource

made = []

def notebook(*args, **kwargs):
    made.append("notebook")
    return []

def scratch():
    made.append("scratch")
    return []

class Next(Event):
    pass

class Notes(Workflow):
    @step
    async def first(
        self,
        ev: StartEvent,
        book: Annotated[list, Resource(notebook)],
        pad: Annotated[list, Resource(scratch, cache=False)],
    ) -> Next:
        book.append("first")
        return Next()

    @step
    async def second(
        self,
        ev: Next,
        book: Annotated[list, Resource(notebook)],
        pad: Annotated[list, Resource(scratch, cache=False)],
    ) -> StopEvent:
        book.append("second")
        return StopEvent(result=[book, sorted(made)])

async def main():
    return await Notes().run()
"""

RETRIES_AND_CATCH_ERROR = """
from workflows import Workflow, catch_error, step
from workflows.events import StartEvent, StepFailedEvent, StopEvent
from workflows.retry_policy import (
    ConstantDelayRetryPolicy, retry_if_exception_message, retry_if_exception_type,
    retry_policy, stop_after_attempt, wait_fixed,
)

tries = {"constant": 0, "composed": 0, "custom": 0}

class OnlyOnce:
    def next(self, elapsed_time, attempts, error):
        return 0.0 if attempts < 2 else None

class Flaky(Workflow):
    @step(retry_policy=ConstantDelayRetryPolicy(delay=0.0, maximum_attempts=5))
    async def constant(self, ev: StartEvent) -> StopEvent:
        tries["constant"] += 1
        if tries["constant"] < 3:
            raise ConnectionError("down")
        return StopEvent(result="constant ok")

class Composed(Workflow):
    @step(
        retry_policy=retry_policy(
            retry=retry_if_exception_type(TimeoutError) | retry_if_exception_message(match="rate"),
            wait=wait_fixed(0),
            stop=stop_after_attempt(4),
        )
    )
    async def call(self, ev: StartEvent) -> StopEvent:
        tries["composed"] += 1
        raise RuntimeError("rate limited")

    @catch_error
    async def recover(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent(result=f"recovered {ev.step_name}")

class Custom(Workflow):
    @step(retry_policy=OnlyOnce())
    async def call(self, ev: StartEvent) -> StopEvent:
        tries["custom"] += 1
        raise RuntimeError("always")

async def main():
    results = [await Flaky().run(), await Composed().run()]
    try:
        await Custom().run()
    except RuntimeError:
        results.append("custom gave up")
    return results, tries
"""

FREE_FUNCTION_STEP_AND_NESTING = """
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent

class Double(Workflow):
    pass

@step(workflow=Double)
def double(ev: StartEvent) -> StopEvent:
    return StopEvent(result=ev.x * 2)

class Outer(Workflow):
    def __init__(self, offset, *args, **kwargs):
        self.offset = offset
        super().__init__(*args, **kwargs)

    @step
    async def call_inner(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=await Double().run(x=ev.x) + self.offset)

async def main():
    return await Outer(1, timeout=10).run(x=20)
"""

VALIDATION_AND_TEST_RUNNER = """
from workflows import Context, Workflow, step
from workflows.errors import WorkflowValidationError
from workflows.events import Event, StartEvent, StopEvent
from workflows.testing import WorkflowTestRunner

class Unheard(Event):
    pass

class Tick(Event):
    n: int

class Broken(Workflow):
    @step
    async def start(self, ev: StartEvent) -> Unheard | StopEvent:
        return StopEvent(result="ran")

class Ping(Event):
    pass

class Pong(Event):
    pass

class Cycle(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="started")

    @step
    async def a(self, ev: Ping) -> Pong:  # a and b feed each other; nothing feeds them
        return Pong()

    @step
    async def b(self, ev: Pong) -> Ping | StopEvent:
        return StopEvent(result="never")

class Ticks(Workflow):
    @step
    async def tick(self, ctx: Context, ev: StartEvent) -> StopEvent:
        for n in range(2):
            ctx.write_event_to_stream(Tick(n=n))
        return StopEvent(result="ticked")

async def main():
    refused = []
    for workflow in (Broken(), Cycle()):
        try:
            await workflow.run()
            refused.append(False)
        except WorkflowValidationError:
            refused.append(True)
    unchecked = await Broken(disable_validation=True).run()
    outcome = await WorkflowTestRunner(Ticks()).run()
    return refused, unchecked, outcome.result, outcome.event_types[Tick]
"""

GRAPH_REPRESENTATION = """
from workflows import Workflow, step
from workflows.events import Event, InputRequiredEvent, StartEvent, StopEvent
from workflows.representation import WorkflowGraph, get_workflow_representation

class Drafted(Event):
    text: str

class Ask(InputRequiredEvent):
    pass

class Writer(Workflow):
    \"\"\"Drafts, then publishes.\"\"\"

    @step
    async def draft(self, ev: StartEvent) -> Drafted | Ask:
        \"\"\"The first draft.\"\"\"
        return Drafted(text="x")

    @step
    async def publish(self, ev: Drafted) -> StopEvent:
        return StopEvent(result=ev.text)

async def main():
    graph = get_workflow_representation(Writer())
    again = WorkflowGraph.model_validate_json(graph.model_dump_json())
    steps_only = again.filter_by_node_type("event", "external")
    return (
        again == graph,
        [(node.node_type, node.id) for node in again.nodes],
        [(edge.source, edge.target) for edge in again.edges],
        [again.nodes[0].description, again.description],
        [(edge.source, edge.target, edge.label) for edge in steps_only.edges],
    )
"""

RUNS_UNCHANGED: dict[str, tuple[str, object]] = {
    # program name (the README item it backs, then what it shows): (source, outcome)
    "Steps and events: sync steps, start fields, positional result": (
        STEPS_AND_START_FIELDS,
        "OTTERS/OTTERS/PLAIN",
    ),
    "Branches and loops: unions and steps returning None": (
        BRANCH_LOOP_AND_NONE,
        ["looped", "skipped"],
    ),
    "Fan-out and fan-in: send_event, num_workers, collect_events": (
        FAN_OUT_AND_COLLECT,
        [[0, 10, 20], "to b only"],
    ),
    "Fan-out and fan-in: the first StopEvent ends the run": (FIRST_STOP_EVENT_WINS, "fast"),
    "Streaming and endings: progress, timeout, failure, cancellation": (
        STREAM_AND_END_EVENTS,
        (
            (["Progress", "Progress", "StopEvent"], "said"),
            ["a", "b"],
            (0.05, ["hang"]),
            ("explode", "ValueError('kaboom')"),
            [True, "WorkflowCancelledByUser"],
        ),
    ),
    "Human in the loop: event subclasses and wait_for_event": (
        HUMAN_IN_THE_LOOP,
        ["blue", True, "30"],
    ),
    "Human in the loop: save at a question, cancel, restore and answer": (
        SAVE_CANCEL_RESTORE,
        ["Ada", True],
    ),
    "State: typed and untyped, serializers, a context across runs": (
        STATE_STORE,
        ({"runs": 2, "names": ["a", "b"]}, [2, "y"]),
    ),
    "Custom StartEvent and StopEvent: by event and by keywords": (
        CUSTOM_START_AND_STOP,
        ["Receipt", "2 x tea", "1 x cake"],
    ),
    "Resources: cached and not": (
        RESOURCES,
        [["first", "second"], ["notebook", "scratch", "scratch"]],
    ),
    "Retries and recovery: policies and catch_error": (
        RETRIES_AND_CATCH_ERROR,
        (
            ["constant ok", "recovered call", "custom gave up"],
            {"constant": 3, "composed": 4, "custom": 2},
        ),
    ),
    "Free functions and nesting: free step, own __init__, inner workflow": (
        FREE_FUNCTION_STEP_AND_NESTING,
        41,
    ),
    "Validation and testing: refused graphs, disable_validation, WorkflowTestRunner": (
        VALIDATION_AND_TEST_RUNNER,
        ([True, True], "ran", "ticked", 2),
    ),
    "Graph representation: nodes, edges, filtering and a JSON round trip": (
        GRAPH_REPRESENTATION,
        (
            True,
            [
                ("step", "draft"),
                ("event", "StartEvent"),
                ("event", "Drafted"),
                ("event", "Ask"),
                ("external", "external_step"),
                ("step", "publish"),
                ("event", "StopEvent"),
            ],
            [
                ("draft", "Drafted"),
                ("draft", "Ask"),
                ("Ask", "external_step"),
                ("StartEvent", "draft"),
                ("publish", "StopEvent"),
                ("Drafted", "publish"),
            ],
            ["The first draft.", "Drafts, then publishes."],
            [("draft", "publish", "Drafted")],
        ),
    ),
}

SECOND_STREAM_CALL = """
from workflows import Workflow, step
from workflows.events import HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

class Ask(Workflow):
    @step
    async def ask(self, ev: StartEvent) -> InputRequiredEvent:
        return InputRequiredEvent(prefix="? ")

    @step
    async def answer(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)

async def main():
    handler = Ask().run()
    async for ev in handler.stream_events():
        if isinstance(ev, InputRequiredEvent):
            break
    handler.ctx.send_event(HumanResponseEvent(response="later"))
    async for ev in handler.stream_events():
        pass
    return await handler
"""

CONTEXT_ON_ANOTHER_INSTANCE = """
from workflows import Context, Workflow, step
from workflows.events import StartEvent, StopEvent

class One(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="ok")

async def main():
    ctx = Context(One())
    return await One().run(ctx=ctx)
"""

WORKFLOW_OPTIONS = """
from workflows import Workflow, step
from workflows.context import JsonSerializer
from workflows.events import StartEvent, StopEvent

class One(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="ok")

async def main():
    return await One(serializer=JsonSerializer()).run()
"""

STEP_OPTIONS = """
from workflows import Workflow, step
from workflows.events import Event, StartEvent, StopEvent

class Base(Event):
    pass

class Special(Base):
    pass

class Subclasses(Workflow):
    @step
    async def start(self, ev: StartEvent) -> Special:
        return Special()

    @step(accept_event_subclasses=True)
    async def take(self, ev: Base) -> StopEvent:
        return StopEvent(result=type(ev).__name__)

async def main():
    return await Subclasses().run()
"""

NOT_YET: dict[str, tuple[str, object, type[BaseException], str]] = {
    # README item: (source, outcome on workflows 2.26.1, error on agentflow, in its message)
    "A Context run by another instance of its workflow class": (
        CONTEXT_ON_ANOTHER_INSTANCE,
        "ok",
        Exception,
        "this Context belongs to another One instance",
    ),
    "A second stream_events() on one handler": (
        SECOND_STREAM_CALL,
        "later",
        Exception,
        "already consumed",
    ),
    "Workflow options beyond timeout, disable_validation and verbose": (
        WORKFLOW_OPTIONS,
        "ok",
        TypeError,
        "serializer",
    ),
    "@step(accept_event_subclasses=True)": (
        STEP_OPTIONS,
        "Special",
        TypeError,
        "accept_event_subclasses",
    ),
}
