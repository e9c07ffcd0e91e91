"""`Context`: a run's view for its steps, and the state that outlives the run.

A Context belongs to one workflow instance. Made before a run (`Context(workflow)`) and
passed to several `run(ctx=...)` calls, it keeps its state store between them; it serves
one run at a time. Steps receive it through a parameter annotated `Context` or
`Context[MyState]`; the state type comes from that annotation.
"""

from __future__ import annotations

import asyncio
import enum
import functools
from collections.abc import AsyncIterator, Callable
from threading import get_ident
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pydantic import BaseModel, ValidationError

from agentflow.context.state_store import DictState, InMemoryStateStore
from agentflow.errors import (
    ContextSerdeError,
    ContextStateError,
    WorkflowRuntimeError,
    WorkflowValidationError,
)
from agentflow.events import Event
from agentflow.handler import WorkflowHandler
from agentflow.runtime.port import StepContextBase, calling_step
from agentflow.runtime.retries import retry_info_now
from agentflow.runtime.step_table import step_table_of

if TYPE_CHECKING:
    from agentflow.context.serializers import BaseSerializer
    from agentflow.retry_policy import RetryInfo
    from agentflow.runtime.port import RunPort
    from agentflow.runtime.snapshot import RunSnapshot
    from agentflow.workflow import Workflow

StateT = TypeVar("StateT", bound=BaseModel)

SAVED_CONTEXT_VERSION = 2
"""Format version of `Context.to_dict`, bumped when the format changes. Version 2 leaves out
what loading rebuilds (`agentflow.context.compact_models`, the run's empty lists)."""
READABLE_CONTEXT_VERSIONS = (1, 2)
"""The versions `Context.from_dict` reads: each earlier save still loads."""
EventT = TypeVar("EventT", bound=Event)

_is_event = functools.partial(type.__instancecheck__, Event)
"""`isinstance(value, Event)` for the hot paths: a pydantic model class is an ABC, whose
`__instancecheck__` is a Python function, while type's own check walks the MRO in C. They
differ only for classes registered as virtual subclasses, which events never are."""


_NOT_GIVEN: Any = object()
"""`_refuse`'s default for an operation that takes no event to check."""


class ContextPhase(enum.Enum):
    """Where the code calling a context stands with respect to the context's run."""

    NO_RUN = "with no run going (before its first run, or after one ended)"
    CALLER = "outside the run, on the caller's side (through the handler)"
    STEP = "inside a step of the run"
    ENDED_STEP = "inside a step of a run that has ended"


class Context(StepContextBase, Generic[StateT]):
    """Shared state and the run's event operations, handed to every step that asks."""

    __slots__ = ("_run", "_store", "_unfinished_run", "_workflow")
    untyped_state = DictState

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
        self._run: RunPort | None = None
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
        execution = calling_step()
        if execution is not None and execution.link.store is self._store:
            return execution.step
        return None

    @staticmethod
    def get_step_context() -> Context[Any]:
        """The context of the step running in the calling task: for a decorator or wrapper
        around a step that has no `ctx` parameter of its own. Raises WorkflowRuntimeError
        outside a step, and in a task or thread a step of an ended run left behind."""
        execution = calling_step()
        run = execution.link.run if execution is not None else None
        if run is None:
            raise WorkflowRuntimeError(
                "Context.get_step_context() may only be called from within a step function"
                + (
                    ""
                    if execution is None
                    else f"; it was called in step '{execution.step}' of a "
                    f"{execution.link.workflow_name} run that has ended"
                )
            )
        ctx: Context[Any] = run.ctx
        return ctx

    async def running_steps(self) -> list[str]:
        """The steps with an execution under way now (including ones waiting in
        `wait_for_event`), asked from outside the run, through the handler's context."""
        run = self._run
        if run is None or self.phase is not ContextPhase.CALLER:
            raise self._refusal("running_steps", self.phase)
        return run.active_steps()

    def stream_events(self) -> AsyncIterator[Event]:
        """The run's stream, as `handler.stream_events(expose_internal=True)` gives it (the
        context's stream is the raw one, with `StepStateChanged` events, as in LlamaIndex
        Workflows); it shares the handler's one consumer."""
        run = self._run
        if run is None or self.phase is not ContextPhase.CALLER:
            raise self._refusal("stream_events", self.phase)
        stream = run.stream_events()
        run.expose_internal_events()
        return stream

    @property
    def is_running(self) -> bool:
        """True while a run using this context is going."""
        return self._run is not None and self._run.is_running

    @property
    def phase(self) -> ContextPhase:
        """Where the calling code stands with respect to this context's run; each
        operation names the phases it is allowed in (see `ContextPhase`)."""
        execution = calling_step()
        if execution is not None and execution.link.store is self._store:
            return ContextPhase.STEP if execution.link.run is not None else ContextPhase.ENDED_STEP
        return ContextPhase.CALLER if self._run is not None else ContextPhase.NO_RUN

    @property
    def has_unfinished_run(self) -> bool:
        """True when `workflow.run(ctx=ctx)` would resume a run rather than start one."""
        return self._unfinished_run is not None

    def to_dict(self, serializer: BaseSerializer | None = None) -> dict[str, Any]:
        """Everything needed to continue in another process, as a JSON-ready dict: the
        state, and the run under way (or the one that ended unfinished) with its queued
        events, the events its running steps were handling and the answers their waits had
        received, collected events and the stream position. Steps that were running start
        again from their beginning after a resume; their `wait_for_event` calls return
        answers already received at once.
        State the serializer cannot store raises ContextSerdeError naming the key."""
        from agentflow.context.saved_run import run_to_dict  # loaded when first saving
        from agentflow.context.serializers import JsonSerializer

        serializer = serializer or JsonSerializer()
        run = self._run
        snapshot = run.snapshot() if run is not None and run.is_running else self._unfinished_run
        return {
            "version": SAVED_CONTEXT_VERSION,
            "workflow": type(self._workflow).__qualname__,
            "state": self._store.to_text(serializer),
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
        Classes are looked up only in modules already imported: loading never imports.
        A context llama-index-workflows 2.x saved loads too, told apart by its keys (see
        `agentflow.context.llamaindex_run`)."""
        from agentflow.context.llamaindex_format import saved_by_llamaindex

        if saved_by_llamaindex(data):
            return cls._from_llamaindex(workflow, data, serializer)
        from agentflow.context.saved_format import read_saved_context
        from agentflow.context.saved_run import run_from_saved
        from agentflow.context.serializers import JsonSerializer

        serializer = serializer or JsonSerializer()
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(data, dict) and version not in READABLE_CONTEXT_VERSIONS:
            raise ContextSerdeError(
                f"saved context has format version {version!r}; this agentflow reads versions "
                f"{', '.join(map(str, READABLE_CONTEXT_VERSIONS))}"
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
        ctx._store = InMemoryStateStore(state)
        if saved.run is not None:
            ctx._unfinished_run = run_from_saved(
                saved.run, serializer, step_table_of(type(workflow))
            )
        return ctx

    @classmethod
    def _from_llamaindex(
        cls, workflow: Workflow, data: dict[str, Any], serializer: BaseSerializer | None
    ) -> Context[Any]:
        from agentflow.context.llamaindex_run import load_llamaindex_save

        ctx: Context[Any] = cls(workflow)
        loaded = load_llamaindex_save(
            data, serializer, step_table_of(type(workflow)), ctx._store.state_type
        )
        if loaded.state is not None:
            ctx._store = InMemoryStateStore(loaded.state)
        ctx._unfinished_run = loaded.run
        return ctx

    # Every operation below finds the run it acts on the same way: the run of the step
    # calling (phase STEP), else the context's current run (phase CALLER). A step still
    # going after its run ended (a sync step's thread cannot be cancelled; a task or a
    # timer it left) finds its link to that run cut (`RunLink`, phase ENDED_STEP): its
    # sends, writes and collections are dropped, and it never reaches the context's next
    # run. A context is told apart by its state store: the link holds no context.
    # The lookup is written out in each method rather than shared: they are the hot path
    # of a fan-out and of streaming, where a call per event shows. Every refusal goes
    # through `_refuse`, which names the phase.

    def _refuse(self, operation: str, event: object = _NOT_GIVEN) -> None:
        """Raise for `operation` called in a phase it is not allowed in, or given
        something that is not an event; return (the call does nothing) in a step of a run
        that has ended."""
        if event is not _NOT_GIVEN and not isinstance(event, Event):
            raise TypeError(f"{operation}() takes an Event, got {type(event).__name__}")
        phase = self.phase
        if phase in _ALLOWED[operation]:
            return
        if phase is ContextPhase.ENDED_STEP and operation in _DROPPED_AFTER_THE_RUN:
            return
        raise self._refusal(operation, phase)

    def _refusal(self, operation: str, phase: ContextPhase) -> ContextStateError:
        """The error for `operation` called in `phase`, which it is not allowed in."""
        return ContextStateError(self._phase_message(operation, phase))

    def _phase_message(self, operation: str, phase: ContextPhase) -> str:
        allowed = " or ".join(p.value for p in _ALLOWED[operation])
        if operation == "run":
            assert self._run is not None, "only a context serving a run refuses another"
            return (
                f"this Context is already used by run {self._run.run_id} (phase: "
                f"{phase.value}); a Context serves one run at a time, so wait for that run "
                "or pass a new Context"
            )
        where = phase.value
        if phase is ContextPhase.ENDED_STEP:
            execution = calling_step()
            assert execution is not None, "a step's phase comes from its execution"
            where = (
                f"in step '{execution.step}' of a {execution.link.workflow_name} run that has "
                "ended (by a task or thread the step left running); nothing in that run can "
                "answer it any more"
            )
        message = f"ctx.{operation}() needs a running workflow ({allowed}); it was called {where}"
        if phase is ContextPhase.NO_RUN:  # LlamaIndex Workflows' words for this case
            message += f". {operation} requires a running workflow. Call workflow.run() first."
        return message

    def send_event(self, message: Event, step: str | None = None) -> None:
        """Route `message` to the steps that accept it, or only to the step named `step`.
        Callers outside the run use this to answer `InputRequiredEvent`s."""
        execution = calling_step()
        run: RunPort | None
        if execution is not None and (link := execution.link).store is self._store:
            run = link.run
        else:
            run = self._run
        if run is None or not _is_event(message):
            self._refuse("send_event", message)
            return
        if step is None:
            if get_ident() == run.thread_id:  # on the loop: the common case, at no extra call
                run.dispatch(message)
            else:
                run.call_on_loop(run.dispatch, message)
        else:
            run.send_to_step(step, message)

    def write_event_to_stream(self, ev: Event) -> None:
        """Put `ev` on the run's stream, after everything written before it."""
        execution = calling_step()
        run: RunPort | None
        if execution is not None and (link := execution.link).store is self._store:
            run = link.run
        else:
            run = self._run
        if run is None or not _is_event(ev):
            self._refuse("write_event_to_stream", ev)
            return
        if get_ident() == run.thread_id:
            run.write_to_stream(ev)
        else:
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
        execution = calling_step()
        run: RunPort | None
        if execution is not None and (link := execution.link).store is self._store:
            run = link.run
        else:
            run = self._run
        if run is None:
            self._refuse("collect_events")
            return None  # called from a step of a run that has ended: nothing to collect
        if count is not None:
            if not isinstance(expected, type):
                raise TypeError(
                    "collect_events(): count goes with a single event type, as in "
                    "collect_events(ev, Done, count=n), not with a list"
                )
            if isinstance(count, bool) or count < 1:
                raise ValueError(f"collect_events(): count must be a positive int, got {count!r}")
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
        happens once. Called from a task or thread a step of an ended run left behind, it
        raises ContextStateError: the context's next run is not that step's to wait in."""
        execution = calling_step()
        run: RunPort | None
        if execution is not None and (link := execution.link).store is self._store:
            run = link.run
        else:
            run = self._run
        if run is None:
            raise self._refusal("wait_for_event", self.phase)
        event = await run.wait_for_event(
            event_type,
            waiter_event,
            waiter_id,
            requirements or {},
            timeout,
        )
        return event  # type: ignore[return-value]

    def _step_run(self, operation: str) -> RunPort:
        """The run whose step is calling `operation` (allowed in phase STEP only)."""
        execution = calling_step()
        if execution is not None and execution.link.store is self._store:
            run = execution.link.run
            if run is not None:
                return run
        raise self._refusal(operation, self.phase)

    def idempotency_key(self, name: str) -> str:
        """A key for `name` that stays the same across re-runs of the calling step
        execution (a retry; a resume, from a saved context or a durable store): hand it
        to an API that deduplicates requests, such as a payment's idempotency key."""
        return self._step_run("idempotency_key").idempotency_key(name)

    async def once(self, name: str, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` (awaited if it returns an awaitable), called at most once per
        `name` for the calling step execution: a re-run gets the recorded result. In a
        run with a store the result is journalled (it must be serializable) before it is
        returned, so it survives a crash; in memory it lasts the run."""
        return await self._step_run("once").once(name, function, args)

    def retry_info(self) -> RetryInfo:
        """Where the calling step execution stands in its retries: the retry number (0 on
        the first attempt), the seconds since the first attempt began, and the previous
        attempt's error and failure time (None on the first attempt)."""
        self._step_run("retry_info")
        return retry_info_now()


_ALLOWED: dict[str, tuple[ContextPhase, ...]] = {
    "once": (ContextPhase.STEP,),
    "retry_info": (ContextPhase.STEP,),
    "idempotency_key": (ContextPhase.STEP,),
    "run": (ContextPhase.NO_RUN,),
    "send_event": (ContextPhase.CALLER, ContextPhase.STEP),
    "write_event_to_stream": (ContextPhase.CALLER, ContextPhase.STEP),
    "collect_events": (ContextPhase.CALLER, ContextPhase.STEP),
    "wait_for_event": (ContextPhase.CALLER, ContextPhase.STEP),
    "running_steps": (ContextPhase.CALLER,),
    "stream_events": (ContextPhase.CALLER,),
}
"""The phases each operation is allowed in. `to_dict`, `store` and the properties are
allowed in every phase."""
_DROPPED_AFTER_THE_RUN = frozenset({"send_event", "write_event_to_stream", "collect_events"})
"""Operations that do nothing, rather than raise, in a step of a run that has ended."""


def start_run(
    ctx: Context[Any], resuming: bool, make_run: Callable[[RunSnapshot | None], RunPort]
) -> WorkflowHandler[Any]:
    """Start a run in `ctx`, which must have none going (phase NO_RUN): the run `make_run`
    builds, given the unfinished run `ctx` holds when `resuming`. Returns its handler.
    Nothing in `ctx` changes if building or starting the run fails."""
    if ctx._run is not None:
        raise ctx._refusal("run", ctx.phase)
    run = make_run(ctx._unfinished_run if resuming else None)
    handler: WorkflowHandler[Any] = WorkflowHandler(run, ctx, loop=asyncio.get_running_loop())
    # Taken only now: had the run been refused above, the saved one would be kept.
    taken, ctx._unfinished_run = ctx._unfinished_run, None
    ctx._run = run
    try:
        run.start(handler, _SEATS)
    except BaseException:
        # The run failed to start (a saved run that could not be restored): the context
        # is free again and keeps what it held.
        ctx._run, ctx._unfinished_run = None, taken
        raise
    return handler


class _Seats:
    """The `RunOwner` of every run started in a context: how a run hands back what it did
    not finish and frees its context, without `Context` growing public methods for it."""

    __slots__ = ()

    def keep_unfinished(self, ctx: Context[Any], snapshot: RunSnapshot) -> None:
        ctx._unfinished_run = snapshot

    def release(self, ctx: Context[Any], run: RunPort) -> None:
        if ctx._run is run:
            ctx._run = None


_SEATS = _Seats()
