"""A step's signature as its annotations say it: resolving them (in the code that decorated
the step, then in its module), the event types a parameter names, and the checks LlamaIndex
Workflows makes when a step is decorated, made then too, with its words in the messages.

The step table (`step_table.py`) reads the rest of a signature once per workflow class.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

from agentflow.errors import WorkflowValidationError
from agentflow.events import Event, StepFailedEvent

if TYPE_CHECKING:
    from agentflow.decorators import StepConfig


def check_signature_at_decoration(
    function: Callable[..., Any], config: StepConfig, *, is_method: bool
) -> None:
    """The checks LlamaIndex Workflows makes when a step is decorated, made then too: the
    step is no async generator, has an event parameter and a return annotation, and a
    `@catch_error` step takes a StepFailedEvent. A step whose annotations name a class not
    defined yet (a forward reference) is checked when its workflow is first made instead."""
    owner, _, name = function.__qualname__.rpartition(".")
    workflow_name = owner.rpartition(".")[2] if is_method else None
    where = f"step '{name}'" + (f" of {workflow_name}" if workflow_name else "")
    if inspect.isasyncgenfunction(function):
        raise WorkflowValidationError(
            f"{where} is an async generator; return the events (or send each with "
            "ctx.send_event) instead of yielding them. Async-iterator fan-out "
            "(AsyncIterator[E] / AsyncGenerator[E, None] / async generator steps) is not "
            "supported."
        )
    try:
        hints = resolved_hints(function, config)
    except (NameError, TypeError):
        return
    parameters = step_parameters(function, is_method)
    accepted = [
        event_types
        for parameter in parameters
        if (event_types := event_types_of(hints.get(parameter.name, inspect.Parameter.empty)))
    ]
    if not accepted:
        raise no_event_parameter(where, parameters, hints)
    if "return" not in hints:
        raise no_return_annotation(where)
    if config.catch_error is not None and not any(
        issubclass(StepFailedEvent, taken) for taken in accepted
    ):
        raise catch_error_without_step_failed_event(workflow_name, name)


def catch_error_without_step_failed_event(
    workflow_name: str | None, name: str
) -> WorkflowValidationError:
    """A `@catch_error` step whose event parameter does not take a StepFailedEvent."""
    where = f"workflow {workflow_name}: " if workflow_name else ""
    return WorkflowValidationError(
        f"{where}@catch_error step '{name}' must take a StepFailedEvent (annotate its event "
        f"parameter `ev: StepFailedEvent`); @catch_error handler '{name}' must accept "
        "StepFailedEvent as its event parameter."
    )


def no_event_parameter(
    where: str, parameters: list[inspect.Parameter], hints: dict[str, Any]
) -> WorkflowValidationError:
    """The error for a step none of whose `parameters` names an Event type; each one's
    annotation is listed."""
    found = "; ".join(
        f"'{parameter.name}' is annotated {_annotation_name(hints[parameter.name])}"
        if parameter.name in hints
        else f"'{parameter.name}' has no annotation"
        for parameter in parameters
    )
    return WorkflowValidationError(
        f"{where}: no parameter is annotated with an Event type ({found or 'it takes none'}); "
        "annotate the event parameter, e.g. `ev: StartEvent`. Step signature must have at "
        "least one parameter annotated as type Event"
    )


def _annotation_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)


def no_return_annotation(where: str) -> WorkflowValidationError:
    """The error for a step without a return annotation."""
    return WorkflowValidationError(
        f"{where}: missing return annotation; annotate the events it returns, e.g. "
        "`-> StopEvent` or `-> MyEvent | None`. Return types of workflows step functions "
        "must be annotated with their type."
    )


def resolved_hints(function: Callable[..., Any], config: StepConfig) -> dict[str, Any]:
    """`function`'s annotations as objects: names resolve in the code that decorated it
    (classes local to a function), then in its module's globals as they are now."""
    return get_type_hints(function, localns=config.local_names, include_extras=True)


def step_parameters(function: Callable[..., Any], is_method: bool) -> list[inspect.Parameter]:
    """The parameters a step is called with (a method's `self` left out)."""
    parameters = list(inspect.signature(function).parameters.values())
    return parameters[1:] if is_method else parameters


def union_members(annotation: Any) -> tuple[Any, ...]:
    """`A | B` (or `Union[A, B]`) as `(A, B)`; any other annotation as itself alone."""
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def event_types_of(annotation: Any) -> tuple[type[Event], ...]:
    """The event types an event parameter's annotation names, or () when it is not one."""
    members = union_members(annotation)
    if all(isinstance(member, type) and issubclass(member, Event) for member in members):
        return tuple(members)
    return ()
