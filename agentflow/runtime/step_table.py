"""What each step of a workflow class accepts, emits and needs, computed once per class.

Routing then costs a dict lookup per event type (`StepTable.route`), and calling a step
needs no signature inspection: the reference library re-inspects step methods on every
call, which is a sixth of a linear chain's time there.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_args, get_origin

from pydantic import BaseModel

from agentflow.decorators import CatchErrorConfig, StepConfig, step_config_of
from agentflow.errors import WorkflowValidationError
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.resource import ResourceDescriptor
from agentflow.resource.descriptor import resource_of
from agentflow.resource.manager import Resolver, RunResources
from agentflow.runtime.port import StepContextBase
from agentflow.runtime.retries import timing_attempts
from agentflow.runtime.step_calls import call_by_keyword, call_with_resources, with_timeout
from agentflow.runtime.step_signature import (
    event_types_of,
    no_event_parameter,
    no_return_annotation,
    resolved_hints,
    step_parameters,
    union_members,
)

if TYPE_CHECKING:
    from agentflow.context import Context
    from agentflow.retry_policy import RetryPolicy
    from agentflow.workflow import Workflow


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step, as the runtime calls it."""

    name: str
    """The method or function name; unique within a workflow."""
    function: Callable[..., Any]
    """The plain function; methods are called with the workflow instance first."""
    is_method: bool
    """True for methods of the workflow class, False for `@step(workflow=...)` functions."""
    accepted: tuple[type[Event], ...]
    """Event types from the event parameter's annotation; subclasses are accepted too."""
    emitted: tuple[type[Event], ...]
    """Event types from the return annotation (None excluded)."""
    event_param: str
    """Name of the parameter that receives the event."""
    context_param: str | None
    """Name of the parameter that receives the Context, if the step takes one."""
    state_type: type[BaseModel] | None
    """`X` when the context parameter is annotated `Context[X]`."""
    num_workers: int
    """Most executions of this step at once within one run."""
    is_async: bool
    """Sync steps run in a daemon thread (`daemon_threads`) so they cannot block the event
    loop, and one abandoned by its run cannot hold up other runs or the process."""
    positional_roles: tuple[str, ...] | None
    """("context", "event") in the order the parameters take them positionally, or None
    when they must be passed by keyword."""
    resources: tuple[tuple[str, ResourceDescriptor], ...] = ()
    """Parameters annotated `Annotated[T, Resource(factory)]` or `Annotated[Model,
    ResourceConfig(...)]`, by name."""
    retry_policy: RetryPolicy | None = None
    """From `@step(retry_policy=...)`."""
    timeout: float | None = None
    """From `@step(timeout=...)`: seconds one execution may take."""
    catch_error: CatchErrorConfig | None = None
    """Set for `@catch_error` steps."""
    skip_graph_checks: frozenset[str] = frozenset()
    """From `@step(skip_graph_checks=...)`: validation checks this step is exempt from."""
    plain: bool = False
    """An async step with no timeout, resources or retry policy: `bind` may hand out a
    bare `functools.partial`, decided once here rather than on every run."""

    def accepts(self, event_type: type[Event]) -> bool:
        """True when an event of `event_type` is routed to this step."""
        return issubclass(event_type, self.accepted)

    def bind(
        self, workflow: Workflow, ctx: Context[Any], resources: RunResources | None
    ) -> Callable[[Event], Awaitable[Any]]:
        """A callable taking just the event, made once per step and run. Positional
        `functools.partial` calls are the cheapest way into the user's function; the rest
        (resources, threads for sync steps, a timeout, timing attempts for a retry
        policy) is added only when used."""
        function = self.function
        fixed: tuple[Any, ...] = (workflow,) if self.is_method else ()
        roles = self.positional_roles
        if self.plain:
            if roles == ("event",):
                return functools.partial(function, *fixed)
            if roles == ("context", "event"):
                return functools.partial(function, *fixed, ctx)
        context_kwargs = {self.context_param: ctx} if self.context_param else {}
        call = (
            call_by_keyword(function, fixed, self.event_param, context_kwargs, self.is_async)
            if not self.resources
            else call_with_resources(
                self, fixed, context_kwargs, Resolver(workflow.resource_manager, resources, ctx)
            )
        )
        if self.timeout is not None:
            call = with_timeout(call, self.name, self.timeout)
        return call if self.retry_policy is None else timing_attempts(call)


@dataclass(slots=True)
class StepTable:
    """All steps of one workflow class and the routes between them."""

    workflow_name: str
    steps: dict[str, StepSpec]
    state_type: type[BaseModel] | None
    catch_handlers: dict[str, StepSpec] = field(default_factory=dict)
    """Which `@catch_error` step receives each step's failures."""
    routes: dict[type[Event], tuple[StepSpec, ...]] = field(default_factory=dict)
    """Cache of `route()`, filled as event types are first seen."""
    plain_results: set[type[Event]] = field(default_factory=set)
    """The types of events steps returned that are neither a StopEvent nor an
    InputRequiredEvent, filled as first seen: `isinstance` against an event class goes
    through pydantic's metaclass, several times slower than a lookup here."""

    def route(self, event_type: type[Event]) -> tuple[StepSpec, ...]:
        """The steps that receive an event of `event_type`, looked up once per type."""
        specs = self.routes.get(event_type)
        if specs is None:
            specs = tuple(spec for spec in self.steps.values() if spec.accepts(event_type))
            self.routes[event_type] = specs
        return specs

    def start_event_types(self) -> list[type[StartEvent]]:
        """The distinct StartEvent types that some step accepts."""
        return start_event_types_of(self.steps)

    def stop_event_types(self) -> list[type[StopEvent]]:
        """The distinct StopEvent types that some step returns."""
        return stop_event_types_of(self.steps)

    def event_types(self) -> list[type[Event]]:
        """Every event type a step accepts or returns, each once, in step order."""
        found: dict[type[Event], None] = {}
        for spec in self.steps.values():
            found.update(dict.fromkeys(spec.accepted))
            found.update(dict.fromkeys(spec.emitted))
        return list(found)


def start_event_types_of(steps: Mapping[str, StepSpec]) -> list[type[StartEvent]]:
    """The distinct StartEvent types that some step of `steps` accepts, in step order."""
    accepted = dict.fromkeys(kind for spec in steps.values() for kind in spec.accepted)
    return [kind for kind in accepted if issubclass(kind, StartEvent)]


def stop_event_types_of(steps: Mapping[str, StepSpec]) -> list[type[StopEvent]]:
    """The distinct StopEvent types that some step of `steps` returns, in step order."""
    emitted = dict.fromkeys(kind for spec in steps.values() for kind in spec.emitted)
    return [kind for kind in emitted if issubclass(kind, StopEvent)]


_CACHE_ATTRIBUTE = "_agentflow_step_table"
"""Where `step_table_of` keeps a class's table: in the class's own `__dict__`, so a
subclass never sees its parent's table and the table goes when the class does."""
_SPECS_ATTRIBUTE = "_agentflow_step_specs"
"""Where `step_specs_of` keeps a class's steps, the same way."""


def step_table_of(workflow_class: type[Workflow]) -> StepTable:
    """The step table of `workflow_class`, built on first use and kept on the class; the
    public way for drawings, the command line and the runtime to read a workflow's steps."""
    table: StepTable | None = workflow_class.__dict__.get(_CACHE_ATTRIBUTE)
    if table is None:
        table = build_step_table(workflow_class)
        setattr(workflow_class, _CACHE_ATTRIBUTE, table)
    return table


def step_specs_of(workflow_class: type[Workflow]) -> dict[str, StepSpec]:
    """Each step of `workflow_class` as read from its signature, read on first use and
    kept on the class: what constructing a workflow checks (its start and stop events),
    without the checks between steps that LlamaIndex Workflows leaves to the first run."""
    specs: dict[str, StepSpec] | None = workflow_class.__dict__.get(_SPECS_ATTRIBUTE)
    if specs is None:
        specs = {
            name: _read_step(workflow_class.__name__, name, function, config, is_method)
            for name, function, config, is_method in _collect_steps(workflow_class)
        }
        setattr(workflow_class, _SPECS_ATTRIBUTE, specs)
    return specs


def forget_step_table(workflow_class: type[Workflow]) -> None:
    """Drop the table `step_table_of` (and the steps `step_specs_of`) kept for
    `workflow_class` (its steps changed), so the next call builds it again. Subclasses
    keep theirs; forget them one by one."""
    for attribute in (_CACHE_ATTRIBUTE, _SPECS_ATTRIBUTE):
        if attribute in workflow_class.__dict__:
            delattr(workflow_class, attribute)


def build_step_table(workflow_class: type[Workflow]) -> StepTable:
    """Read every step of `workflow_class` (methods, inherited ones, and free functions
    added with `@step(workflow=...)`) into a `StepTable`."""
    steps = step_specs_of(workflow_class)
    return StepTable(
        workflow_name=workflow_class.__name__,
        steps=dict(steps),
        state_type=_most_derived_state_type(workflow_class.__name__, steps),
        catch_handlers=_assign_catch_handlers(workflow_class.__name__, steps),
    )


def _most_derived_state_type(
    workflow_name: str, steps: dict[str, StepSpec]
) -> type[BaseModel] | None:
    """The state type of the workflow: the one its steps' `Context[X]` annotations name, or
    the most derived when they name a chain of subclasses (an inherited step keeps its
    parent's `Context[Base]` while an override asks for `Context[Derived]`), as LlamaIndex
    Workflows infers it."""
    state_types = {spec.state_type for spec in steps.values() if spec.state_type is not None}
    for candidate in state_types:
        if all(issubclass(candidate, other) for other in state_types):
            return candidate
    if not state_types:
        return None
    listing = ", ".join(
        f"'{spec.name}' uses Context[{spec.state_type.__name__}]"
        for spec in steps.values()
        if spec.state_type is not None
    )
    raise WorkflowValidationError(
        f"workflow {workflow_name}: steps disagree on the state type: {listing}; steps "
        "may name one state type, or a chain of subclasses of one (the most derived is "
        "used)"
    )


def _assign_catch_handlers(workflow_name: str, steps: dict[str, StepSpec]) -> dict[str, StepSpec]:
    """Each step's `@catch_error` handler: a scoped one that names it, else the wildcard."""
    handlers = [spec for spec in steps.values() if spec.catch_error is not None]
    wildcards = [spec for spec in handlers if spec.catch_error.for_steps is None]  # type: ignore[union-attr]
    if len(wildcards) > 1:
        names = ", ".join(f"'{spec.name}'" for spec in wildcards)
        raise WorkflowValidationError(
            f"workflow {workflow_name}: only one @catch_error step may cover all steps, "
            f"found {names}; give the others for_steps=[...]. Only one wildcard @catch_error "
            f"handler is allowed per workflow, found {len(wildcards)}: "
            f"{', '.join(sorted(spec.name for spec in wildcards))}"
        )
    assigned: dict[str, StepSpec] = {}
    for handler in handlers:
        for target in handler.catch_error.for_steps or ():  # type: ignore[union-attr]
            if target not in steps:
                raise WorkflowValidationError(
                    f"workflow {workflow_name}: @catch_error handler '{handler.name}' lists "
                    f"unknown step '{target}' in for_steps. Its steps are "
                    f"{', '.join(repr(known) for known in steps)}."
                )
            if steps[target].catch_error is not None:
                raise WorkflowValidationError(
                    f"workflow {workflow_name}: @catch_error step '{handler.name}' cannot "
                    f"handle another @catch_error step, '{target}'. @catch_error handler "
                    f"'{handler.name}' cannot cover another handler step '{target}'."
                )
            if target in assigned:
                raise WorkflowValidationError(
                    f"workflow {workflow_name}: Step '{target}' is claimed by two @catch_error "
                    f"handlers: '{assigned[target].name}' and '{handler.name}'."
                )
            assigned[target] = handler
    if wildcards:
        for name, spec in steps.items():
            if spec.catch_error is None:
                assigned.setdefault(name, wildcards[0])
    return assigned


def _collect_steps(
    workflow_class: type[Workflow],
) -> Iterable[tuple[str, Callable[..., Any], StepConfig, bool]]:
    configs: dict[str, StepConfig] = {}
    methods: dict[str, Callable[..., Any]] = {}
    for klass in reversed(workflow_class.__mro__):
        for name, attribute in vars(klass).items():
            config = step_config_of(attribute)
            if config is not None:
                configs[name] = config
                methods[name] = attribute
            elif name in configs and callable(attribute):
                # An undecorated override of a step is still that step: prebuilt
                # workflows are customised by overriding steps one by one.
                methods[name] = attribute
    for name, method in methods.items():
        yield name, method, configs[name], True
    for klass in reversed(workflow_class.__mro__):
        for name, function in vars(klass).get("_free_steps", {}).items():
            config = step_config_of(function)
            assert config is not None, "add_step only stores decorated functions"
            yield name, function, config, False


def _read_step(
    workflow_name: str,
    name: str,
    function: Callable[..., Any],
    config: StepConfig,
    is_method: bool,
) -> StepSpec:
    where = f"step '{name}' of {workflow_name}"
    try:
        hints = resolved_hints(function, config)
    except (NameError, TypeError) as error:
        missing = getattr(error, "name", None)
        raise WorkflowValidationError(
            f"{where}: cannot resolve its annotations ({error}); define the classes they "
            "name before the workflow first runs, at module level or in the function that "
            "defines the workflow. Failed to resolve type annotations for "
            f"{function.__qualname__}." + (f" Missing name: {missing}." if missing else "")
        ) from error

    parameters = step_parameters(function, is_method)
    event_param: str | None = None
    accepted: tuple[type[Event], ...] = ()
    context_param: str | None = None
    state_type: type[BaseModel] | None = None
    roles: list[str] = []
    positional = True
    resources: list[tuple[str, ResourceDescriptor]] = []
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(parameter.name, inspect.Parameter.empty)
        resource = resource_of(annotation)
        if resource is not None:
            resource.bind_type(get_args(annotation)[0], f"{where}, parameter '{parameter.name}'")
            resources.append((parameter.name, resource))
            continue
        context_state = _context_annotation(annotation)
        role_is_positional = parameter.kind in (
            parameter.POSITIONAL_ONLY,
            parameter.POSITIONAL_OR_KEYWORD,
        )
        if context_state is not None:
            roles.append("context")
            positional = positional and role_is_positional
            context_param = parameter.name
            state_type = _state_type(where, context_state)
            continue
        event_types = event_types_of(annotation)
        if event_types:
            if event_param is not None:
                raise WorkflowValidationError(
                    f"{where}: parameters '{event_param}' and '{parameter.name}' are both "
                    "annotated with events; a step takes exactly one event parameter"
                )
            event_param, accepted = parameter.name, event_types
            roles.append("event")
            positional = positional and role_is_positional
            continue
        # Another parameter, which keeps its default: pass the roles by keyword.
        positional = False
        if parameter.default is inspect.Parameter.empty:
            problem = (
                "has no annotation"
                if annotation is inspect.Parameter.empty
                else f"is annotated {annotation!r}, which is neither an Event nor a Context"
            )
            raise WorkflowValidationError(f"{where}: parameter '{parameter.name}' {problem}")
    if event_param is None:
        raise no_event_parameter(where, parameters, hints)
    if "return" not in hints:
        raise no_return_annotation(where)
    emitted = _return_event_types(where, hints["return"])
    is_async = inspect.iscoroutinefunction(function)
    return StepSpec(
        name=name,
        function=function,
        is_method=is_method,
        accepted=accepted,
        emitted=emitted,
        event_param=event_param,
        context_param=context_param,
        state_type=state_type,
        num_workers=config.num_workers,
        is_async=is_async,
        positional_roles=tuple(roles) if positional else None,
        resources=tuple(resources),
        retry_policy=config.retry_policy,
        timeout=config.timeout,
        catch_error=config.catch_error,
        skip_graph_checks=config.skip_graph_checks,
        plain=(
            is_async and config.timeout is None and not resources and config.retry_policy is None
        ),
    )


def _context_annotation(annotation: Any) -> Any:
    """The state type for `Context[X]`, `True` for a bare `Context`, else None. The
    context class is recognised by its base, `StepContextBase`: the runtime does not import
    the face."""
    if _is_step_context(annotation):
        return True
    origin = get_origin(annotation)
    if _is_step_context(origin):
        state = get_args(annotation)[0]
        # `Context[DictState]` says no more than a bare `Context`, as in LlamaIndex Workflows.
        return True if state is origin.untyped_state else state
    return None


def _is_step_context(annotation: Any) -> bool:
    """True for the context class itself (`agentflow.Context`, the one class deriving
    from `StepContextBase` directly), not for a subclass of it: a step is handed a plain
    `Context`."""
    return isinstance(annotation, type) and StepContextBase in annotation.__bases__


def _state_type(where: str, state: Any) -> type[BaseModel] | None:
    """The model class of `Context[X]`; None for a bare `Context` or `Context[Any]`."""
    if state is True or state is Any:
        return None
    if isinstance(state, type) and issubclass(state, BaseModel):
        return state
    raise WorkflowValidationError(
        f"{where}: Context[{getattr(state, '__name__', state)}] names a state type that is not "
        "a pydantic model; use a BaseModel subclass, or a bare Context for a dict-like state"
    )


def _return_event_types(where: str, annotation: Any) -> tuple[type[Event], ...]:
    emitted: list[type[Event]] = []
    for member in union_members(annotation):
        if member is None or member is type(None):
            continue
        if isinstance(member, type) and issubclass(member, Event):
            emitted.append(member)
            continue
        if member is typing.Any:
            raise WorkflowValidationError(
                f"{where}: return annotation Any says nothing about the events it emits; "
                "name the Event types"
            )
        raise WorkflowValidationError(
            f"{where}: return annotation {member!r} is not an Event type or None"
        )
    return tuple(emitted)
