"""`@step`: marks a method (or, with `workflow=`, a free function) as a workflow step.

The decorator only records options on the function; what the step accepts and emits is
read from its annotations later, once per workflow class (see `agentflow.runtime.step_table`),
so that annotations naming classes defined further down the module resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from agentflow.errors import WorkflowValidationError

if TYPE_CHECKING:
    from agentflow.workflow import Workflow

F = TypeVar("F", bound=Callable[..., Any])

STEP_CONFIG_ATTRIBUTE = "__agentflow_step__"
DEFAULT_NUM_WORKERS = 4


@dataclass(frozen=True, slots=True)
class StepConfig:
    """Options given to `@step`, stored on the decorated function."""

    num_workers: int = DEFAULT_NUM_WORKERS
    """How many events this step may handle at once within one run."""


@overload
def step(fn: F, /) -> F: ...


@overload
def step(
    *, workflow: type[Workflow] | None = None, num_workers: int = DEFAULT_NUM_WORKERS
) -> Callable[[F], F]: ...


def step(
    fn: F | None = None,
    /,
    *,
    workflow: type[Workflow] | None = None,
    num_workers: int = DEFAULT_NUM_WORKERS,
) -> F | Callable[[F], F]:
    """Mark `fn` as a step: `@step`, `@step(num_workers=8)`, or `@step(workflow=MyFlow)`
    to add a free function to `MyFlow`'s steps."""

    def decorate(func: F) -> F:
        name = getattr(func, "__qualname__", repr(func))
        if not callable(func):
            raise WorkflowValidationError(f"@step needs a function, got {func!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1:
            raise WorkflowValidationError(
                f"step '{name}': num_workers must be a positive integer, got {num_workers!r}"
            )
        setattr(func, STEP_CONFIG_ATTRIBUTE, StepConfig(num_workers=num_workers))
        if workflow is not None:
            workflow.add_step(func)
        return func

    if fn is not None:
        return decorate(fn)
    return decorate


def step_config_of(obj: object) -> StepConfig | None:
    """The `@step` options of `obj`, or None when it is not a step."""
    return getattr(obj, STEP_CONFIG_ATTRIBUTE, None)
