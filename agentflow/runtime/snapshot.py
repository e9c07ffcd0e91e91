"""A run's resumable state, as `Context.to_dict` writes it and `Context.from_dict` reads it.

Everything a run needs to go on in another process: the events waiting for a step, the
events steps were handling (those steps run again from their start), the answers their
`wait_for_event` calls had already received (returned at once on the re-run), events no
one had taken yet, `collect_events` buffers, the `@catch_error` budget used, and the
stream: how many events were consumed, the ones not consumed yet, and the questions
(InputRequiredEvents) still unanswered. A step that was waiting is not saved as a waiter:
it runs again on resume, and its `wait_for_event` call registers the waiter anew (or
returns the answer it already had).

This module takes a run's snapshot and restores one into a run that has not started;
`agentflow.context.saved_run` writes it as text and reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agentflow.events import Event
from agentflow.runtime.collect import Collections
from agentflow.runtime.execution import Execution, RunLink
from agentflow.runtime.stall import check_stalled_soon, restored
from agentflow.runtime.waiters import Waiters

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun


@dataclass(slots=True)
class InProgress:
    """A step execution under way when the snapshot was taken."""

    step: str
    """The step's name."""
    event: Event
    """The event it was handling; the step runs again on it."""
    execution: int | None
    """Its execution number, which default `waiter_id`s are made from."""
    answered: dict[str, Event] = field(default_factory=dict)
    """Events its `wait_for_event` calls had received, by waiter_id."""
    collected: list[list[Event] | None] = field(default_factory=list)
    """What its `collect_events` calls had returned, in call order."""


@dataclass(slots=True)
class RunSnapshot:
    """One run's resumable state; see the module docstring."""

    queued: list[tuple[str, Event]] = field(default_factory=list)
    in_progress: list[InProgress] = field(default_factory=list)
    unclaimed: list[Event] = field(default_factory=list)
    collected: dict[str, list[Event]] = field(default_factory=dict)
    recoveries: dict[str, int] = field(default_factory=dict)
    next_execution: int = 0
    stream_position: int = 0
    """How many streamed events the consumer had taken."""
    unconsumed: list[Event] = field(default_factory=list)
    """Events streamed first on resume: unanswered questions the consumer had already
    taken, then the events it had not taken yet."""
    open_questions: list[int] = field(default_factory=list)
    """Positions in `unconsumed` of the InputRequiredEvents that steps returned and no
    HumanResponseEvent has answered yet, oldest first."""


def take_snapshot(run: WorkflowRun) -> RunSnapshot:
    """Everything needed to go on with `run` elsewhere. The steps it is executing run
    again on resume; a question a waiting step asked is asked again when that step re-runs,
    so it is not streamed twice; questions a step returned that the consumer has taken but
    nobody answered are streamed again first."""
    queued = [(name, event) for name, lane in run.lanes.items() for event in lane.pending or ()]
    if not run.started:
        if run.resume is not None:
            return run.resume
        if run.start_event is not None:
            queued = [
                (spec.name, run.start_event) for spec in run.table.route(type(run.start_event))
            ]
    waiters = run.waiters
    asked_again = {id(event) for event in waiters.questions()} if waiters is not None else set()
    unconsumed = [event for event in run.stream.unconsumed() if id(event) not in asked_again]
    open_questions = run.open_questions or []
    consumed_questions = [
        question
        for question in open_questions
        if not any(question is event for event in unconsumed)
    ]
    streamed = consumed_questions + unconsumed
    return RunSnapshot(
        queued=queued,
        in_progress=[
            InProgress(
                step=execution.step,
                event=execution.event,
                execution=execution.number,
                answered=dict(execution.answered or {}),
                collected=execution.collected_by_call(),
            )
            for execution in run.executing
        ],
        unclaimed=[item.event for item in run.unclaimed or ()],
        collected=run.collections.saved() if run.collections is not None else {},
        recoveries=dict(run.recoveries or {}),
        next_execution=waiters.next_execution if waiters is not None else 0,
        stream_position=run.stream.position(),
        unconsumed=streamed,
        open_questions=[
            next(i for i, event in enumerate(streamed) if event is question)
            for question in open_questions
        ],
    )


def restore(run: WorkflowRun, snapshot: RunSnapshot) -> None:
    """Go on from `snapshot` in `run`, which has not started: stream what the consumer had
    not seen, re-run the steps that were running, then deliver the queued events."""
    run.stream.resume_at(snapshot.stream_position)
    for event in snapshot.unconsumed:
        run.stream.write(event)
    run.open_questions = [snapshot.unconsumed[i] for i in snapshot.open_questions] or None
    if snapshot.unclaimed:
        run.unclaimed = [restored(event) for event in snapshot.unclaimed]
    run.recoveries = dict(snapshot.recoveries) or None
    if snapshot.next_execution:
        run.waiters = Waiters(snapshot.next_execution)
    if snapshot.collected:
        run.collections = Collections(snapshot.collected)
    for item in snapshot.in_progress:
        run.start_worker(run.lanes[item.step], item.event, _resumed(run.link, item))
    for step_name, event in snapshot.queued:
        run.deliver(run.lanes[step_name], event)
    if run.unclaimed and not run.executing:
        check_stalled_soon(run)


def _resumed(link: RunLink, item: InProgress) -> Execution:
    """The execution `item` was, going on: its waits' answers are given back at once and
    its collections give back what they gave before the save."""
    execution = Execution(link, item.step, item.event)
    execution.number, execution.answered = item.execution, dict(item.answered)
    execution.collected = {
        call: events for call, events in enumerate(item.collected) if events is not None
    } or None
    execution.replayed = len(item.collected)
    execution.touched = True
    return execution
