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
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from agentflow.durable.writer import JournalWriter
from agentflow.events import Event
from agentflow.runtime.execution import current_execution
from agentflow.stores.base import RunStatus

if TYPE_CHECKING:
    from agentflow.runtime.execution import Execution
    from agentflow.runtime.run import WorkflowRun


class RunStatusNotes:
    """One durable run's status, as the store last heard it; see the module docstring."""

    __slots__ = (
        "_changed",
        "_noted",
        "_run",
        "entering",
        "routing",
        "status",
        "suspended",
        "wait_deadlines",
    )

    def __init__(self, run: WorkflowRun) -> None:
        self._run = run
        self.status: RunStatus = "running"
        self._noted: asyncio.Future[None] | None = None
        """The write of `status` (done once it is in the store)."""
        self.suspended = 0
        """How many `wait_for_event` calls are waiting now."""
        self.entering = 0
        """How many of those wait for their note to be written, their question not asked
        yet."""
        self.wait_deadlines: list[float] = []
        """When the waits with a timeout time out (`time.time()` seconds)."""
        self.routing = 0
        """How many events wait for their record before they are routed: the run is not
        idle while one is on its way."""
        self._changed: asyncio.Future[None] | None = None
        """Done at the next `note` or question asked (made by `changed` only: a run nobody
        watches pays nothing)."""

    def changed(self) -> asyncio.Future[None]:
        """A future done at the next `note` (a change of `status`, a wait begun or ended,
        the run found idle) or the next wait's question asked, any of which may leave it
        parked (a runner that suspends waiting runs watches it, with the run's handler)."""
        if self._changed is None:
            self._changed = self._run.loop.create_future()
        return self._changed

    def _tell(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None and not changed.done():
            changed.set_result(None)

    def parked(self) -> bool:
        """True when the run is `waiting` and nothing it was given is still on its way: no
        event waits for its record or a worker, no step runs but those suspended in waits,
        every wait has asked its question (one still writing its note has not) and none is
        answered yet (an answer is taken off the pending waits at once, yet its step counts
        as suspended until it resumes). The status alone can lag: an event a waiting run
        routes to another step is not a status change. A run with a timeout of its own is
        never parked: its timer must go on (a wait's timeout is journalled, `around_wait`,
        and a runner wakes a parked run by `wait_deadlines`), nor one whose wait is due to
        time out now."""
        run = self._run
        if (
            not run.is_running
            or self.status != "waiting"
            or self.routing
            or self.entering
            or run.timeout is not None
            or (self.wait_deadlines and min(self.wait_deadlines) <= time.time())
            or run.children
            or len(run.executing) > self.suspended
            or any(lane.pending for lane in run.lanes.values())
        ):
            return False
        pending = 0 if run.waiters is None else len(run.waiters.pending)
        return self.suspended <= pending

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
        self._tell()
        return self._noted

    async def around_wait(
        self,
        wait: Callable[[float | None], Awaitable[Event]],
        waiter_id: str | None,
        timeout: float | None,
    ) -> Event:
        """Run a step's wait (`wait(timeout)` makes its `wait_in`) with the status
        following it: the run is listed as waiting before its question is asked, so that
        whoever sees the question finds the run among the waiting ones. A timeout counts
        from the wait's first start: a wait re-run after a resume gets what is left."""
        deadline = None if timeout is None else await self._deadline(waiter_id, timeout)
        self.suspended += 1
        if deadline is not None:
            self.wait_deadlines.append(deadline)
        try:
            self.entering += 1
            try:
                await JournalWriter.durable(self.note())
            finally:
                self.entering -= 1
            # Told now, heard after `wait` has taken its place among the pending waits and
            # asked its question (all before it first suspends).
            self._tell()
            return await wait(None if deadline is None else max(deadline - time.time(), 0.0))
        finally:
            self.suspended -= 1
            if deadline is not None:
                self.wait_deadlines.remove(deadline)
            self.note()

    async def _deadline(self, waiter_id: str | None, timeout: float) -> float:
        """When the calling step's wait times out: from the time its first run began to
        wait, journalled (`once`) by the step's execution, so that it holds across a
        resume in any process. A caller outside the run has nothing to journal it by."""
        run = self._run
        execution = current_execution.get()
        if execution is None or execution.link is not run.link:
            return time.time() + timeout
        name = f"agentflow.wait:{waiter_id if waiter_id is not None else execution.waits}"
        started: float = await run.once(name, time.time, ())
        return started + timeout

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
