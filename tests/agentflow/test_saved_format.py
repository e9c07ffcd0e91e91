"""Loading a saved context: every malformed input is a ContextSerdeError naming its key
path, a snapshot is only loaded by the workflow that saved it, loading never imports a
module, and a run that fails while being restored leaves nothing behind."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentflow import Context, Workflow, catch_error, step
from agentflow.context.serializers import JsonSerializer, PickleSerializer, RestoredError
from agentflow.errors import ContextSerdeError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
)
from agentflow.runtime.run import WorkflowRun


class Done(Event):
    index: int


class Interview(Workflow):
    """One step that asks two questions; a failure goes to `recover`."""

    @step
    async def interview(self, ctx: Context, ev: StartEvent) -> StopEvent:
        name = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        colour = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="colour?")
        )
        return StopEvent(result=f"{name.response} likes {colour.response}")

    @catch_error
    async def recover(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent(result="recovered")


class Survey(Workflow):
    """Another workflow with a step of the same name."""

    @step
    async def interview(self, ev: StartEvent) -> StopEvent:
        return StopEvent()


async def answer(handler: Any, answers: dict[str, str | None]) -> None:
    """Answer each question from `answers`; on None, cancel the run (keeping it to resume)."""
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            reply = answers[event.prefix]
            if reply is None:
                await handler.cancel_run()
            else:
                handler.ctx.send_event(HumanResponseEvent(response=reply))


async def saved_mid_interview() -> dict[str, Any]:
    """A run saved while its step waits for the second answer, as another process reads it."""
    handler = Interview(timeout=None).run()
    await answer(handler, {"name?": "Ada", "colour?": None})
    saved: dict[str, Any] = json.loads(json.dumps(handler.ctx.to_dict()))
    return saved


def text(value: Any) -> str:
    return JsonSerializer().serialize(value)


def delete(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(saved: dict[str, Any]) -> None:
        target: Any = saved
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return mutate


def put(value: Any, *path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(saved: dict[str, Any]) -> None:
        target: Any = saved
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def question_then(position: int, second: Event) -> Callable[[dict[str, Any]], None]:
    def mutate(saved: dict[str, Any]) -> None:
        stream = saved["run"]["stream"]
        stream["unconsumed"] = [text(InputRequiredEvent(prefix="q")), text(second)]
        stream["open_questions"] = [position]

    return mutate


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    # missing keys
    ("no state", delete("state"), "state"),
    ("no workflow", delete("workflow"), "workflow"),
    ("no run", delete("run"), "run"),
    ("no stream", delete("run", "stream"), "run.stream"),
    ("no position", delete("run", "stream", "position"), "run.stream.position"),
    ("no step", delete("run", "in_progress", 0, "step"), "run.in_progress[0].step"),
    (
        "answered not a dict",
        put([], "run", "in_progress", 0, "answered"),
        "run.in_progress[0].answered",
    ),
    # state or events that are not JSON, or not what they claim
    ("state not JSON", put("{not json", "state"), "state"),
    ("event not JSON", put("", "run", "in_progress", 0, "event"), "run.in_progress[0].event"),
    (
        "answer not JSON",
        put({"interview:0:0": "[1,"}, "run", "in_progress", 0, "answered"),
        "run.in_progress[0].answered['interview:0:0']",
    ),
    (
        "model without a required field",
        put([json.dumps({"__model__": f"{__name__}:Done"})], "run", "unclaimed"),
        "run.unclaimed[0]",
    ),
    (
        "model of format 1 without its extra",
        put(['{"__model__": "agentflow.events:StartEvent", "fields": {}}'], "run", "unclaimed"),
        "run.unclaimed[0]: the saved value has no 'extra'",
    ),
    (
        "model of format 1 whose fields are not a dict",
        put(
            ['{"__model__": "agentflow.events:StartEvent", "fields": 5, "extra": {}}'],
            "run",
            "unclaimed",
        ),
        "run.unclaimed[0]: its 'fields' should be a dict",
    ),
    (
        "event failing its own validation",
        put(
            [text(Done(index=1)).replace("1", '"x"')],
            "run",
            "unclaimed",
        ),
        "run.unclaimed[0]: the saved Done is not valid: index:",
    ),
    ("state holding a list", put("[1, 2]", "state"), "state"),
    ("a number where an event belongs", put(["3"], "run", "unclaimed"), "run.unclaimed[0]"),
    (
        "waiter of an earlier format without its id",
        put(
            [{"event_type": "agentflow.events:HumanResponseEvent", "requirements": "{}"}],
            "run",
            "waiters",
        ),
        "run.waiters[0].waiter_id",
    ),
    # wrong field types
    ("state as a dict", put({}, "state"), "state"),
    ("run as a list", put([], "run"), "run"),
    ("queued as a dict", put({}, "run", "queued"), "run.queued"),
    ("step as a number", put(3, "run", "in_progress", 0, "step"), "run.in_progress[0].step"),
    ("counter as text", put("1", "run", "next_execution"), "run.next_execution"),
    ("position as a bool", put(True, "run", "stream", "position"), "run.stream.position"),
    ("counter as a float", put(1.0, "run", "next_execution"), "run.next_execution"),
    ("unknown key", put([], "run", "bogus"), "run.bogus"),
    # bad counters
    ("negative counter", put(-1, "run", "next_execution"), "run.next_execution"),
    ("negative position", put(-2, "run", "stream", "position"), "run.stream.position"),
    (
        "execution not yet numbered",
        put(5, "run", "in_progress", 0, "execution"),
        "run.in_progress[0].execution",
    ),
    (
        "question out of range",
        put([4], "run", "stream", "open_questions"),
        "run.stream.open_questions[0]",
    ),
    (
        "question that is not a question",
        question_then(1, HumanResponseEvent(response="x")),
        "run.stream.open_questions[0]",
    ),
    ("recoveries of a plain step", put({"interview": 1}, "run", "recoveries"), "run.recoveries"),
    (
        "negative recoveries",
        put({"recover": -1}, "run", "recoveries"),
        "run.recoveries.recover",
    ),
    # steps and the events they accept
    ("unknown step", put("renamed", "run", "in_progress", 0, "step"), "run.in_progress[0].step"),
    (
        "event the step does not accept",
        put(text(Done(index=1)), "run", "in_progress", 0, "event"),
        "run.in_progress[0].event",
    ),
    (
        "queued event the step does not accept",
        put([{"step": "interview", "event": text(Done(index=1))}], "run", "queued"),
        "run.queued[0].event",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [pytest.param(mutate, path, id=name) for name, mutate, path in MALFORMED],
)
async def test_malformed_input_is_a_context_serde_error_naming_the_key_path(
    mutate: Callable[[dict[str, Any]], None], path: str
) -> None:
    saved = await saved_mid_interview()
    mutate(saved)
    with pytest.raises(ContextSerdeError) as raised:
        Context.from_dict(Interview(), saved)
    assert raised.type is ContextSerdeError
    assert path in str(raised.value)


async def test_a_pickled_context_that_cannot_be_read_names_the_key_path() -> None:
    workflow = Interview(timeout=None)
    saved = Context(workflow).to_dict(serializer=PickleSerializer())
    for broken in ("not base64!", "aGVsbG8="):  # the second is base64, but not a pickle
        with pytest.raises(ContextSerdeError, match=r"^state: ") as raised:
            Context.from_dict(workflow, {**saved, "state": broken}, serializer=PickleSerializer())
        assert raised.type is ContextSerdeError


def test_a_saved_context_that_is_not_a_dict_is_refused() -> None:
    with pytest.raises(ContextSerdeError, match="saved context is a list"):
        Context.from_dict(Interview(), [])  # type: ignore[arg-type]


async def test_the_unmodified_snapshot_loads_and_resumes() -> None:
    saved = await saved_mid_interview()
    workflow = Interview(timeout=None)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    await answer(resumed, {"colour?": "green"})
    assert await resumed == "Ada likes green"


async def test_a_snapshot_with_the_waiters_earlier_versions_wrote_still_resumes() -> None:
    """Waiters are no longer saved (the waiting step registers its waiter again when it
    re-runs); a save that has them, as earlier versions wrote it, loads and resumes."""
    saved = await saved_mid_interview()
    assert "waiters" not in saved["run"]
    saved["run"]["waiters"] = [
        {
            "waiter_id": "interview:0:1",
            "event_type": "agentflow.events:HumanResponseEvent",
            "requirements": text({}),
        }
    ]
    workflow = Interview(timeout=None)
    handler = workflow.run(ctx=Context.from_dict(workflow, saved))
    await answer(handler, {"colour?": "green"})
    assert await handler == "Ada likes green"


async def test_a_save_leaves_out_the_run_s_empty_lists_and_dicts() -> None:
    saved = await saved_mid_interview()
    assert saved["version"] == 2
    assert set(saved["run"]) == {"in_progress", "next_execution", "stream"}
    assert set(saved["run"]["in_progress"][0]) == {"step", "event", "execution", "answered"}
    assert saved["run"]["stream"] == {"position": 2}


async def test_a_context_format_1_wrote_loads_and_resumes() -> None:
    """Saved by agentflow at 9083816 (format version 1, every list written, every model as
    `{"__model__", "fields", "extra"}`) while the interview waited for its second answer."""
    saved = json.loads((Path(__file__).parent / "saved_interview_format_1.json").read_text())
    assert saved["version"] == 1
    workflow = Interview(timeout=None)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    await answer(resumed, {"colour?": "green"})
    assert await resumed == "Ada likes green"


async def test_a_snapshot_of_one_workflow_is_refused_by_another_naming_both() -> None:
    saved = await saved_mid_interview()
    with pytest.raises(ContextSerdeError, match=r"Interview.*Survey|Survey.*Interview"):
        Context.from_dict(Survey(), saved)


PROBE_MODULE = "agentflow_snapshot_probe"
PROBE_SOURCE = """
from pathlib import Path

from agentflow.events import Event

Path(__file__).with_name("probe-imported").write_text("imported")


class Probe(Event):
    note: str = ""


class ProbeError(Exception):
    pass
"""


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module on the path that leaves a file behind when imported; the marker path."""
    (tmp_path / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PROBE_MODULE, raising=False)
    return tmp_path / "probe-imported"


def left_its_mark(marker: Path) -> bool:
    """True once the probe module has been imported."""
    return marker.exists()


def probe_model(name: str) -> dict[str, Any]:
    return {"__model__": f"{PROBE_MODULE}:{name}", "fields": {}, "extra": {}}


async def test_loading_never_imports_the_module_an_event_names(probe: Path) -> None:
    saved = await saved_mid_interview()
    saved["run"]["unclaimed"] = [json.dumps(probe_model("Probe"))]
    with pytest.raises(ContextSerdeError) as raised:
        Context.from_dict(Interview(), saved)
    assert f"{PROBE_MODULE}:Probe" in str(raised.value)
    assert "run.unclaimed[0]" in str(raised.value)
    assert not left_its_mark(probe)
    assert PROBE_MODULE not in sys.modules
    # Imported by the application itself, the class is found.
    module = importlib.import_module(PROBE_MODULE)
    loaded = Context.from_dict(Interview(), saved).to_dict()
    assert json.loads(loaded["run"]["unclaimed"][0])["__model__"] == f"{PROBE_MODULE}:Probe"
    assert module.Probe.__module__ == PROBE_MODULE


async def test_loading_never_imports_the_module_state_names(probe: Path) -> None:
    state = {
        "__model__": "agentflow.context.state_store:DictState",
        "fields": {},
        "extra": {
            "found": probe_model("Probe"),
            "error": {
                "__exception__": f"{PROBE_MODULE}:ProbeError",
                "args": ["x"],
                "message": "x",
            },
        },
    }
    saved = await saved_mid_interview()
    saved["state"] = json.dumps(state)
    with pytest.raises(ContextSerdeError, match=f"state.*{PROBE_MODULE}:Probe"):
        Context.from_dict(Interview(), saved)
    del state["extra"]["found"]  # type: ignore[attr-defined]
    saved["state"] = json.dumps(state)
    ctx = Context.from_dict(Interview(), saved)
    error = await ctx.store.get("error")
    assert isinstance(error, RestoredError)
    assert str(error) == f"{PROBE_MODULE}:ProbeError: x"
    assert not left_its_mark(probe)
    assert PROBE_MODULE not in sys.modules


async def test_a_run_failing_while_restored_leaves_no_task_and_the_context_usable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved = await saved_mid_interview()
    # A queued event makes the restore deliver it after the running step's worker started.
    saved["run"]["queued"] = [{"step": "interview", "event": text(StartEvent())}]
    workflow = Interview(timeout=None)
    ctx = Context.from_dict(workflow, saved)

    def refuse(self: WorkflowRun, lane: Any, event: Event) -> None:
        raise RuntimeError("injected: delivery failed")

    before = asyncio.all_tasks()
    monkeypatch.setattr(WorkflowRun, "deliver", refuse)
    with pytest.raises(RuntimeError, match="injected"):
        workflow.run(ctx=ctx)
    monkeypatch.undo()

    left = asyncio.all_tasks() - before
    assert left, "the restore had started a driver and a worker"
    assert all(task.done() or task.cancelling() for task in left)
    assert not ctx.is_running
    assert ctx.has_unfinished_run
    resumed = workflow.run(ctx=ctx)
    await answer(resumed, {"name?": "Bo", "colour?": "red"})
    assert await resumed == "Ada likes red"
