"""Checks on a workflow's step graph, run once per class before its first run.

Each check names the step and the event type at fault. Problems at the graph's ends (no
entry, several entries, no exit) are `WorkflowConfigurationError`s, the rest
`WorkflowValidationError`s, as in LlamaIndex Workflows.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentflow.decorators import REACHABILITY
from agentflow.errors import WorkflowConfigurationError, WorkflowValidationError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
)
from agentflow.runtime.step_table import StepSpec, StepTable

# Events that legitimately cross the workflow's boundary: InputRequiredEvent goes out on the
# stream to a human, HumanResponseEvent comes back in from the caller, and the runtime
# itself sends StepFailedEvent to @catch_error steps.
_LEAVES_THE_WORKFLOW = (StopEvent, InputRequiredEvent)
_ENTERS_FROM_OUTSIDE = (StartEvent, HumanResponseEvent, StepFailedEvent)
_FED_FROM_OUTSIDE_HINT = (
    "emit it from a step that runs, or, for a step that callers feed with "
    'ctx.send_event, mark it @step(skip_graph_checks=["reachability"])'
)


def validate_step_graph(table: StepTable) -> None:
    """Raise on the first problem found in `table`'s step graph."""
    name = table.workflow_name
    if not table.steps:
        raise WorkflowConfigurationError(
            f"workflow {name} has no steps; decorate methods with @step"
        )

    start_types = table.start_event_types()
    if not start_types:
        raise WorkflowConfigurationError(
            f"workflow {name}: no step accepts a StartEvent, so a run could never begin"
        )
    if len(start_types) > 1:
        listing = ", ".join(
            f"'{spec.name}' accepts {accepted.__name__}"
            for spec in table.steps.values()
            for accepted in spec.accepted
            if issubclass(accepted, StartEvent)
        )
        raise WorkflowConfigurationError(
            f"workflow {name}: only one start event type is allowed, found {listing}"
        )

    emitted = {event: spec for spec in table.steps.values() for event in spec.emitted}
    if not any(issubclass(event, StopEvent) for event in emitted):
        raise WorkflowConfigurationError(
            f"workflow {name}: no step returns a StopEvent, so a run could never end; "
            "annotate the last step `-> StopEvent`"
        )

    for event_type, spec in emitted.items():
        if issubclass(event_type, _LEAVES_THE_WORKFLOW):
            continue
        if not table.route(event_type):
            raise WorkflowValidationError(
                f"workflow {name}: step '{spec.name}' emits {event_type.__name__} but no step "
                "accepts it"
            )

    for spec in table.steps.values():
        if spec.catch_error is not None and not spec.accepts(StepFailedEvent):
            raise WorkflowValidationError(
                f"workflow {name}: @catch_error step '{spec.name}' must take a StepFailedEvent "
                "(annotate its event parameter `ev: StepFailedEvent`)"
            )
        for accepted in spec.accepted:
            if issubclass(accepted, StopEvent):
                raise WorkflowValidationError(
                    f"workflow {name}: step '{spec.name}' accepts {accepted.__name__}, but a "
                    "StopEvent ends the run and is never delivered to a step"
                )
            if issubclass(accepted, _ENTERS_FROM_OUTSIDE) or _is_produced(accepted, emitted):
                continue
            if REACHABILITY in spec.skip_graph_checks:
                continue
            raise WorkflowValidationError(
                f"workflow {name}: step '{spec.name}' accepts {accepted.__name__} but no step "
                "emits it and callers only send StartEvent and HumanResponseEvent; "
                f"{_FED_FROM_OUTSIDE_HINT}"
            )

    unreachable = _unreachable_steps(table)
    if unreachable:
        listing = ", ".join(
            f"'{spec.name}' (accepts {' | '.join(t.__name__ for t in spec.accepted)})"
            for spec in unreachable
        )
        raise WorkflowValidationError(
            f"workflow {name}: steps {listing} can never run: no step that runs from the "
            "start event or from a HumanResponseEvent emits what they accept; "
            f"{_FED_FROM_OUTSIDE_HINT}"
        )


def _unreachable_steps(table: StepTable) -> list[StepSpec]:
    """The steps no run can reach: neither the start event, a HumanResponseEvent from the
    caller, nor what a reachable step emits (or its failure, for its @catch_error step)
    is delivered to them. Steps exempt from the check count as reached: callers feed
    them, so the steps they feed are reachable too."""
    waiting = dict(table.steps)
    arrived: list[type[Event]] = [
        accepted
        for spec in table.steps.values()
        for accepted in spec.accepted
        if issubclass(accepted, (StartEvent, HumanResponseEvent))
    ]

    def reach(spec: StepSpec) -> None:
        del waiting[spec.name]
        arrived.extend(spec.emitted)
        handler = table.catch_handlers.get(spec.name)
        if handler is not None and handler.name in waiting:
            reach(handler)

    for spec in list(waiting.values()):
        if REACHABILITY in spec.skip_graph_checks and spec.name in waiting:
            reach(spec)
    while arrived and waiting:
        event_type = arrived.pop()
        for spec in list(waiting.values()):
            if spec.name in waiting and spec.accepts(event_type):
                reach(spec)
    return list(waiting.values())


def _is_produced(accepted: type[Event], emitted: Iterable[type[Event]]) -> bool:
    return any(issubclass(event_type, accepted) for event_type in emitted)
