"""A context saved by llama-index-workflows 2.x loads on agentflow and its run goes on.

Each program below is written against `workflows`. A test runs it on the reference
(llama-index-workflows 2.26.1), saves the run in flight with the reference's own
`ctx.to_dict()`, then loads that dict with `agentflow.Context.from_dict` into the same
program with its imports renamed to agentflow (under the same module name, as a user's own
module keeps its name when they switch) and resumes it there. The programs count their
step executions, so a test can check that no step the reference had completed runs again.
A save agentflow cannot read is refused with an error naming its key path.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import AsyncIterator, Callable
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any

import pytest
from llama_index.core.schema import TextNode  # [dev] installs it, and with it the reference
from pydantic import BaseModel

from agentflow import Context, Workflow, catch_error, step
from agentflow.context import serializers as agentflow_serializers
from agentflow.context.serializers import BaseSerializer
from agentflow.errors import ContextSerdeError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
)


def _reference_installed() -> bool:
    try:
        return version("llama-index-workflows").startswith("2.")
    except PackageNotFoundError:
        return False


pytestmark = pytest.mark.skipif(
    not _reference_installed(), reason="llama-index-workflows 2.x is not installed"
)

SERIALIZERS = ["JsonSerializer", "PickleSerializer"]

TYPED_STATE_QUESTION = """
from collections import Counter
from pydantic import BaseModel
from workflows import Context, Workflow, step
from workflows.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

RUNS = Counter()

class Profile(BaseModel):
    visits: int = 0
    names: list[str] = []

class Ready(Event):
    greeting: str

class Greeter(Workflow):
    @step
    async def prepare(self, ctx: Context[Profile], ev: StartEvent) -> Ready:
        RUNS["prepare"] += 1
        async with ctx.store.edit_state() as state:
            state.visits += 1
        return Ready(greeting=ev.greeting)

    @step
    async def ask(self, ctx: Context[Profile], ev: Ready) -> StopEvent:
        RUNS["ask"] += 1
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        async with ctx.store.edit_state() as state:
            state.names.append(answer.response)
            return StopEvent(result=f"{ev.greeting} {answer.response}, visit {state.visits}")
"""

DICT_STATE_TWO_QUESTIONS = """
import datetime
from collections import Counter
from workflows import Context, Workflow, step
from workflows.context.serializers import JsonSerializer, PickleSerializer
from workflows.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

RUNS = Counter()
BY_ID = True  # False: the waits go by requirements, under the engines' default waiter ids

def wait_for(about):
    return {"waiter_id": about} if BY_ID else {"requirements": {"about": about}}

class Opened(Event):
    topic: str

class Interview(Workflow):
    @step
    async def open(self, ctx: Context, ev: StartEvent) -> Opened:
        RUNS["open"] += 1
        await ctx.store.set("topic", ev.topic)
        await ctx.store.set("opened", datetime.date(2026, 1, 2) if ev.dates else "2026-01-02")
        return Opened(topic=ev.topic)

    @step
    async def interview(self, ctx: Context, ev: Opened) -> StopEvent:
        RUNS["interview"] += 1
        name = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?"), **wait_for("name")
        )
        colour = await ctx.wait_for_event(
            HumanResponseEvent,
            waiter_event=InputRequiredEvent(prefix="colour?"),
            **wait_for("colour"),
        )
        opened = await ctx.store.get("opened")
        return StopEvent(result=f"{ev.topic}: {name.response} likes {colour.response} ({opened})")
"""

QUEUED_AND_COLLECTED = """
from collections import Counter
from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StopEvent

RUNS = Counter()
WORKED = []
gate = None  # set to an asyncio.Event on the reference's side: Job 2 waits for it

class Job(Event):
    n: int

class Done(Event):
    n: int

class Fan(Workflow):
    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Job:
        RUNS["start"] += 1
        await ctx.store.set("jobs", 4)
        for n in range(4):
            ctx.send_event(Job(n=n))
        return None

    @step(num_workers=1)
    async def work(self, ctx: Context, ev: Job) -> Done:
        RUNS["work"] += 1
        WORKED.append(ev.n)
        if ev.n == 2 and gate is not None:
            await gate.wait()
        return Done(n=ev.n)

    @step
    async def gather(self, ctx: Context, ev: Done) -> StopEvent:
        RUNS["gather"] += 1
        jobs = await ctx.store.get("jobs")
        done = ctx.collect_events(ev, [Done] * jobs)
        if done is None:
            return None
        return StopEvent(result=sorted(d.n for d in done))
"""


def load(source: str, engine: str, name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """`source` with `from workflows...` turned into `from <engine>...`, as module `name`:
    both engines' copies of a program share its module name, so the class names the
    reference saved name the agentflow copy's classes once that is loaded."""
    code = re.sub(r"^(from|import) workflows\b", rf"\1 {engine}", source, flags=re.MULTILINE)
    module = ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(code, f"<{name} on {engine}>", "exec"), module.__dict__)
    return module


async def internal_events(handler: Any) -> AsyncIterator[tuple[str, str, Any]]:
    """The reference's stream with its step-state events, as (step, state, event); other
    events as ("", "", event). The reference publishes a step's state change from the same
    reduction that records it, so what a test has seen here is already in `to_dict()`."""
    async for event in handler.stream_events(expose_internal=True):
        if type(event).__name__ == "StepStateChanged":
            yield event.name, event.step_state.value, event
        else:
            yield "", "", event


def saved_as_stored(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as another process reads it back from a JSON column."""
    stored: dict[str, Any] = json.loads(json.dumps(data))
    return stored


async def answer_all(handler: Any, answers: dict[str, str]) -> tuple[Any, list[str]]:
    """Answer every question the agentflow run asks from `answers`; its result and the
    questions asked, in order."""
    asked = []
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            asked.append(event.prefix)
            reply = HumanResponseEvent(response=answers[event.prefix], about=event.prefix[:-1])
            handler.ctx.send_event(reply)
    return await handler, asked


async def save_typed_question(monkeypatch: pytest.MonkeyPatch, serializer: str) -> dict[str, Any]:
    ref = load(TYPED_STATE_QUESTION, "workflows", "li_saved_typed", monkeypatch)
    serializers = sys.modules["workflows.context.serializers"]
    handler = ref.Greeter(timeout=None).run(greeting="hello")
    async for event in handler.stream_events():
        if type(event).__name__ == "InputRequiredEvent":
            break
    saved = handler.ctx.to_dict(serializer=getattr(serializers, serializer)())
    await handler.cancel_run()
    assert ref.RUNS == {"prepare": 1, "ask": 1}
    return saved_as_stored(saved)


@pytest.mark.parametrize("serializer", SERIALIZERS)
async def test_a_typed_state_run_waiting_for_an_answer_resumes_on_agentflow(
    monkeypatch: pytest.MonkeyPatch, serializer: str
) -> None:
    saved = await save_typed_question(monkeypatch, serializer)
    ours = load(TYPED_STATE_QUESTION, "agentflow", "li_saved_typed", monkeypatch)
    workflow = ours.Greeter(timeout=10)
    ctx = Context.from_dict(
        workflow, saved, serializer=getattr(agentflow_serializers, serializer)()
    )
    assert ctx.has_unfinished_run
    state = await ctx.store.get_state()
    assert isinstance(state, ours.Profile)
    assert state.visits == 1

    result, asked = await answer_all(workflow.run(ctx=ctx), {"name?": "Ada"})

    assert result == "hello Ada, visit 1"
    assert asked == ["name?"]  # the question is asked again: the reference did not save it
    assert ours.RUNS == {"ask": 1}  # `prepare` had completed: it does not run again
    assert (await ctx.store.get_state()).names == ["Ada"]


async def test_state_saved_between_runs_carries_into_the_next_agentflow_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = load(TYPED_STATE_QUESTION, "workflows", "li_saved_typed", monkeypatch)
    ref_workflow = ref.Greeter(timeout=None)
    handler = ref_workflow.run(greeting="hi")
    async for event in handler.stream_events():
        if type(event).__name__ == "InputRequiredEvent":
            handler.ctx.send_event(_ref_answer("Bo", "name"))
    assert await handler == "hi Bo, visit 1"
    saved = saved_as_stored(handler.ctx.to_dict())
    assert saved["is_running"] is False

    ours = load(TYPED_STATE_QUESTION, "agentflow", "li_saved_typed", monkeypatch)
    workflow = ours.Greeter(timeout=10)
    ctx = Context.from_dict(workflow, saved)
    assert not ctx.has_unfinished_run  # the reference's run had ended: a new one starts
    result, _ = await answer_all(workflow.run(ctx=ctx, greeting="hi"), {"name?": "Cy"})
    assert result == "hi Cy, visit 2"
    assert (await ctx.store.get_state()).names == ["Bo", "Cy"]


def _ref_answer(response: str, about: str) -> Any:
    events = sys.modules["workflows.events"]
    return events.HumanResponseEvent(response=response, about=about)


@pytest.mark.parametrize("by_id", [True, False], ids=["waiter ids", "default waiter ids"])
@pytest.mark.parametrize("serializer", SERIALIZERS)
async def test_a_dict_state_run_with_one_of_two_answers_resumes_on_agentflow(
    monkeypatch: pytest.MonkeyPatch, serializer: str, by_id: bool
) -> None:
    ref = load(DICT_STATE_TWO_QUESTIONS, "workflows", "li_saved_dict", monkeypatch)
    ref.BY_ID = by_id
    handler = ref.Interview(timeout=None).run(topic="pets", dates=serializer == "PickleSerializer")
    async for event in handler.stream_events():
        if type(event).__name__ == "InputRequiredEvent":
            if event.prefix == "colour?":
                break
            handler.ctx.send_event(_ref_answer("Ada", "name"))
    saved = saved_as_stored(handler.ctx.to_dict(serializer=getattr(ref, serializer)()))
    await handler.cancel_run()
    waiters = saved["workers"]["interview"]["collected_waiters"]
    assert [w["resolved_event"] is not None for w in waiters] == [True, False]
    assert [w["waiter_id"] == "name" for w in waiters] == [by_id, False]
    opened = saved["state"]["state_data"]["_data"]["opened"]
    assert opened.startswith("gAS") == (serializer == "PickleSerializer")  # a date, pickled

    ours = load(DICT_STATE_TWO_QUESTIONS, "agentflow", "li_saved_dict", monkeypatch)
    ours.BY_ID = by_id
    workflow = ours.Interview(timeout=10)
    ctx = Context.from_dict(workflow, saved, serializer=getattr(ours, serializer)())
    assert await ctx.store.get("topic") == "pets"

    result, asked = await answer_all(workflow.run(ctx=ctx), {"colour?": "green"})

    assert result == "pets: Ada likes green (2026-01-02)"
    assert asked == ["colour?"]  # the answered question is not asked again
    assert ours.RUNS == {"interview": 1}


async def save_fan_in_flight(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, dict[str, Any]]:
    """The fan-out saved with Job 2 running, Job 3 queued behind it and Done 0 and 1
    collected."""
    import asyncio

    ref = load(QUEUED_AND_COLLECTED, "workflows", "li_saved_fan", monkeypatch)
    ref.gate = asyncio.Event()
    handler = ref.Fan(timeout=None).run()
    gathered = work_started = 0
    job_3_queued = False
    async for step_name, state, event in internal_events(handler):
        if step_name == "gather" and state == "not_running":
            gathered += 1
        if step_name == "work" and state == "running":
            work_started += 1
        if step_name == "work" and state == "preparing" and event.input_event_name == "Job":
            job_3_queued = True
        if gathered == 2 and work_started == 3 and job_3_queued:
            break
    saved = saved_as_stored(handler.ctx.to_dict())
    await handler.cancel_run()
    assert ref.WORKED == [0, 1, 2]
    return ref, saved


async def test_queued_running_and_partly_collected_events_resume_on_agentflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, saved = await save_fan_in_flight(monkeypatch)
    work = saved["workers"]["work"]
    assert len(work["queue"]) == 1
    assert len(work["in_progress"]) == 1
    assert len(saved["workers"]["gather"]["collected_events"]["default"]) == 2

    ours = load(QUEUED_AND_COLLECTED, "agentflow", "li_saved_fan", monkeypatch)
    workflow = ours.Fan(timeout=10)
    result = await workflow.run(ctx=Context.from_dict(workflow, saved))

    assert result == [0, 1, 2, 3]
    assert ours.WORKED == [2, 3]  # Job 2 runs again (it was running), Job 3 once
    assert ours.RUNS == {"work": 2, "gather": 2}  # nothing the reference completed


async def test_a_save_in_the_older_version_1_layout_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, saved = await save_fan_in_flight(monkeypatch)
    older = copy.deepcopy(saved)
    older["version"] = 1
    for worker in older["workers"].values():
        worker["in_progress"] = [item["event"] for item in worker["in_progress"]]

    ours = load(QUEUED_AND_COLLECTED, "agentflow", "li_saved_fan", monkeypatch)
    workflow = ours.Fan(timeout=10)
    assert await workflow.run(ctx=Context.from_dict(workflow, older)) == [0, 1, 2, 3]
    assert sorted(ours.WORKED) == [2, 3]


def edit(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(saved: dict[str, Any]) -> None:
        target: Any = saved
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


UNREADABLE: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("newer version", edit(("version",), 3), "version: "),
    ("version 0", edit(("version",), 0), "version: "),
    ("version not an int", edit(("version",), "2"), "version: "),
    ("is_running not a bool", edit(("is_running",), "yes"), "is_running: "),
    ("unknown key", edit(("mood",), "calm"), "mood: "),
    (
        "event not a string",
        edit(("workers", "work", "queue", 0, "event"), 3),
        "workers.work.queue[0].event: ",
    ),
    (
        "event not JSON",
        edit(("workers", "work", "queue", 0, "event"), "{nope"),
        "workers.work.queue[0].event",
    ),
    (
        "event of a class not imported",
        edit(
            ("workers", "work", "queue", 0, "event"),
            '{"__is_pydantic": true, "value": {}, "qualified_name": "not_imported_mod.Job"}',
        ),
        "workers.work.queue[0].event",
    ),
    (
        "event the step does not take",
        edit(
            ("workers", "work", "queue", 0, "event"),
            '{"__is_pydantic": true, "value": {"n": 1}, "qualified_name": "li_saved_fan.Done"}',
        ),
        "workers.work.queue[0].event",
    ),
    (
        "a step the workflow lacks",
        lambda saved: saved["workers"].__setitem__("reduce", saved["workers"].pop("work")),
        "workers.reduce",
    ),
    (
        "a multi-event fan-in",
        edit(("workers", "gather", "static_collect_events"), ["{}"]),
        "workers.gather.static_collect_events",
    ),
    (
        "a collection stream",
        edit(("workers", "work", "queue", 0, "scope_path"), ["stream_1"]),
        "workers.work.queue[0].scope_path",
    ),
    ("a durable state store", edit(("state", "store_type"), "postgres"), "state.store_type"),
    ("state of another shape", edit(("state", "state_data"), 5), "state.state_data"),
    (
        "state value not JSON",
        edit(("state", "state_data", "_data", "jobs"), "{nope"),
        "state.state_data._data.jobs",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "where"), [(m, w) for _, m, w in UNREADABLE], ids=[n for n, _, _ in UNREADABLE]
)
async def test_a_save_agentflow_cannot_read_is_refused_naming_the_key_path(
    monkeypatch: pytest.MonkeyPatch, mutate: Callable[[dict[str, Any]], None], where: str
) -> None:
    _, saved = await save_fan_in_flight(monkeypatch)
    mutate(saved)
    ours = load(QUEUED_AND_COLLECTED, "agentflow", "li_saved_fan", monkeypatch)
    with pytest.raises(ContextSerdeError) as raised:
        Context.from_dict(ours.Fan(), saved)
    assert str(raised.value).startswith("context saved by llama-index-workflows: ")
    assert where in str(raised.value)


class Ping(Event):
    n: int


class Relay(Workflow):
    """Written for agentflow: the target of the saves built by hand below, in the layout
    the reference writes, for what a live reference run rarely saves."""

    @step
    async def begin(self, ev: StartEvent) -> Ping:
        return Ping(n=0)

    @step
    async def ping(self, ctx: Context, ev: Ping) -> StopEvent:
        answer = await ctx.wait_for_event(HumanResponseEvent, waiter_id="go")
        return StopEvent(result=f"{ev.n} {answer.response}")

    @catch_error
    async def recover(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent(result="recovered")


def reference_json(event: Event) -> str:
    """`event` as the reference's JsonSerializer writes it."""
    kind = type(event)
    module = __name__ if kind.__module__ == __name__ else "workflows.events"
    return json.dumps(
        {
            "__is_pydantic": True,
            "value": event.model_dump(mode="json"),
            "qualified_name": f"{module}.{kind.__name__}",
        }
    )


def hand_save(**workers: dict[str, Any]) -> dict[str, Any]:
    return {"version": 2, "state": {}, "is_running": True, "workers": workers}


def waiting(n: int) -> dict[str, Any]:
    waiter = {
        "waiter_id": "go",
        "event": reference_json(Ping(n=n)),
        "waiting_for_event": "workflows.events.HumanResponseEvent",
    }
    return {"collected_waiters": [waiter]}


async def test_an_answer_sent_but_not_routed_when_saved_reaches_the_waiting_step() -> None:
    saved = hand_save(ping=waiting(5))
    saved["deliveries"] = [
        {
            "invocation_id": "i1",
            "index": 0,
            "event": reference_json(HumanResponseEvent(response="go!")),
        }
    ]
    workflow = Relay(timeout=10)
    assert await workflow.run(ctx=Context.from_dict(workflow, saved)) == "5 go!"


async def test_an_event_sent_to_a_step_but_not_routed_when_saved_goes_to_that_step() -> None:
    saved = hand_save()
    saved["deliveries"] = [
        {"invocation_id": "i1", "index": 0, "event": reference_json(Ping(n=7)), "step_id": "ping"}
    ]
    workflow = Relay(timeout=10)
    handler = workflow.run(ctx=Context.from_dict(workflow, saved))
    handler.ctx.send_event(HumanResponseEvent(response="sent"))
    assert await handler == "7 sent"


def test_the_recoveries_a_lineage_used_count_against_the_run() -> None:
    saved = hand_save(
        ping={"queue": [{"event": reference_json(Ping(n=1)), "recovery_counts": {"recover": 1}}]}
    )
    saved["workers"]["ping"]["queue"].append({"event": reference_json(Ping(n=2))})
    ctx = Context.from_dict(Relay(), saved)
    run = ctx.to_dict()["run"]  # saved again, in agentflow's own format
    assert run["recoveries"] == {"recover": 1}
    assert len(run["queued"]) == 2


class Tagged(BaseSerializer):
    """A serializer of the user's own: each event as `ping:<n>`."""

    def serialize(self, value: Any, where: str = "value") -> str:
        return f"ping:{value.n}"

    def deserialize(self, data: str) -> Any:
        return Ping(n=int(data.removeprefix("ping:")))


async def test_a_serializer_of_the_users_own_reads_the_saved_strings() -> None:
    saved = hand_save(ping={"queue": [{"event": "ping:4"}]})
    workflow = Relay(timeout=10)
    handler = workflow.run(ctx=Context.from_dict(workflow, saved, serializer=Tagged()))
    handler.ctx.send_event(HumanResponseEvent(response="mine"))
    assert await handler == "4 mine"


class Settings(BaseModel):
    level: int = 0


class Typed(Workflow):
    @step
    async def begin(self, ctx: Context[Settings], ev: StartEvent) -> StopEvent:
        return StopEvent(result=(await ctx.store.get_state()).level)


BY_HAND: list[tuple[str, Workflow, dict[str, Any], str]] = [
    (
        "recoveries of a step that is not a @catch_error step",
        Relay(),
        hand_save(
            ping={"queue": [{"event": reference_json(Ping(n=1)), "recovery_counts": {"ping": 1}}]}
        ),
        "workers.ping.queue[0].recovery_counts.ping: 'ping' is not a @catch_error step",
    ),
    (
        "two steps' buffers of one name",
        Relay(),
        hand_save(
            ping={"collected_events": {"shared": [reference_json(Ping(n=1))]}},
            begin={"collected_events": {"shared": [reference_json(Ping(n=2))]}},
        ),
        "workers.begin.collected_events.shared: steps 'ping' and 'begin' both collect",
    ),
    (
        "a DictState for a workflow with typed state",
        Typed(),
        {**hand_save(), "state": {"state_data": {"_data": {"level": "3"}}}},
        "state: the saved state is a DictState, but workflow Typed keeps its state in a Settings",
    ),
    (
        "a pickle without PickleSerializer",
        Typed(),
        {**hand_save(), "state": {"state_data": {"_data": {"level": "gAR9lC4="}}}},
        "state.state_data._data.level: not JSON",
    ),
    (
        "an open collection stream",
        Relay(),
        {**hand_save(), "streams": {"s1": {}}},
        "streams: the run has open collection streams",
    ),
]


@pytest.mark.parametrize(
    ("workflow", "saved", "message"),
    [case[1:] for case in BY_HAND],
    ids=[case[0] for case in BY_HAND],
)
def test_a_save_built_by_hand_agentflow_cannot_continue_is_refused(
    workflow: Workflow, saved: dict[str, Any], message: str
) -> None:
    with pytest.raises(ContextSerdeError, match=re.escape(message)):
        Context.from_dict(workflow, saved)


async def test_typed_state_saved_by_the_reference_loads_as_the_users_model() -> None:
    state = reference_json(Settings(level=3))
    saved = {**hand_save(), "is_running": False, "state": {"state_data": state}}
    workflow = Typed(timeout=10)
    assert await workflow.run(ctx=Context.from_dict(workflow, saved)) == 3


async def test_a_llamaindex_component_in_the_state_loads_as_itself() -> None:
    reference_json_serializer = sys.modules["workflows.context.serializers"].JsonSerializer
    node = reference_json_serializer().serialize(TextNode(text="kept", id_="n1"))
    assert '"__is_component": true' in node
    saved = {**hand_save(), "state": {"state_data": {"_data": {"node": node}}}}
    ctx = Context.from_dict(Relay(), saved)
    loaded = await ctx.store.get("node")
    assert isinstance(loaded, TextNode)
    assert (loaded.text, loaded.id_) == ("kept", "n1")
