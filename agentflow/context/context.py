"""`Context`: a run's view for its steps, and the state that outlives the run.

A Context belongs to one workflow instance. Made before a run (`Context(workflow)`) and
passed to several `run(ctx=...)` calls, it keeps its state store between them; it serves
one run at a time. Steps receive it through a parameter annotated `Context` or
`Context[MyState]`; the state type comes from that annotation.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pydantic import BaseModel, ValidationError

from agentflow.context.state_store import DictState, InMemoryStateStore
from agentflow.errors import ContextStateError, WorkflowValidationError
from agentflow.events import Event

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun
    from agentflow.workflow import Workflow

StateT = TypeVar("StateT", bound=BaseModel)
EventT = TypeVar("EventT", bound=Event)


class Context(Generic[StateT]):
    """Shared state and the run's event operations, handed to every step that asks."""

    def __init__(self, workflow: Workflow) -> None:
        self._workflow = workflow
        state_type = workflow._step_table().state_type or DictState
        try:
            state = state_type()
        except ValidationError as error:
            raise WorkflowValidationError(
                f"workflow {type(workflow).__name__}: state type {state_type.__name__} must be "
                f"constructible with no arguments; give every field a default ({error})"
            ) from error
        self._store: InMemoryStateStore[StateT] = InMemoryStateStore(state)  # type: ignore[arg-type]
        self._run: WorkflowRun | None = None

    @property
    def workflow(self) -> Workflow:
        """The workflow instance this context belongs to."""
        return self._workflow

    @property
    def store(self) -> InMemoryStateStore[StateT]:
        """The state store: `await ctx.store.get("key")`, `edit_state()`, ..."""
        return self._store

    @property
    def is_running(self) -> bool:
        """True while a run using this context is going."""
        return self._run is not None and self._run.is_running

    def _attach(self, run: WorkflowRun) -> None:
        if self._run is not None:
            raise ContextStateError(
                f"this Context is already used by run {self._run.run_id}; a Context serves "
                "one run at a time, so wait for that run or pass a new Context"
            )
        self._run = run

    def _detach(self, run: WorkflowRun) -> None:
        if self._run is run:
            self._run = None

    def _active_run(self, operation: str) -> WorkflowRun:
        run = self._run
        if run is None:
            raise ContextStateError(f"ctx.{operation}() needs a running workflow; none is running")
        return run

    def send_event(self, message: Event, step: str | None = None) -> None:
        """Route `message` to the steps that accept it, or only to the step named `step`.
        Callers outside the run use this to answer `InputRequiredEvent`s."""
        run = self._run
        if run is None or not isinstance(message, Event):
            self._reject_send(message)
        assert run is not None
        if step is None:
            run.call_on_loop(run.dispatch, message)
        else:
            run.call_on_loop(run.dispatch_to, run.lane_for(step, message), message)

    def _reject_send(self, message: object) -> None:
        if not isinstance(message, Event):
            raise TypeError(f"send_event() takes an Event, got {type(message).__name__}")
        self._active_run("send_event")

    def write_event_to_stream(self, ev: Event) -> None:
        """Put `ev` on the run's stream, after everything written before it."""
        if not isinstance(ev, Event):
            raise TypeError(f"write_event_to_stream() takes an Event, got {type(ev).__name__}")
        run = self._active_run("write_event_to_stream")
        run.call_on_loop(run.write_to_stream, ev)

    @overload
    def collect_events(
        self, ev: Event, expected: list[type[Event]], buffer_id: str | None = None
    ) -> list[Event] | None: ...

    @overload
    def collect_events(
        self,
        ev: Event,
        expected: type[EventT],
        buffer_id: str | None = None,
        *,
        count: int = 1,
    ) -> list[EventT] | None: ...

    def collect_events(
        self,
        ev: Event,
        expected: list[type[Event]] | type[Event],
        buffer_id: str | None = None,
        *,
        count: int | None = None,
    ) -> list[Any] | None:
        """Buffer `ev`; once the buffer holds one event for each entry of `expected`,
        return them in that order, else None. `collect_events(ev, Done, count=n)` waits for
        n events of one type at a constant cost per call, however large n is. The buffer
        belongs to the calling step unless `buffer_id` names a shared one."""
        run = self._active_run("collect_events")
        if isinstance(expected, type):
            if count is not None and (isinstance(count, bool) or count < 1):
                raise ValueError(f"collect_events(): count must be a positive int, got {count!r}")
        elif count is not None:
            raise TypeError(
                "collect_events(): count goes with a single event type, as in "
                "collect_events(ev, Done, count=n), not with a list"
            )
        return run.collect_events(ev, expected, buffer_id, count)

    async def wait_for_event(
        self,
        event_type: type[EventT],
        waiter_event: Event | None = None,
        waiter_id: str | None = None,
        requirements: dict[str, Any] | None = None,
        timeout: float | None = 2000,
    ) -> EventT:
        """Suspend the calling step, right where it is, until an event of `event_type`
        whose fields equal `requirements` is sent; `waiter_event` (typically an
        InputRequiredEvent) is written to the stream once the step is waiting, so whoever
        answers it cannot be too early. The step is not re-run: work done before the call
        happens once."""
        run = self._active_run("wait_for_event")
        event = await run.wait_for_event(
            event_type,
            waiter_event,
            waiter_id if waiter_id is not None else uuid.uuid4().hex,
            requirements or {},
            timeout,
        )
        return event  # type: ignore[return-value]
