"""`Context`: a run's view for its steps, and the state that outlives the run.

A Context belongs to one workflow instance. Made before a run (`Context(workflow)`) and
passed to several `run(ctx=...)` calls, it keeps its state store between them; it serves
one run at a time. Steps receive it through a parameter annotated `Context` or
`Context[MyState]`; the state type comes from that annotation.
"""

from __future__ import annotations

import functools
from threading import get_ident
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pydantic import BaseModel, ValidationError

from agentflow.context.state_store import DictState, InMemoryStateStore
from agentflow.errors import ContextSerdeError, ContextStateError, WorkflowValidationError
from agentflow.events import Event
from agentflow.runtime.execution import current_execution
from agentflow.runtime.step_table import step_table_of

if TYPE_CHECKING:
    from agentflow.context.serializers import BaseSerializer
    from agentflow.runtime.run import WorkflowRun
    from agentflow.runtime.snapshot import RunSnapshot
    from agentflow.workflow import Workflow

StateT = TypeVar("StateT", bound=BaseModel)

SAVED_CONTEXT_VERSION = 1
"""Format version of `Context.to_dict`; bumped when the format changes."""
EventT = TypeVar("EventT", bound=Event)

_is_event = functools.partial(type.__instancecheck__, Event)
"""`isinstance(value, Event)` for the hot paths: a pydantic model class is an ABC, whose
`__instancecheck__` is a Python function, while type's own check walks the MRO in C. They
differ only for classes registered as virtual subclasses, which events never are."""


class Context(Generic[StateT]):
    """Shared state and the run's event operations, handed to every step that asks."""

    __slots__ = ("_run", "_store", "_unfinished_run", "_workflow")

    def __init__(self, workflow: Workflow) -> None:
        self._workflow = workflow
        state_type = step_table_of(type(workflow)).state_type or DictState
        try:
            state = state_type()
        except ValidationError as error:
            raise WorkflowValidationError(
                f"workflow {type(workflow).__name__}: state type {state_type.__name__} must be "
                f"constructible with no arguments; give every field a default ({error})"
            ) from error
        self._store: InMemoryStateStore[StateT] = InMemoryStateStore(state)  # type: ignore[arg-type]
        self._run: WorkflowRun | None = None
        self._unfinished_run: RunSnapshot | None = None

    @property
    def workflow(self) -> Workflow:
        """The workflow instance this context belongs to."""
        return self._workflow

    @property
    def store(self) -> InMemoryStateStore[StateT]:
        """The state store: `await ctx.store.get("key")`, `edit_state()`, ..."""
        return self._store

    @property
    def current_step(self) -> str | None:
        """The name of the step running in the calling task (for instance, to book an
        LLM call's cost to it), or None outside this context's steps."""
        execution = current_execution.get()
        if execution is not None and execution.link.store is self._store:
            return execution.step
        return None

    @property
    def is_running(self) -> bool:
        """True while a run using this context is going."""
        return self._run is not None and self._run.is_running

    def _ensure_free(self) -> None:
        if self._run is not None:
            raise ContextStateError(
                f"this Context is already used by run {self._run.run_id}; a Context serves "
                "one run at a time, so wait for that run or pass a new Context"
            )

    def _attach(self, run: WorkflowRun) -> None:
        self._ensure_free()
        self._run = run

    def _detach(self, run: WorkflowRun) -> None:
        if self._run is run:
            self._run = None

    def _keep_unfinished_run(self, snapshot: RunSnapshot) -> None:
        """Called by a run that ends unfinished (cancelled, timed out, failed)."""
        self._unfinished_run = snapshot

    def _take_unfinished_run(self) -> RunSnapshot | None:
        snapshot, self._unfinished_run = self._unfinished_run, None
        return snapshot

    @property
    def has_unfinished_run(self) -> bool:
        """True when `workflow.run(ctx=ctx)` would resume a run rather than start one."""
        return self._unfinished_run is not None

    def to_dict(self, serializer: BaseSerializer | None = None) -> dict[str, Any]:
        """Everything needed to continue in another process, as a JSON-ready dict: the
        state, and the run under way (or the one that ended unfinished) with its queued
        events, the events its running steps were handling, collected events, waiters and
        stream position. Steps that were running start again from their beginning after
        a resume; their `wait_for_event` calls return answers already received at once.
        State the serializer cannot store raises ContextSerdeError naming the key."""
        from agentflow.context.saved_run import run_to_dict  # loaded when first saving
        from agentflow.context.serializers import JsonSerializer

        serializer = serializer or JsonSerializer()
        run = self._run
        snapshot = run.snapshot() if run is not None and run.is_running else self._unfinished_run
        return {
            "version": SAVED_CONTEXT_VERSION,
            "workflow": type(self._workflow).__qualname__,
            "state": serializer.serialize(self._store._state, "state"),
            "run": run_to_dict(snapshot, serializer) if snapshot is not None else None,
        }

    @classmethod
    def from_dict(
        cls,
        workflow: Workflow,
        data: dict[str, Any],
        serializer: BaseSerializer | None = None,
    ) -> Context[Any]:
        """The context `to_dict` saved, for `workflow`. `workflow.run(ctx=ctx)` then
        resumes the saved run if there is one. Everything is checked before it is used:
        the format, the workflow that saved it, the state's type, the steps named and the
        events they are given; any problem is a ContextSerdeError naming its key path.
        Classes are looked up only in modules already imported: loading never imports."""
        from agentflow.context.saved_format import read_saved_context
        from agentflow.context.saved_run import run_from_saved
        from agentflow.context.serializers import JsonSerializer

        serializer = serializer or JsonSerializer()
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(data, dict) and version != SAVED_CONTEXT_VERSION:
            raise ContextSerdeError(
                f"saved context has format version {version!r}; this agentflow reads version "
                f"{SAVED_CONTEXT_VERSION}"
            )
        saved = read_saved_context(data)
        workflow_name = type(workflow).__qualname__
        if saved.workflow != workflow_name:
            raise ContextSerdeError(
                f"workflow: the saved context is of workflow {saved.workflow}, so workflow "
                f"{workflow_name} cannot load it"
            )
        ctx: Context[Any] = cls(workflow)
        state = serializer.deserialize_at(saved.state, "state")
        expected = ctx._store.state_type
        if not isinstance(state, expected):
            raise ContextSerdeError(
                f"state: saved state is a {type(state).__name__}, but {workflow_name} keeps "
                f"its state in a {expected.__name__}"
            )
        ctx._store._state = state
        if saved.run is not None:
            ctx._unfinished_run = run_from_saved(saved.run, serializer, step_table_of(type(workflow)))
        return ctx

    def _active_run(self, operation: str) -> WorkflowRun:
        run = self._run
        if run is None:
            raise ContextStateError(f"ctx.{operation}() needs a running workflow; none is running")
        return run

    # send_event, write_event_to_stream, collect_events and wait_for_event act on the run
    # whose step is calling, else on the context's current run. A step still going after
    # its run ended (a sync step's thread cannot be cancelled; a task or a timer it left)
    # finds its link to that run cut (`RunLink`): nothing happens (wait_for_event raises),
    # and it never reaches the context's next run. A context is told apart by its state
    # store: the link holds no context.
    # Each method looks its run up inline, not through a shared helper: they are the
    # hot path of a fan-out and of streaming, where a call per event shows.

    def send_event(self, message: Event, step: str | None = None) -> None:
        """Route `message` to the steps that accept it, or only to the step named `step`.
        Callers outside the run use this to answer `InputRequiredEvent`s."""
        execution = current_execution.get()
        if execution is not None and (link := execution.link).store is self._store:
            run = link.run
        else:
            run = self._run
        if run is None or not _is_event(message):
            self._without_run("send_event", message)
            return
        if step is None:
            if get_ident() == run.thread_id:  # on the loop: the common case, at no extra call
                run.dispatch(message)
            else:
                run.call_on_loop(run.dispatch, message)
        else:
            run.call_on_loop(run.dispatch_to, run.lane_for(step, message), message)

    def write_event_to_stream(self, ev: Event) -> None:
        """Put `ev` on the run's stream, after everything written before it."""
        execution = current_execution.get()
        if execution is not None and (link := execution.link).store is self._store:
            run = link.run
        else:
            run = self._run
        if run is None or not _is_event(ev):
            self._without_run("write_event_to_stream", ev)
            return
        if get_ident() == run.thread_id:
            run.write_to_stream(ev)
        else:
            run.call_on_loop(run.write_to_stream, ev)

    def _without_run(self, operation: str, event: object) -> None:
        """Raise for a call that has no run to act on or no event; a step of a run that
        has ended may call, and nothing happens."""
        if not isinstance(event, Event):
            raise TypeError(f"{operation}() takes an Event, got {type(event).__name__}")
        execution = current_execution.get()
        if execution is None or execution.link.store is not self._store:
            self._active_run(operation)

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
        execution = current_execution.get()
        if execution is not None and (link := execution.link).store is self._store:
            run = link.run
        else:
            execution = None
            run = self._run if self._run is not None else self._active_run("collect_events")
        if count is not None:
            if not isinstance(expected, type):
                raise TypeError(
                    "collect_events(): count goes with a single event type, as in "
                    "collect_events(ev, Done, count=n), not with a list"
                )
            if isinstance(count, bool) or count < 1:
                raise ValueError(f"collect_events(): count must be a positive int, got {count!r}")
        if run is None:
            return None  # called from a step of a run that has ended: nothing to collect
        return run.collect_events(ev, expected, buffer_id, count, execution)

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
        happens once. Called from a task or thread a step of an ended run left behind, it
        raises ContextStateError: the context's next run is not that step's to wait in."""
        execution = current_execution.get()
        if execution is not None and (link := execution.link).store is self._store:
            run = link.run
            if run is None:
                raise ContextStateError(
                    f"ctx.wait_for_event() was called from step '{execution.step}' of a "
                    f"{link.workflow_name} run that has ended (by a task or thread the step "
                    "left running); nothing in that run can answer it any more"
                )
        else:
            run = self._active_run("wait_for_event")
        event = await run.wait_for_event(
            event_type,
            waiter_event,
            waiter_id,
            requirements or {},
            timeout,
        )
        return event  # type: ignore[return-value]
