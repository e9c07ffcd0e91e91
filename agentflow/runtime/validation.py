"""Checks on a workflow's step graph, run once per class before its first run.

Each check names the step and the event type at fault. Problems at the graph's ends (no
entry, several entries, no exit) are `WorkflowConfigurationError`s, the rest
`WorkflowValidationError`s, as in LlamaIndex Workflows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
from agentflow.runtime.step_signature import catch_error_without_step_failed_event
from agentflow.runtime.step_table import (
    StepSpec,
    StepTable,
    start_event_types_of,
    stop_event_types_of,
)

# Events that legitimately cross the workflow's boundary: InputRequiredEvent goes out on the
# stream to a human, HumanResponseEvent comes back in from the caller, and the runtime
# itself sends StepFailedEvent to @catch_error steps.
_LEAVES_THE_WORKFLOW = (StopEvent, InputRequiredEvent)
_ENTERS_FROM_OUTSIDE = (StartEvent, HumanResponseEvent, StepFailedEvent)
_FED_FROM_OUTSIDE_HINT = (
    "emit it from a step that runs, or, for a step that callers feed with "
    'ctx.send_event, mark it @step(skip_graph_checks=["reachability"])'
)


def validate_graph_ends(workflow_name: str, steps: dict[str, StepSpec]) -> None:
    """Raise when the graph has no entry, several, no exit or several kinds of exit: the
    checks LlamaIndex Workflows makes when a workflow is constructed (`Workflow.__init__`
    makes them too, even with `disable_validation`)."""
    name = workflow_name
    if not steps:
        raise WorkflowConfigurationError(
            f"workflow {name} has no steps; decorate methods with @step, or add functions "
            f"with @step(workflow={name}). At least one Event of type StartEvent must be "
            "received by any step."
        )
    start_types = start_event_types_of(steps)
    if not start_types:
        raise WorkflowConfigurationError(
            f"workflow {name}: no step accepts a StartEvent, so a run could never begin. "
            "At least one Event of type StartEvent must be received by any step."
        )
    if len(start_types) > 1:
        raise WorkflowConfigurationError(
            f"workflow {name}: only one start event type is allowed, found "
            f"{_who(steps, start_types, 'accepts')}. Only one type of StartEvent is allowed "
            "per workflow."
        )
    stop_types = stop_event_types_of(steps)
    if not stop_types:
        raise WorkflowConfigurationError(
            f"workflow {name}: no step returns a StopEvent, so a run could never end; "
            "annotate the last step `-> StopEvent`. At least one Event of type StopEvent "
            "must be returned by any step."
        )
    if len(stop_types) > 1:
        raise WorkflowConfigurationError(
            f"workflow {name}: only one StopEvent type may end its runs, found "
            f"{_who(steps, stop_types, 'returns')}. Only one type of StopEvent is allowed "
            "per workflow."
        )


def _who(steps: dict[str, StepSpec], kinds: Sequence[type[Event]], verb: str) -> str:
    """Which step takes (`verb="accepts"`) or gives (`"returns"`) each of `kinds`, as
    `'a' accepts X, 'b' accepts Y`."""
    return ", ".join(
        f"'{spec.name}' {verb} {kind.__name__}"
        for spec in steps.values()
        for kind in (spec.accepted if verb == "accepts" else spec.emitted)
        if kind in kinds
    )


def validate_step_graph(table: StepTable) -> None:
    """Raise on the first problem found in `table`'s step graph."""
    name = table.workflow_name
    validate_graph_ends(name, table.steps)
    emitted = {event: spec for spec in table.steps.values() for event in spec.emitted}
    # In the order LlamaIndex Workflows checks, so that a graph with several problems is
    # refused for the same one first.
    for spec in table.steps.values():
        for accepted in spec.accepted:
            if issubclass(accepted, StopEvent):
                raise WorkflowValidationError(
                    f"workflow {name}: step '{spec.name}' accepts {accepted.__name__}, but a "
                    "StopEvent ends the run and is never delivered to a step. Step "
                    f"'{spec.name}' cannot accept StopEvent. StopEvent signals the end of the "
                    "workflow."
                )

    unproduced = {
        accepted: spec
        for spec in table.steps.values()
        if REACHABILITY not in spec.skip_graph_checks
        for accepted in spec.accepted
        if not issubclass(accepted, _ENTERS_FROM_OUTSIDE) and not _is_produced(accepted, emitted)
    }
    if unproduced:
        accepted, spec = next(iter(unproduced.items()))
        raise WorkflowValidationError(
            f"workflow {name}: step '{spec.name}' accepts {accepted.__name__} but no step "
            "emits it and callers only send StartEvent and HumanResponseEvent; "
            f"{_FED_FROM_OUTSIDE_HINT}. The following events are consumed but never "
            f"produced: {_names(unproduced)}"
        )

    unconsumed = {
        event_type: spec
        for event_type, spec in emitted.items()
        if not issubclass(event_type, _LEAVES_THE_WORKFLOW) and not table.route(event_type)
    }
    if unconsumed:
        event_type, spec = next(iter(unconsumed.items()))
        raise WorkflowValidationError(
            f"workflow {name}: step '{spec.name}' emits {event_type.__name__} but no step "
            "accepts it. The following events are produced but never consumed: "
            f"{_names(unconsumed)}"
        )

    for spec in table.steps.values():
        if spec.catch_error is not None and not spec.accepts(StepFailedEvent):
            raise catch_error_without_step_failed_event(name, spec.name)

    unreachable = _unreachable_steps(table)
    if unreachable:
        listing = ", ".join(
            f"'{spec.name}' (accepts {' | '.join(t.__name__ for t in spec.accepted)})"
            for spec in unreachable
        )
        raise WorkflowValidationError(
            f"workflow {name}: steps {listing} can never run: no step that runs from the "
            "start event or from a HumanResponseEvent emits what they accept; "
            f"{_FED_FROM_OUTSIDE_HINT}. Unreachable steps: "
            f"{', '.join(sorted(spec.name for spec in unreachable))}"
        )


def _names(event_types: Iterable[type[Event]]) -> str:
    return ", ".join(event_type.__name__ for event_type in event_types)


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
