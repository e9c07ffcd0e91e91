"""The steps of a run suspended in `ctx.wait_for_event`, and the ids their waits go by.

A wait is answered by the first dispatched event that matches it, before any step sees
that event; one that an earlier event already matches (an event no step took, kept for
this) is answered at once. Default waiter ids are made from the execution's number and the
count of its waits, so that a step re-run after a resume asks for the same ids in the same
order and gets the answers it had already received at once.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from agentflow.errors import WaitForEventTimeoutError, WorkflowRuntimeError
from agentflow.events import Event
from agentflow.runtime.execution import Execution, Waiter, current_execution, record_answer

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun


async def wait_in(
    run: WorkflowRun,
    event_type: type[Event],
    waiter_event: Event | None,
    waiter_id: str | None,
    requirements: dict[str, Any],
    timeout: float | None,
) -> Event:
    """`run`'s `wait_for_event` (the run port's, bound as its method): suspend the calling
    step (or a caller outside `run`) until an event of `event_type` with the
    `requirements` field values is dispatched in `run`, taking one no step took if it is
    there already. An answer the execution received before a save is returned at once
    after a resume."""
    execution = current_execution.get()
    if execution is not None:
        if execution.link is not run.link:
            execution = None  # a step of another run called into this one
        else:
            execution.touched = True
    waiters = run.waiters
    if waiters is None:
        waiters = run.waiters = Waiters()
    if waiter_id is None:
        waiter_id = waiters.default_id(execution)
    if execution is not None and execution.answered and waiter_id in execution.answered:
        return execution.answered[waiter_id]
    pending = waiters.pending
    if any(waiter.waiter_id == waiter_id for waiter in pending):
        raise WorkflowRuntimeError(f"a step is already waiting with waiter_id '{waiter_id}'")
    future: asyncio.Future[Event] = run.loop.create_future()
    waiter = Waiter(event_type, requirements, future, waiter_id, execution, waiter_event)
    unclaimed = run.unclaimed
    if unclaimed:
        for index, item in enumerate(unclaimed):
            if waiter.matches(item.event):
                del unclaimed[index]
                record_answer(execution, waiter_id, item.event)
                return item.event
    pending.append(waiter)
    if waiter_event is not None:
        run.write_to_stream(waiter_event)
    try:
        async with asyncio.timeout(timeout):
            return await future
    except TimeoutError:
        raise WaitForEventTimeoutError(
            f"Timed out waiting for {event_type.__name__}: step "
            f"'{execution.step if execution else '?'}' waited {timeout}s for "
            f"{event_type.__name__} in wait_for_event; pass a larger `timeout=` or "
            "`timeout=None`"
        ) from None
    finally:
        if waiter in pending:
            pending.remove(waiter)
        if run.unclaimed and not run.executing:
            # Loaded only once an event is left over, not at `import agentflow`.
            from agentflow.runtime.stall import check_stalled_soon

            check_stalled_soon(run)  # a waiter from outside the run was all it had


class Waiters:
    """The run's waiting `wait_for_event` calls, oldest first."""

    __slots__ = ("next_execution", "pending")

    def __init__(self, next_execution: int = 0) -> None:
        self.pending: list[Waiter] = []
        self.next_execution = next_execution
        """The number the next execution that waits is given."""

    def resolve(self, event: Event) -> bool:
        """Answer the oldest wait `event` matches; False when none does."""
        pending = self.pending
        for index, waiter in enumerate(pending):
            if not waiter.future.done() and waiter.matches(event):
                del pending[index]
                if not waiter.future.done():
                    waiter.future.set_result(event)
                    record_answer(waiter.execution, waiter.waiter_id, event)
                return True
        return False

    def would_take(self, event: Event) -> bool:
        return any(waiter.matches(event) for waiter in self.pending)

    def questions(self) -> list[Event]:
        """The events the waiting steps wrote to the stream when they began to wait."""
        return [waiter.waiter_event for waiter in self.pending if waiter.waiter_event is not None]

    def cancel_all(self) -> None:
        for waiter in self.pending:
            waiter.future.cancel()
        self.pending.clear()

    def default_id(self, execution: Execution | None) -> str:
        """The id of `execution`'s next wait: its number and the count of its waits (a
        random one for a caller outside the run)."""
        if execution is None:
            return uuid.uuid4().hex
        if execution.number is None:
            execution.number = self.next_execution
            self.next_execution += 1
        waiter_id = f"{execution.step}:{execution.number}:{execution.waits}"
        execution.waits += 1
        return waiter_id
