"""The run port: everything the public faces may ask of a run, and what a run asks back.

    Workflow.run ──> WorkflowRun(...).start(handler, owner)      (runtime/run.py)
    Context     ──> dispatch, send_to_step, write_to_stream, collect_events,
                    wait_for_event, snapshot, call_on_loop, identity, status
    WorkflowHandler ──> stream_events, cancel, active_steps, step_executions, identity
    run ──> RunOwner: keep_unfinished(ctx, snapshot), release(ctx, run)  (the context's side)

The faces (`Context`, `WorkflowHandler`, `Workflow.run`) hold a run only as a `RunPort`;
the runtime holds its context and handler only as the types below and never imports a face
at run time. A durable store, a server or a runner on another machine plugs in at this
seam: whatever implements `RunPort` can stand behind a context and a handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from agentflow.events import Event, StopEvent
from agentflow.runtime.execution import current_execution

if TYPE_CHECKING:
    from agentflow.runtime.snapshot import RunSnapshot


class StepContextBase:
    """The base of the context class steps receive (`agentflow.Context`). The step table
    recognises a step's context parameter by it (`Context` or `Context[State]`), so that
    the runtime can tell one without importing the face."""

    __slots__ = ()
    untyped_state: ClassVar[type[Any] | None] = None
    """The state type of a context whose steps name none (the face's `DictState`)."""


class StepLink(Protocol):
    """What a face may read of the link between a step execution and its run."""

    @property
    def run(self) -> RunPort | None:
        """The run, until it ends (then None: the step outlived it)."""

    @property
    def store(self) -> object:
        """The state store of the run's context, which tells that context apart."""

    @property
    def workflow_name(self) -> str:
        """The run's workflow class, for messages once the run has ended."""


class StepExecution(Protocol):
    """What a face may read of the step execution the calling task performs."""

    @property
    def step(self) -> str:
        """The step's name."""

    @property
    def link(self) -> StepLink:
        """Its way to its run."""


calling_step: Callable[[], StepExecution | None] = current_execution.get
"""The step execution the calling task performs, or None outside any step: the faces'
view of `current_execution`, which keeps the runtime's own fields out of their reach."""


class RunOwner(Protocol):
    """What a run tells the context it runs in, once it ends. One owner serves every
    context (a run holds it, and thousands of waiting runs should not each hold one of
    their own), so each call names the context: the one the run was started with."""

    def keep_unfinished(self, ctx: Any, snapshot: RunSnapshot) -> None:
        """The run ended without its StopEvent (failed, timed out, cancelled): `ctx` keeps
        what it had not done, so that a later run with it resumes the run. Called before
        the run's workers are stopped, while what they were handling is known."""

    def release(self, ctx: Any, run: RunPort) -> None:
        """The run is over and its tasks are gone: `ctx` may serve another run."""


class RunPort(Protocol):
    """One run, as the faces see it."""

    @property
    def run_id(self) -> str:
        """Unique id of the run."""

    @property
    def workflow_name(self) -> str:
        """The run's workflow class, for messages."""

    @property
    def thread_id(self) -> int:
        """The thread of the run's event loop; calls from other threads go through
        `call_on_loop`."""

    @property
    def is_running(self) -> bool:
        """True until the run's outcome is decided."""

    def start(self, handler: asyncio.Future[Any], owner: RunOwner) -> None:
        """Deliver the start event (or restore the saved run) and start the driver;
        `handler` is resolved with the outcome once every task of the run is gone."""

    def dispatch(self, event: Event, /) -> object:
        """Route `event`, on the loop's thread: to a waiting `wait_for_event` that
        matches, else to every step that accepts its type. What it returns, and its
        optional second parameter, are the runtime's own business: a worker that produced
        the event may carry on with it in the step it goes to, which keeps a chain of
        steps at one task; the faces never pass it."""

    def send_to_step(self, step: str, event: Event) -> None:
        """Route `event` to the step named `step` only, from any thread; raises at once
        when there is no such step or it does not accept the event."""

    async def stored(self) -> bool:
        """Wait until the run is in its store: True then (and at once for a run without a
        store, or a resumed one), False when the store refused it (the run fails)."""

    async def send_confirmed(
        self, event: Event, step: str | None, idempotency_key: str | None = None
    ) -> bool:
        """Send `event` from outside the run (to `step` only, or routed), on the loop's
        thread, and return once the run holds it: at once in memory, once its record is in
        the store for a durable run. False when the run has ended (or its journal failed)
        and did not take it. With an `idempotency_key` the run took before (a durable run:
        journalled, so also before a restart), nothing is sent and the answer is True."""

    def idempotency_keys(self) -> frozenset[str]:
        """The idempotency keys of the events `send_confirmed` sent (see there)."""

    def write_to_stream(self, event: Event) -> None:
        """Put `event` on the run's stream, on the loop's thread."""

    def call_on_loop(self, function: Callable[..., object], *args: Any) -> None:
        """Call `function(*args)` on the loop's thread (sync steps run in other threads)."""

    def collect_events(
        self,
        event: Event,
        expected: list[type[Event]] | type[Event],
        buffer_id: str | None,
        count: int | None,
    ) -> list[Event] | None:
        """Buffer `event` for the calling step (or a caller outside the run) and return
        the collection once complete; see `Context.collect_events`."""

    async def wait_for_event(
        self,
        event_type: type[Event],
        waiter_event: Event | None,
        waiter_id: str | None,
        requirements: dict[str, Any],
        timeout: float | None,
    ) -> Event:
        """Suspend the caller until a matching event is dispatched; see
        `Context.wait_for_event`."""

    async def once(self, name: str, function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """`function(*args)` for the calling step execution, at most once per `name`;
        see `Context.once`."""

    def idempotency_key(self, name: str) -> str:
        """A key for `name`, stable across re-runs of the calling step execution."""

    def snapshot(self) -> RunSnapshot:
        """Everything needed to go on with this run elsewhere."""

    def cancel(self, cancel_message: Any = None, cancel_handler: bool = False) -> None:
        """End the run as cancelled; with `cancel_handler` the handler itself ends
        cancelled (with `cancel_message`) rather than raising WorkflowCancelledByUser."""

    def stream_events(self) -> AsyncIterator[Event]:
        """The run's stream, for its one consumer."""

    def active_steps(self) -> list[str]:
        """The steps with an execution under way now."""

    @property
    def ctx(self) -> Any:
        """The context the run was started in (a `Context`: the runtime does not import
        the face), for `Context.get_step_context()`."""

    def expose_internal_events(self) -> None:
        """From now on, also write `StepStateChanged` events to the stream (see
        `agentflow.runtime.step_states`)."""

    def stop_event(self) -> StopEvent | None:
        """The StopEvent the run ended with (a `WorkflowCancelledEvent` when cancelled),
        or None while it runs or when it failed or timed out."""

    def step_executions(self) -> dict[str, int]:
        """How many times each step that ran has started."""
