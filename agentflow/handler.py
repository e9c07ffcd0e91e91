"""`WorkflowHandler`: what `Workflow.run()` returns at once.

It is an `asyncio.Future`, so `await handler`, `asyncio.gather`, `asyncio.wait_for`,
`done()`, `result()` and `exception()` behave as they do for any future. Cancelling the
handler (or a task awaiting it, as `asyncio.wait_for` does on timeout) cancels the run, and
the handler becomes cancelled only once the run's tasks are gone, so nothing of the run
outlives the cancellation. `cancel_run()` ends the run with `WorkflowCancelledByUser`.

`WorkflowHandler[ResultT]` carries the workflow's declared result type to `await handler`
(see `Workflow[ResultT]`); unparametrised it is `WorkflowHandler[Any]`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Generic

# typing.TypeVar takes a default only from Python 3.13 (PEP 696).
from typing_extensions import TypeVar

from agentflow.errors import WorkflowRuntimeError
from agentflow.events import Event, StopEvent

if TYPE_CHECKING:
    from agentflow.context import Context
    from agentflow.runtime.port import RunPort


ResultT = TypeVar("ResultT", default=Any)
"""What awaiting a run gives: the StopEvent's `result`, or the StopEvent itself when its class
has fields of its own. Defaults to Any, so that `Workflow` and `WorkflowHandler` written
without it stay valid under mypy --strict."""


class WorkflowHandler(asyncio.Future[ResultT], Generic[ResultT]):
    """A running workflow: await it for the result, iterate its stream, answer it, stop it.
    It reaches its run only through the run port (`agentflow.runtime.port.RunPort`)."""

    def __init__(self, run: RunPort, ctx: Context[Any], *, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._run = run
        self._ctx = ctx

    @property
    def run_id(self) -> str:
        """Unique id of this run."""
        return self._run.run_id

    @property
    def ctx(self) -> Context[Any]:
        """The run's context: its state store and `send_event` for answers from outside."""
        return self._ctx

    @property
    def active_steps(self) -> list[str]:
        """The steps running right now (including ones waiting in `wait_for_event`)."""
        return self._run.active_steps()

    @property
    def step_executions(self) -> dict[str, int]:
        """How many times each step has started so far in this run (steps that ran)."""
        return self._run.step_executions()

    def stream_events(self, expose_internal: bool = False) -> AsyncIterator[Event]:
        """Every event written to the stream, in order, ending with the terminal StopEvent
        (the result's, or the failure, timeout or cancel event). One consumer per run.
        `expose_internal=True` adds a `StepStateChanged` event as each step execution
        starts and ends; a run whose stream does not ask makes none."""
        stream = self._run.stream_events()
        if expose_internal:
            self._run.expose_internal_events()
        return stream

    def is_done(self) -> bool:
        """True once the run has ended and its tasks are gone (`done()`, by the name
        LlamaIndex Workflows gives it)."""
        return self.done()

    def get_stop_event(self) -> StopEvent | None:
        """The StopEvent the run ended with once the handler is done (a
        `WorkflowCancelledEvent` for a cancelled run); None before, and for a run that
        failed or timed out (awaiting the handler raises their error)."""
        return self._run.stop_event() if self.done() else None

    async def stop_event_result(self) -> StopEvent:
        """Wait for the run and return its StopEvent itself, where awaiting the handler
        gives the event's `result`; raises as awaiting the handler does."""
        await self
        stop = self._run.stop_event()
        assert stop is not None, "a run that gave a result ended with its StopEvent"
        return stop

    def numbered_events(self) -> AsyncIterator[tuple[int | None, Event]]:
        """`stream_events` (its one consumer), each event with its seq in the run's
        stream: for a durable run, the seq its store keeps it under (None for an event a
        re-run step wrote before a crash too, stored then under its seq); otherwise its
        place in the stream, from 0."""
        from agentflow.durable.run import DurableRun  # loaded with the durable runs only

        if isinstance(self._run, DurableRun):
            return self._run.numbered_stream()
        return _counted(self._run.stream_events())

    def suspend_if_waiting(self) -> bool:
        """For a runner that parks waiting runs (`agentflow.runners.dbos`): if the durable
        run waits for nothing but events from outside (an answer, a caller's send), stop it
        in this process, leaving it unfinished in its store with every record written,
        for `Workflow.resume` here or in another process; the handler then raises
        RunSuspendedError. False, doing nothing, when the run is not parked so (or is not
        durable). Call it on the run's event loop."""
        from agentflow.durable.run import DurableRun  # loaded with the durable runs only

        return isinstance(self._run, DurableRun) and self._run.suspend(only_if_waiting=True)

    def wait_deadline(self) -> float | None:
        """When the first of the durable run's waits with a timeout times out
        (`time.time()` seconds), or None: a runner that parks the run wakes it then."""
        from agentflow.durable.run import DurableRun  # loaded with the durable runs only

        if not isinstance(self._run, DurableRun) or not self._run.status_notes.wait_deadlines:
            return None
        return min(self._run.status_notes.wait_deadlines)

    def suspend(self) -> bool:
        """Stop the durable run in this process now, leaving it unfinished in its store
        with every record written, as a crash would but cleanly: a process that resumes it
        re-runs the steps that were running here. For a runner that must let a run go (its
        worker stops, or lost the run to another); the handler then raises
        RunSuspendedError. False when the run has ended (or is not durable)."""
        from agentflow.durable.run import DurableRun  # loaded with the durable runs only

        return isinstance(self._run, DurableRun) and self._run.suspend(only_if_waiting=False)

    def status_changed(self) -> asyncio.Future[None]:
        """A future done when the durable run's status is next noted (`running` or
        `waiting`, a wait begun, asked or ended, the run found idle): when to try
        `suspend_if_waiting` again."""
        from agentflow.durable.run import DurableRun  # loaded with the durable runs only

        if not isinstance(self._run, DurableRun):
            raise WorkflowRuntimeError(
                f"run {self.run_id} is not durable: only a run journalled in a store has a "
                "stored status"
            )
        return self._run.status_changed()

    def send_event(self, event: Event, step: str | None = None) -> None:
        """Shorthand for `handler.ctx.send_event(event, step)`."""
        self._ctx.send_event(event, step)

    async def stored(self) -> bool:
        """Wait until the run is in its workflow's store, so that a crash from now on
        cannot lose it: True then (at once without a store), False when the store refused
        it (its id was taken, the database failed: the run fails with that error)."""
        return await self._run.stored()

    async def send_event_confirmed(
        self, event: Event, step: str | None = None, *, idempotency_key: str | None = None
    ) -> bool:
        """`send_event`, returning once the run holds the event: for a durable run, once
        its record is in the store, so that a crash after this cannot lose it (with
        `durability="exit"`, which writes nothing per event, once the run holds it). False
        when the run has ended and did not take it. An event the run cannot journal (see
        `agentflow.stores`' `max_record_bytes`) raises, and the run goes on without it. Call
        it on the run's event loop.

        `idempotency_key` makes a retried send harmless: a send with a key the run took
        before sends nothing and answers True. A durable run journals the key with the
        event, so this holds after a restart too; `idempotency_keys()` lists them."""
        return await self._run.send_confirmed(event, step, idempotency_key)

    def idempotency_keys(self) -> frozenset[str]:
        """The keys of the events `send_event_confirmed` sent with one."""
        return self._run.idempotency_keys()

    async def cancel_run(self) -> None:
        """Stop the run; it ends with WorkflowCancelledByUser once its tasks are gone."""
        self._run.cancel()
        await asyncio.wait([self])

    def cancel(self, msg: Any = None) -> bool:
        """Stop the run; the handler is cancelled once the run has cleaned up. Returns
        False (not cancelled yet), so that a task cancelled while awaiting the handler gets
        its CancelledError only after that."""
        if self.done():
            return False
        self._run.cancel(cancel_message=msg, cancel_handler=True)
        return False

    def __repr__(self) -> str:
        return f"<WorkflowHandler run_id={self.run_id} done={self.done()}>"


async def _counted(events: AsyncIterator[Event]) -> AsyncIterator[tuple[int | None, Event]]:
    seq = 0
    async for event in events:
        yield seq, event
        seq += 1
