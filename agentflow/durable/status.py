"""`RunStatusNotes`: a durable run's status in the store, `running` or `waiting`, kept up
with what the run can do.

A run is `waiting` while every step it runs is suspended in `ctx.wait_for_event`, or while
it has nothing left to run and is not stuck: a question a step returned is out (the classic
LlamaIndex human in the loop, where another step takes the answer), or it waits for an
event its callers send. Whoever sees a question finds the run waiting already: a wait is
noted before it streams its question, and a step whose returned question leaves the run
nothing else to do has the note written with its completion, before the question is
streamed. An event from outside makes an idle run `running` again, in the write of its own
record. In `"exit"` the `waiting` write carries a checkpoint (`RunJournal`), so that a run
can be answered after its process is gone.

Only a durable run has these notes; a run in memory pays nothing for them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from agentflow.events import Event
from agentflow.stores.base import RunStatus

if TYPE_CHECKING:
    from agentflow.runtime.execution import Execution
    from agentflow.runtime.run import WorkflowRun


class RunStatusNotes:
    """One durable run's status, as the store last heard it; see the module docstring."""

    __slots__ = ("_noted", "_run", "routing", "status", "suspended")

    def __init__(self, run: WorkflowRun) -> None:
        self._run = run
        self.status: RunStatus = "running"
        self._noted: asyncio.Future[None] | None = None
        """The write of `status` (done once it is in the store)."""
        self.suspended = 0
        """How many `wait_for_event` calls are waiting now."""
        self.routing = 0
        """How many events wait for their record before they are routed: the run is not
        idle while one is on its way."""

    def note(self, idle: bool = False) -> asyncio.Future[None] | None:
        """Write the run's status if it changed: `waiting` when it is `idle` (nothing to
        run and nothing stuck) or every step it runs is suspended in a wait, `running`
        otherwise. The future is done once the status is in the store."""
        run = self._run
        if not run.is_running:
            return None  # its end is written by the driver
        status: RunStatus = (
            "waiting"
            if idle or (self.suspended and self.suspended >= len(run.executing))
            else "running"
        )
        if status != self.status:
            self.status = status
            journal = run.journal
            assert journal is not None
            self._noted = journal.note_status(status)
        return self._noted

    def became_idle(self) -> None:
        """The run has nothing to run and is not stuck (`WorkflowRun.became_idle`)."""
        if not self.routing:  # else the event on its way tells again once it is routed
            self.note(idle=True)

    def asking(self, execution: Execution, question: Event) -> asyncio.Future[None] | None:
        """`execution` returned `question`: when that leaves the run nothing else to do,
        the run is noted waiting now, and the future is awaited before the question is
        streamed. None when something else goes on (`became_idle` tells when it is over)."""
        run = self._run
        if (
            self.routing
            or run.lanes[execution.step].pending
            or run.children
            or self.suspended < len(run.executing) - 1
            or run.table.route(type(question))
        ):
            return None
        return self.note(idle=True)

    def event_arrives(self) -> None:
        """An event is about to be journalled: if it comes from outside to a run idle for
        one, the run is running again, written with (and so, in `"sync"`, before the
        routing of) the event's record."""
        if self.status == "waiting" and not self._run.executing:
            self.note()
