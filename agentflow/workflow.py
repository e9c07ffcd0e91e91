"""`Workflow`: a class whose `@step` methods form an event graph, and `run()` to start it.

The step table (what each step accepts and emits) is built once per class and the graph
is validated once per class, before the first run; every later run reuses both.

`Workflow[ResultT]` declares what the run gives, for type checkers only: `class
Summary(Workflow[str])` makes `await Summary().run()` a `str`. Nothing checks it at run time
(the steps' StopEvents are not inspected on the hot path), and a class that declares nothing
gives `Any`, as before.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from pydantic import ValidationError

from agentflow.context import Context
from agentflow.context.context import start_run
from agentflow.decorators import step_config_of
from agentflow.durable import DURABILITY_MODES, Durability
from agentflow.errors import StartEventError, WorkflowRuntimeError, WorkflowValidationError
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.handler import ResultT, WorkflowHandler
from agentflow.resource import ResourceManager
from agentflow.runtime.run import WorkflowRun
from agentflow.runtime.step_table import (
    StepTable,
    forget_step_table,
    step_specs_of,
    step_table_of,
)
from agentflow.runtime.validation import validate_graph_ends, validate_step_graph

if TYPE_CHECKING:
    from agentflow.runtime.run_slots import RunSlots
    from agentflow.runtime.snapshot import RunSnapshot
    from agentflow.stores.base import RunStore


class Workflow(Generic[ResultT]):
    """Subclass it, decorate methods with `@step`, then `await MyWorkflow().run(...)`;
    subclass `Workflow[T]` to tell type checkers that the run gives a `T`."""

    _free_steps: ClassVar[dict[str, Callable[..., Any]]] = {}
    _validated: ClassVar[bool] = False
    version: str | None = None
    """Recorded with each durable run (see `store`); `resume` refuses a run another
    version started unless told otherwise. A class attribute, or set per instance."""

    def __init__(
        self,
        timeout: float | None = 45.0,
        disable_validation: bool = False,
        verbose: bool = False,
        resource_manager: ResourceManager | None = None,
        *,
        num_concurrent_runs: int | None = None,
        workflow_name: str | None = None,
        store: RunStore | None = None,
        checkpoint_every: int = 200,
        durability: Durability = "sync",
    ) -> None:
        """`timeout`: seconds a run may take, or None for no limit. `disable_validation`:
        skip the step-graph checks (signatures are still read). `verbose`: print each step
        as it runs. `resource_manager`: keeps the cached resources, made once for every
        run of this workflow; pass one to share them between workflows or to `set` fakes
        in tests. `store`: journal every run in this store (`agentflow.stores`), so that
        `resume(run_id)` goes on with it after the process died; `checkpoint_every`: the
        journal records between two checkpoints, or more while the run holds more events
        than that (a resume folds at most that many, and the store keeps only those since
        the last checkpoint). `durability`: when the journal is
        written (`agentflow.durable.Durability`): `"sync"` routes a step's outputs once its
        record is committed, so a crash re-runs only the steps in flight; `"async"` writes
        behind the run (in order, a failed write still fails it), so a crash also re-runs
        the steps whose records had not reached the store; `"exit"` writes only the start,
        a checkpoint whenever the run waits for an outside event, and the end, so a crash
        re-runs the steps since the start or the last wait. A resumed run uses the mode of
        the workflow resuming it.

        `num_concurrent_runs`: most runs of this instance going at once; a run started
        beyond it waits, its timeout not yet counting, until an earlier one ends (runs of
        other instances do not count). `workflow_name`: the name `workflow_name` gives,
        instead of the class's module-qualified name."""
        if num_concurrent_runs is not None and (
            isinstance(num_concurrent_runs, bool)
            or not isinstance(num_concurrent_runs, int)
            or num_concurrent_runs <= 0
        ):
            raise WorkflowValidationError(
                f"num_concurrent_runs must be an integer greater than 0 or None, got "
                f"{num_concurrent_runs!r}"
            )
        if num_concurrent_runs is not None and store is not None:
            raise WorkflowValidationError(
                f"{type(self).__name__}: num_concurrent_runs is not supported with a store "
                "yet; leave it out, or run without store="
            )
        self._run_slots: RunSlots | None = None
        if num_concurrent_runs:
            # Loaded for a workflow with a limit only, not at `import agentflow`.
            from agentflow.runtime.run_slots import RunSlots

            self._run_slots = RunSlots(num_concurrent_runs)
        self._workflow_name = workflow_name
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout}")
        self.timeout = timeout
        self.disable_validation = disable_validation
        self.verbose = verbose
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be a positive int, got {checkpoint_every}")
        if durability not in DURABILITY_MODES:
            raise ValueError(
                f"durability must be one of {', '.join(map(repr, DURABILITY_MODES))}, "
                f"got {durability!r}"
            )
        self.store = store
        self.checkpoint_every = checkpoint_every
        self.durability: Durability = durability
        self.resource_manager = (
            resource_manager if resource_manager is not None else ResourceManager()
        )
        """Keeps this workflow's cached resources across its runs (`agentflow.resource`)."""
        # As LlamaIndex Workflows does, even with disable_validation: a graph without an
        # entry or an exit, or with several, is refused here (the rest at the first run).
        validate_graph_ends(type(self).__name__, step_specs_of(type(self)))

    @property
    def workflow_name(self) -> str:
        """The name given as `workflow_name=`, else the class's module-qualified name
        (`mymodule.MyWorkflow`), as LlamaIndex Workflows names a workflow."""
        if self._workflow_name is not None:
            return self._workflow_name
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}"

    @property
    def num_concurrent_runs(self) -> int | None:
        """Most runs of this instance going at once (None: no limit)."""
        return None if self._run_slots is None else self._run_slots.limit

    @property
    def start_event_class(self) -> type[StartEvent]:
        """The StartEvent type the steps accept (`StartEvent` itself unless a subclass)."""
        return _start_event_type(step_table_of(type(self)))

    @property
    def stop_event_class(self) -> type[StopEvent]:
        """The StopEvent type the steps return (`StopEvent` itself unless a subclass)."""
        stop_types = step_table_of(type(self)).stop_event_types()
        return stop_types[0] if stop_types else StopEvent

    @property
    def events(self) -> list[type[Event]]:
        """Every event type the steps accept or return, from their annotations."""
        return step_table_of(type(self)).event_types()

    @classmethod
    def add_step(cls, function: Callable[..., Any]) -> None:
        """Add a `@step`-decorated free function to this class's steps."""
        name = getattr(function, "__name__", repr(function))
        if step_config_of(function) is None:
            raise WorkflowValidationError(
                f"{function!r} is not decorated with @step. Step function {name} is missing "
                "the `@step` decorator."
            )
        if name in cls.__dict__.get("_free_steps", {}) or step_config_of(getattr(cls, name, None)):
            raise WorkflowValidationError(
                f"workflow {cls.__name__} already has a step '{name}'. A step {name} is already "
                "part of this workflow, please choose another name."
            )
        if "_free_steps" not in cls.__dict__:
            cls._free_steps = {}
        cls._free_steps[name] = function
        _forget_tables(cls)

    @classmethod
    def _step_table(cls) -> StepTable:
        # Other modules call `step_table_of` itself; this spelling is for the class's own.
        return step_table_of(cls)

    @classmethod
    def _validated_step_table(cls) -> StepTable:
        table = step_table_of(cls)
        if not cls.__dict__.get("_validated", False):
            validate_step_graph(table)
            # Loaded at a class's first run, not at `import agentflow`.
            from agentflow.resource.checks import check_resource_configs

            check_resource_configs(table)
            cls._validated = True
        return table

    def validate(
        self, *, validate_resource_configs: bool = True, validate_resources: bool = False
    ) -> bool:
        """Run the checks a first run makes, now and again: the step graph, `@catch_error`
        scopes and (unless told not to) that every `ResourceConfig` loads; with
        `validate_resources=True` also make every resource, as a run would (call it
        outside a running event loop), in an event loop and a `ResourceManager` of its
        own that it then drops: it proves they can be made, and each run still makes the
        ones it uses in its own loop (a client made in a loop that has closed is of no
        use). Raises `WorkflowValidationError` listing what is
        wrong; returns True when the workflow asks a human for input."""
        from agentflow.workflow_checks import validate_workflow  # loaded when asked for

        return validate_workflow(
            self,
            validate_resource_configs=validate_resource_configs,
            validate_resources=validate_resources,
        )

    def hold_for_run(self) -> Callable[[], Awaitable[None]] | None:
        """What each run keeps while it goes, for a subclass to say; nothing by default.

        Called as a run starts (new, resumed or durable; before any step of it runs), it
        takes hold of what the run's steps share across their executions, such as a tool's
        session with its server, and returns how to let go. That is awaited once the run
        has ended and its steps and child runs have stopped, before its handler resolves,
        whatever the outcome (a result, a failure, the timeout, a cancel). Taking hold must
        not wait (it runs in `run()`, which does not); what it raises, `run()` raises, and
        the run does not start. What letting go raises fails the run, as a step's error
        would."""
        return None

    def run(
        self,
        ctx: Context[Any] | None = None,
        start_event: StartEvent | None = None,
        *,
        forward_events: bool = False,
        run_id: str | None = None,
        **kwargs: Any,
    ) -> WorkflowHandler[ResultT]:
        """Start a run and return its handler at once. The start event is `start_event`,
        or this workflow's StartEvent type built from `kwargs`. Must be called from a
        running event loop (any: asyncio.run, FastAPI, Jupyter). Given neither, a `ctx`
        holding an unfinished run (from `Context.from_dict`, or a run that was cancelled,
        timed out or failed) resumes that run; given a start event, it starts a new one.

        Run from inside a step, the new run is that step's child: it ends when the parent
        run ends and gets at most the time the parent has left; with `forward_events=True`
        its streamed events also appear on the parent's stream, each with a
        `source_workflow` field naming the child's class.

        `run_id` names the run (`handler.run_id`); by default a random hex id. With a
        `store`, it is the id `resume(run_id)` takes, unique in the store."""
        if run_id is not None and (not isinstance(run_id, str) or not run_id):
            raise ValueError(f"run_id must be a non-empty str, got {run_id!r}")
        table = self._step_table() if self.disable_validation else self._validated_step_table()
        if ctx is not None and not isinstance(ctx, Context):
            raise TypeError(
                f"run(ctx=...) takes a Context, got a {type(ctx).__name__}; to put a field "
                "named 'ctx' on the start event, pass start_event=... instead"
            )
        resuming = ctx is not None and ctx.has_unfinished_run and start_event is None and not kwargs
        if not resuming:
            start_event = _make_start_event(table, start_event, kwargs)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "Workflow.run() needs a running event loop: call it inside `async def` code "
                "run by asyncio.run(...), or await it in Jupyter/FastAPI"
            ) from None
        if ctx is None:
            ctx = Context(self)
        elif ctx.workflow is not self:
            raise WorkflowRuntimeError(
                f"this Context belongs to another {type(ctx.workflow).__name__} instance; "
                "make one with Context(workflow) for the workflow you run"
            )
        run_ctx: Context[Any] = ctx
        new_id = run_id if run_id is not None else uuid.uuid4().hex
        store = self.store
        if store is not None:
            if resuming or forward_events:
                raise WorkflowRuntimeError(
                    f"{type(self).__name__} has a store: "
                    + (
                        "resume a durable run with `await workflow.resume(run_id)`, not "
                        "run(ctx=...) with a saved context"
                        if resuming
                        else "forward_events=True is not supported for durable runs yet"
                    )
                )
            from agentflow.durable.start import durable_run  # loaded only with a store

            return start_run(
                run_ctx,
                False,
                lambda _: durable_run(self, table, run_ctx, store, new_id, start_event),
            )

        def make_run(resume: RunSnapshot | None) -> WorkflowRun:
            return WorkflowRun(
                self,
                table,
                run_ctx,
                start_event,
                new_id,
                forward_events,
                resume=resume,
                slots=self._run_slots,
            )

        return start_run(run_ctx, resuming, make_run)

    async def resume(
        self, run_id: str, *, allow_version_change: bool = False
    ) -> WorkflowHandler[ResultT]:
        """Go on with the run `run_id` from this workflow's store, in this process: the
        executions its journal has no completion for run (again); a step that was waiting
        for an answer sent before gets it at once. Raises RunNotFoundError,
        RunFinishedError for a run that has ended, and RunVersionError for a run another
        workflow class or `version` started (unless `allow_version_change`) or one with
        work left for steps this class no longer has."""
        store = self.store
        if store is None:
            raise WorkflowRuntimeError(
                f"{type(self).__name__}.resume() needs a store: make the workflow with "
                "store=SqliteStore(...) (agentflow.stores)"
            )
        table = self._step_table() if self.disable_validation else self._validated_step_table()
        from agentflow.durable.start import resumed_run  # loaded only with a store

        ctx: Context[Any] = Context(self)
        make_run = await resumed_run(self, table, ctx, store, run_id, allow_version_change)
        return start_run(ctx, False, lambda _: make_run())


def _make_start_event(
    table: StepTable, start_event: StartEvent | None, kwargs: dict[str, Any]
) -> StartEvent:
    start_type = _start_event_type(table)
    if start_event is None:
        try:
            return start_type(**kwargs)
        except ValidationError as error:
            # Loaded on this error only: it brings pydantic's plugin machinery with it.
            from agentflow.context.saved_format import describe_problems

            raise StartEventError(
                f"Failed creating a start event of type '{start_type.__name__}' with the "
                f"keyword arguments: {kwargs} ({describe_problems(error)})"
            ) from error
    if kwargs:
        raise TypeError(
            f"run() got start_event and keyword arguments {sorted(kwargs)}; put them on "
            "the start event instead"
        )
    if not isinstance(start_event, start_type):
        sentence = (
            ""
            if isinstance(start_event, StartEvent)
            else "The 'start_event' argument must be an instance of 'StartEvent'. "
        )
        raise StartEventError(
            f"{sentence}workflow {table.workflow_name} starts with {start_type.__name__}, but "
            f"run() got a {type(start_event).__name__}"
        )
    return start_event


def _start_event_type(table: StepTable) -> type[StartEvent]:
    start_types = table.start_event_types()
    return start_types[0] if start_types else StartEvent


def _forget_tables(cls: type[Workflow]) -> None:
    for klass in [cls, *cls.__subclasses__()]:
        forget_step_table(klass)
        if "_validated" in klass.__dict__:
            klass._validated = False
        if klass is not cls:
            _forget_tables(klass)
