"""What a step execution carries while it runs: the context variable naming it, the link
to its run, its waits and collections (replayed when it runs again after a retry or a
resume), and the waiters `wait_for_event` registers.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentflow.events import Event

if TYPE_CHECKING:
    from agentflow.context.state_store import InMemoryStateStore
    from agentflow.runtime.run import WorkflowRun

current_execution: contextvars.ContextVar[Execution | None] = contextvars.ContextVar(
    "agentflow_current_execution", default=None
)
"""The step execution the running task performs (its step and run); set once per worker
task. A workflow run from there is that run's child."""


class RunLink:
    """How a step execution reaches its run: through this link, which the run cuts when
    it ends.

    Whatever a step schedules (`loop.call_later`, a task, a thread) runs with a copy of the
    step's context variables, `current_execution` among them. Were the execution to hold
    its run, such a copy would keep the run, and through it the workflow and its context,
    alive for as long as the callback waits. Through the link, a finished run is
    collectable, and a late call from one of its steps finds it ended.
    """

    __slots__ = ("run", "store", "workflow_name")

    def __init__(self, run: WorkflowRun, store: InMemoryStateStore[Any], workflow_name: str):
        self.run: WorkflowRun | None = run
        """The run, until it ends."""
        self.store = store
        """The state store of the run's context, which tells that context apart from any
        other without holding it (a context holds its workflow)."""
        self.workflow_name = workflow_name
        """For messages about the run once it has ended."""


class Execution:
    """What one worker is doing now, kept so that a snapshot can resume it."""

    __slots__ = (
        "answered",
        "collected",
        "collects",
        "event",
        "link",
        "number",
        "replayed",
        "step",
        "touched",
        "waits",
    )

    def __init__(self, link: RunLink, step: str, event: Event) -> None:
        self.link = link
        self.step = step
        self.event = event
        self.number: int | None = None
        self.touched = False
        """Set once the execution waited, completed a collection or runs again: the
        worker's next event then starts with everything below cleared (`start_over`).
        A collection that only buffered leaves it unset, so that the fan-in's hot path
        costs one counter (`collects`) and nothing else."""
        self.waits = 0
        self.answered: dict[str, Event] | None = None
        """Events its `wait_for_event` calls received, by waiter_id."""
        self.collects = 0
        """How many `collect_events` calls this attempt has made."""
        self.replayed = 0
        """How many calls an earlier attempt (before a retry or a save) made: this many
        first calls give back what they gave then instead of buffering their event again."""
        self.collected: dict[int, list[Event]] | None = None
        """What its `collect_events` calls returned, by call number, where not None."""

    def replay(self) -> None:
        """Before a retry: the step runs again from its start, and its waits and
        collections give back what they gave the first time."""
        self.replayed = max(self.replayed, self.collects)
        self.waits = self.collects = 0
        self.touched = True

    def record_collected(self, events: list[Event]) -> None:
        """Remember that the collection just made returned `events`, for a re-run."""
        if self.collected is None:
            self.collected = {}
        self.collected[self.collects - 1] = events
        self.touched = True

    def collected_by_call(self) -> list[list[Event] | None]:
        """What each `collect_events` call made so far returned, in call order."""
        recorded = self.collected or {}
        return [recorded.get(call) for call in range(max(self.collects, self.replayed))]

    def start_over(self) -> None:
        """Forget this execution's waits and collections: its worker moves on to the
        next event of its lane."""
        self.touched = False
        self.waits = self.collects = self.replayed = 0
        self.number = self.answered = self.collected = None


@dataclass(slots=True)
class Waiter:
    """A step suspended in `ctx.wait_for_event`."""

    event_type: type[Event]
    requirements: dict[str, Any]
    future: asyncio.Future[Event]
    waiter_id: str
    execution: Execution | None
    waiter_event: Event | None

    def matches(self, event: Event) -> bool:
        if not isinstance(event, self.event_type):
            return False
        return all(
            getattr(event, key, _ABSENT) == value for key, value in self.requirements.items()
        )


_ABSENT = object()


def record_answer(execution: Execution | None, waiter_id: str, event: Event) -> None:
    """Remember that `execution` received `event` for `waiter_id`, for a re-run."""
    if execution is not None:
        if execution.answered is None:
            execution.answered = {}
        execution.answered[waiter_id] = event
