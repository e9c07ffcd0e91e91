"""`@step` and `@catch_error`: mark methods (or, with `workflow=`, free functions) as steps.

The decorators only record options on the function; what the step accepts and emits is
read from its annotations later, once per workflow class (see `agentflow.runtime.step_table`),
so that annotations naming classes defined further down the module resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from agentflow.errors import WorkflowValidationError

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

    def decorate(func: F) -> F:
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
        )
        return _mark(func, config, workflow)

    return decorate(fn) if fn is not None else decorate


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

    def decorate(func: F) -> F:
        name = getattr(func, "__qualname__", repr(func))
        if isinstance(max_recoveries, bool) or not isinstance(max_recoveries, int):
            raise WorkflowValidationError(
                f"@catch_error step '{name}': max_recoveries must be an int, got {max_recoveries!r}"
            )
        if max_recoveries < 1:
            raise WorkflowValidationError(
                f"@catch_error step '{name}': max_recoveries must be at least 1, got "
                f"{max_recoveries}"
            )
        handled = CatchErrorConfig(
            for_steps=tuple(for_steps) if for_steps is not None else None,
            max_recoveries=max_recoveries,
        )
        return _mark(func, StepConfig(num_workers=1, catch_error=handled), None)

    return decorate(fn) if fn is not None else decorate


def _mark(func: F, config: StepConfig, workflow: type[Workflow] | None) -> F:
    name = getattr(func, "__qualname__", repr(func))
    if not callable(func):
        raise WorkflowValidationError(f"@step needs a function, got {func!r}")
    workers = config.num_workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise WorkflowValidationError(
            f"step '{name}': num_workers must be a positive integer, got {workers!r}"
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
    setattr(func, STEP_CONFIG_ATTRIBUTE, config)
    if workflow is not None:
        workflow.add_step(func)
    return func


def step_config_of(obj: object) -> StepConfig | None:
    """The `@step` options of `obj`, or None when it is not a step."""
    return getattr(obj, STEP_CONFIG_ATTRIBUTE, None)
