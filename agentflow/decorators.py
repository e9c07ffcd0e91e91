"""`@step` and `@catch_error`: mark methods (or, with `workflow=`, free functions) as steps.

The decorators record options on the function, with the local names of the code that
decorated it, so that annotations naming classes local to a function (a test, a factory)
resolve. What the step accepts and emits is read from its annotations once per workflow
class (see `agentflow.runtime.step_table`), so that annotations naming classes defined
further down the module resolve too; when they already resolve at decoration, the checks
LlamaIndex Workflows makes there (an event parameter, a return annotation) are made there.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from agentflow.errors import WorkflowValidationError
from agentflow.runtime.step_signature import check_signature_at_decoration

if TYPE_CHECKING:
    from agentflow.retry_policy import RetryPolicy
    from agentflow.workflow import Workflow

F = TypeVar("F", bound=Callable[..., Any])

STEP_CONFIG_ATTRIBUTE = "__agentflow_step__"
DEFAULT_NUM_WORKERS = 4
REACHABILITY = "reachability"
"""The check a step fed by the run's callers skips: that something reachable emits what it
accepts. Such a step also keeps an idle run waiting rather than failing it as stalled."""
GRAPH_CHECKS = frozenset({REACHABILITY})
"""The step-graph checks a step may opt out of with `@step(skip_graph_checks=[...])`."""


@dataclass(frozen=True, slots=True)
class CatchErrorConfig:
    """What a `@catch_error` step handles."""

    for_steps: tuple[str, ...] | None
    """The steps whose failures it receives; None for every step no other handler claims."""
    max_recoveries: int
    """How many failures it may handle per run before the run fails instead."""


@dataclass(frozen=True, slots=True)
class StepConfig:
    """Options given to `@step` or `@catch_error`, stored on the decorated function."""

    num_workers: int = DEFAULT_NUM_WORKERS
    """How many events this step may handle at once within one run."""
    retry_policy: RetryPolicy | None = None
    """Decides whether and when a failed execution is tried again."""
    timeout: float | None = None
    """Seconds one execution may take; each retry gets the same time again."""
    catch_error: CatchErrorConfig | None = None
    """Set for `@catch_error` steps."""
    skip_graph_checks: frozenset[str] = frozenset()
    """Step-graph checks this step is exempt from: "reachability" for a step that only
    events sent from outside the run (`handler.ctx.send_event`) feed."""
    local_names: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The names local to the functions (and class body) around the decorator, as they
    were when it ran: the step's annotations may name them. None at module level, where
    the module's globals serve, as they are when the annotations are read."""


@overload
def step(fn: F, /) -> F: ...


@overload
def step(
    *,
    workflow: type[Workflow] | None = None,
    num_workers: int = DEFAULT_NUM_WORKERS,
    retry_policy: RetryPolicy | None = None,
    timeout: float | None = None,
    skip_graph_checks: list[str] | None = None,
) -> Callable[[F], F]: ...


def step(
    fn: F | None = None,
    /,
    *,
    workflow: type[Workflow] | None = None,
    num_workers: int = DEFAULT_NUM_WORKERS,
    retry_policy: RetryPolicy | None = None,
    timeout: float | None = None,
    skip_graph_checks: list[str] | None = None,
) -> F | Callable[[F], F]:
    """Mark `fn` as a step: `@step`, `@step(num_workers=8, retry_policy=..., timeout=30)`,
    or `@step(workflow=MyFlow)` to add a free function to `MyFlow`'s steps.
    `skip_graph_checks=["reachability"]` (LlamaIndex Workflows' name) admits a step that
    only events sent from outside the run feed, even events no step emits, which
    LlamaIndex would still refuse; an idle run then waits for them rather than failing as
    stalled."""

    def mark(func: F, local_names: Mapping[str, Any] | None) -> F:
        if isinstance(skip_graph_checks, str):  # a set of its letters, were it taken as is
            raise WorkflowValidationError(
                f"step '{getattr(func, '__qualname__', func)}': skip_graph_checks takes a list "
                f"of check names, as in skip_graph_checks=['{REACHABILITY}'], got the str "
                f"{skip_graph_checks!r}"
            )
        config = StepConfig(
            num_workers=num_workers,
            retry_policy=retry_policy,
            timeout=timeout,
            skip_graph_checks=frozenset(skip_graph_checks or ()),
            local_names=local_names,
        )
        return _mark(func, config, workflow)

    def decorate(func: F) -> F:
        return mark(func, _caller_local_names(func))

    # `@step` calls step(fn), `@step(...)` calls decorate(fn): the decorating code is the
    # caller of either.
    return mark(fn, _caller_local_names(fn)) if fn is not None else decorate


@overload
def catch_error(fn: F, /) -> F: ...


@overload
def catch_error(
    *, for_steps: list[str] | None = None, max_recoveries: int = 1
) -> Callable[[F], F]: ...


def catch_error(
    fn: F | None = None,
    /,
    *,
    for_steps: list[str] | None = None,
    max_recoveries: int = 1,
) -> F | Callable[[F], F]:
    """Mark `fn` as the step that receives a `StepFailedEvent` when a step's attempts run
    out (only for `for_steps`, or for every step no scoped handler claims). Returning an
    event recovers the run; at most `max_recoveries` times per run."""

    def mark(func: F, local_names: Mapping[str, Any] | None) -> F:
        name = getattr(func, "__qualname__", repr(func))
        if isinstance(max_recoveries, bool) or not isinstance(max_recoveries, int):
            raise WorkflowValidationError(
                f"@catch_error step '{name}': max_recoveries must be an int, got "
                f"{max_recoveries!r}. {_MAX_RECOVERIES_SENTENCE}"
            )
        if max_recoveries < 1:
            raise WorkflowValidationError(
                f"@catch_error step '{name}': max_recoveries must be at least 1, got "
                f"{max_recoveries}. {_MAX_RECOVERIES_SENTENCE}"
            )
        if for_steps is not None and (
            not isinstance(for_steps, list | tuple)
            or not all(isinstance(target, str) for target in for_steps)
        ):
            raise WorkflowValidationError(
                f"@catch_error step '{name}': for_steps takes a list of step names, as in "
                f"for_steps=['fetch'], got {for_steps!r}. @catch_error for_steps must be None "
                "or a list of step name strings"
            )
        handled = CatchErrorConfig(
            for_steps=tuple(for_steps) if for_steps is not None else None,
            max_recoveries=max_recoveries,
        )
        config = StepConfig(num_workers=1, catch_error=handled, local_names=local_names)
        return _mark(func, config, None)

    def decorate(func: F) -> F:
        return mark(func, _caller_local_names(func))

    return mark(fn, _caller_local_names(fn)) if fn is not None else decorate


_MAX_RECOVERIES_SENTENCE = "@catch_error max_recoveries must be an integer >= 1"
"""LlamaIndex Workflows' words, which ported tests match on."""


def _mark(func: F, config: StepConfig, workflow: type[Workflow] | None) -> F:
    name = getattr(func, "__qualname__", repr(func))
    if not callable(func):
        raise WorkflowValidationError(f"@step needs a function, got {func!r}")
    workers = config.num_workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise WorkflowValidationError(
            f"step '{name}': num_workers must be a positive integer, got {workers!r} "
            "(num_workers must be an integer greater than 0)"
        )
    if config.timeout is not None and not config.timeout > 0:
        raise WorkflowValidationError(
            f"step '{name}': timeout must be a positive number of seconds or None, got "
            f"{config.timeout!r}"
        )
    unknown = config.skip_graph_checks - GRAPH_CHECKS
    if unknown:
        raise WorkflowValidationError(
            f"step '{name}': skip_graph_checks names unknown checks "
            f"{', '.join(repr(check) for check in sorted(unknown))}; the checks a step may "
            f"skip are {', '.join(sorted(GRAPH_CHECKS))}"
        )
    policy = config.retry_policy
    if policy is not None and not callable(getattr(policy, "next", None)):
        raise WorkflowValidationError(
            f"step '{name}': retry_policy must have a next(elapsed_time, attempts, error) "
            f"method, got {policy!r}"
        )
    is_free = _is_free_function(name)
    if is_free and workflow is None and config.catch_error is None:
        raise WorkflowValidationError(
            f"step '{name}' is a free function, which belongs to no workflow: decorate it "
            f"@step(workflow=MyWorkflow), or define it in the workflow's class. To decorate "
            f"{getattr(func, '__name__', name)} please pass a workflow class to the @step "
            "decorator."
        )
    check_signature_at_decoration(func, config, is_method=not is_free)
    setattr(func, STEP_CONFIG_ATTRIBUTE, config)
    if workflow is not None:
        workflow.add_step(func)
    return func


def _is_free_function(qualname: str) -> bool:
    """True for a module-level function or one defined in a function (`f`,
    `test.<locals>.f`), False for one defined in a class body (`Flow.f`)."""
    parts = qualname.split(".")
    return len(parts) == 1 or parts[-2] == "<locals>"


def _caller_local_names(func: Callable[..., Any], frames: int = 3) -> Mapping[str, Any] | None:
    """The local names `func`'s annotations mention, as the code that called the decorator
    and the code around it have them, up to `frames` frames (a class body, the function
    defining the class, its caller) and never past module level, inner names winning; None
    when there are none. Only those names are kept, so that a workflow made in a function
    keeps none of its caller's other objects alive. Module globals are left out: the
    function's own `__globals__` is read when the annotations are, so that classes defined
    later in the module resolve."""
    wanted = _names_in_annotations(func)
    here = inspect.currentframe()  # this function; its caller is the decorator
    frame: FrameType | None = here.f_back.f_back if here and here.f_back else None
    found: list[dict[str, Any]] = []
    while (
        wanted
        and frame is not None
        and len(found) < frames
        and frame.f_locals is not frame.f_globals
    ):
        found.append({name: value for name, value in frame.f_locals.items() if name in wanted})
        frame = frame.f_back
    names: dict[str, Any] = {}
    for local in reversed(found):
        names.update(local)
    return names or None


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_in_annotations(func: Callable[..., Any]) -> set[str]:
    """Every identifier in `func`'s annotations: in the text of a string (or postponed)
    one, and in the repr of an object, which shows its forward references by name."""
    annotations = getattr(func, "__annotations__", None) or {}
    text = " ".join(a if isinstance(a, str) else repr(a) for a in annotations.values())
    return set(_IDENTIFIER.findall(text))


def step_config_of(obj: object) -> StepConfig | None:
    """The `@step` options of `obj`, or None when it is not a step."""
    return getattr(obj, STEP_CONFIG_ATTRIBUTE, None)
