"""A run's snapshot written as, and read back from, the JSON-ready `run` entry of a saved
context (`Context.to_dict` / `Context.from_dict`).

The snapshot itself (`agentflow.runtime.snapshot`) is plain data that the runtime takes and
restores; turning it into text with a serializer, and checking text from elsewhere before
anything of it is used, is the context's side of the seam.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentflow.context.saved_format import child_path
from agentflow.context.serializers import BaseSerializer
from agentflow.errors import ContextSerdeError
from agentflow.events import Event, InputRequiredEvent
from agentflow.runtime.snapshot import InProgress, RunSnapshot

if TYPE_CHECKING:
    from agentflow.context.saved_format import SavedRun
    from agentflow.runtime.step_table import StepTable


def run_to_dict(snapshot: RunSnapshot, serializer: BaseSerializer) -> dict[str, Any]:
    """`snapshot` as a JSON-ready dict; every event and value goes through `serializer`.
    An empty list or dict is left out (format version 2): loading reads it as empty."""

    def event(value: Event, where: str) -> str:
        return serializer.serialize(value, where)

    in_progress = []
    for item in snapshot.in_progress:
        running: dict[str, Any] = {
            "step": item.step,
            "event": event(item.event, f"event of running step '{item.step}'"),
            "execution": item.execution,
            "answered": {
                waiter_id: event(answer, f"answer to waiter '{waiter_id}'")
                for waiter_id, answer in item.answered.items()
            },
            "collected": [
                None
                if events is None
                else [event(ev, f"event collected by step '{item.step}'") for ev in events]
                for events in item.collected
            ],
        }
        in_progress.append(_without_empty(running))
    stream = {
        "position": snapshot.stream_position,
        "unconsumed": [event(ev, "streamed event") for ev in snapshot.unconsumed],
        "open_questions": list(snapshot.open_questions),
    }
    run = {
        "queued": [
            {"step": step, "event": event(ev, f"event queued for step '{step}'")}
            for step, ev in snapshot.queued
        ],
        "in_progress": in_progress,
        "unclaimed": [event(ev, "event no step had taken") for ev in snapshot.unclaimed],
        "collected": {
            key: [event(ev, f"event collected by '{key}'") for ev in events]
            for key, events in snapshot.collected.items()
        },
        "recoveries": dict(snapshot.recoveries),
        "next_execution": snapshot.next_execution,
        "stream": _without_empty(stream),
    }
    return _without_empty(run)


def _without_empty(entries: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entries.items() if value != [] and value != {}}


def run_from_saved(saved: SavedRun, serializer: BaseSerializer, table: StepTable) -> RunSnapshot:
    """The snapshot `to_dict` wrote (its shape already checked), for the workflow whose
    steps `table` holds. Every event is decoded and checked against the step it goes
    to, and every counter against the others, so that restoring it cannot fail
    halfway; each problem is a ContextSerdeError naming its key path."""
    _check_execution_numbers(saved)
    loader = _EventLoader(serializer, table)
    in_progress = [
        InProgress(
            step=loader.step(item.step, f"run.in_progress[{index}]"),
            event=loader.for_step(item.step, item.event, f"run.in_progress[{index}]"),
            execution=item.execution,
            answered={
                waiter_id: loader.event(
                    text, child_path(f"run.in_progress[{index}].answered", waiter_id)
                )
                for waiter_id, text in item.answered.items()
            },
            collected=[
                None
                if texts is None
                else [
                    loader.event(text, f"run.in_progress[{index}].collected[{call}][{n}]")
                    for n, text in enumerate(texts)
                ]
                for call, texts in enumerate(item.collected)
            ],
        )
        for index, item in enumerate(saved.in_progress)
    ]
    unconsumed = [
        loader.event(text, f"run.stream.unconsumed[{index}]")
        for index, text in enumerate(saved.stream.unconsumed)
    ]
    return RunSnapshot(
        queued=[
            (
                loader.step(item.step, f"run.queued[{index}]"),
                loader.for_step(item.step, item.event, f"run.queued[{index}]"),
            )
            for index, item in enumerate(saved.queued)
        ],
        in_progress=in_progress,
        unclaimed=[
            loader.event(text, f"run.unclaimed[{index}]")
            for index, text in enumerate(saved.unclaimed)
        ],
        collected={
            key: [
                loader.event(text, f"{child_path('run.collected', key)}[{index}]")
                for index, text in enumerate(texts)
            ]
            for key, texts in saved.collected.items()
        },
        recoveries=_recoveries(saved.recoveries, table),
        next_execution=saved.next_execution,
        stream_position=saved.stream.position,
        unconsumed=unconsumed,
        open_questions=_open_questions(saved.stream.open_questions, unconsumed),
    )


class _EventLoader:
    """Decodes the saved run's events, each checked to be an event and, where it goes to
    a step, one that step accepts."""

    def __init__(self, serializer: BaseSerializer, table: StepTable) -> None:
        self.serializer = serializer
        self.table = table

    def step(self, name: str, where: str) -> str:
        if name not in self.table.steps:
            raise ContextSerdeError(
                f"{where}.step: the saved context names step '{name}', which workflow "
                f"{self.table.workflow_name} does not have (steps: "
                f"{', '.join(sorted(self.table.steps))})"
            )
        return name

    def event(self, text: str, where: str) -> Event:
        value = self.serializer.deserialize_at(text, where)
        if not isinstance(value, Event):
            raise ContextSerdeError(
                f"{where}: the saved context holds a value of type {type(value).__name__} "
                "here, where an event belongs"
            )
        return value

    def for_step(self, step: str, text: str, item: str) -> Event:
        """The event of `item` (a queued or running entry) for `step`."""
        where = f"{item}.event (for step '{step}')"
        event = self.event(text, where)
        spec = self.table.steps[step]
        if not spec.accepts(type(event)):
            accepted = ", ".join(t.__name__ for t in spec.accepted)
            raise ContextSerdeError(
                f"{where}: a {type(event).__name__}, which the step does not accept (it "
                f"accepts {accepted})"
            )
        return event


def _check_execution_numbers(saved: SavedRun) -> None:
    # Numbers are handed out from next_execution on, and default waiter ids are made from
    # them: a saved number at or past it, or used twice, would make two executions share
    # their waiter ids.
    seen: set[int] = set()
    for index, item in enumerate(saved.in_progress):
        number, where = item.execution, f"run.in_progress[{index}].execution"
        if number is None:
            continue
        if number >= saved.next_execution:
            raise ContextSerdeError(
                f"{where}: execution number {number} is not below run.next_execution "
                f"({saved.next_execution})"
            )
        if number in seen:
            raise ContextSerdeError(f"{where}: execution number {number} is used twice")
        seen.add(number)


def _recoveries(recoveries: dict[str, int], table: StepTable) -> dict[str, int]:
    for name in recoveries:
        spec = table.steps.get(name)
        if spec is None or spec.catch_error is None:
            handlers = [s.name for s in table.steps.values() if s.catch_error is not None]
            raise ContextSerdeError(
                f"{child_path('run.recoveries', name)}: '{name}' is not a @catch_error step of "
                f"workflow {table.workflow_name} (those are: {', '.join(handlers) or 'none'})"
            )
    return dict(recoveries)


def _open_questions(positions: list[int], unconsumed: list[Event]) -> list[int]:
    seen: set[int] = set()
    for index, position in enumerate(positions):
        where = f"run.stream.open_questions[{index}]"
        if position >= len(unconsumed):
            raise ContextSerdeError(
                f"{where}: position {position} is past the {len(unconsumed)} events of "
                "run.stream.unconsumed"
            )
        if not isinstance(unconsumed[position], InputRequiredEvent):
            raise ContextSerdeError(
                f"{where}: position {position} holds a {type(unconsumed[position]).__name__}, "
                "not an InputRequiredEvent"
            )
        if position in seen:
            raise ContextSerdeError(f"{where}: position {position} is listed twice")
        seen.add(position)
    return list(positions)
