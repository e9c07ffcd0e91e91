"""A step's share of one run (its lane), and what a worker does once a step returned.

Workers are started on demand and drain their lane's pending events before exiting, so an
idle run holds no worker tasks and a fan-out of n events to a step with k workers starts k
tasks, not n.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentflow.errors import WorkflowRuntimeError, WorkflowStepDoesNotExistError
from agentflow.events import Event
from agentflow.resource.manager import RunResources
from agentflow.runtime.retries import current_attempt
from agentflow.runtime.step_table import StepSpec
from agentflow.tracing import traced_step

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun
    from agentflow.runtime.step_table import StepTable


class StepLane:
    """How many workers run one step of a run, and the events waiting for one."""

    __slots__ = ("active", "executions", "invoke", "pending", "spec")

    def __init__(self, spec: StepSpec) -> None:
        self.spec = spec
        self.invoke: Callable[[Event], Awaitable[Any]] | None = None
        """The call into the step for this run, bound when its first worker starts."""
        self.active = 0
        self.executions = 0
        # Made on first overflow: most lanes of a waiting or short run never queue.
        self.pending: deque[Event] | None = None


class Next(enum.Enum):
    """What a worker does after routing what its step returned, unless it is handed a lane
    (`StepLane`): then it carries on in that lane with the returned event itself."""

    DRAIN = enum.auto()
    """Take the next pending event of its lane, or exit when there is none."""
    EXIT = enum.auto()
    """Exit: the step ended the run, or returned something that is not an event."""


Routed = Next | StepLane
"""What routing a step's result tells its worker: a `Next`, or the lane to carry on in.
A union rather than a class wrapping both, so that a chain's hand-off, the hottest path
of all, allocates nothing."""


def bind_step(run: WorkflowRun, spec: StepSpec) -> Callable[[Event], Awaitable[Any]]:
    """The call into `spec`'s function for `run`, made once per step and run: the step's
    own call (`StepSpec.bind`), traced when tracing is on, and reporting its step states
    when a stream asked for them (`agentflow.runtime.step_states`). Bound when the step
    first runs, once the run's trace context is set, so that both wrap it."""
    if spec.resources and run.resources is None:
        run.resources = RunResources()
    invoke = spec.bind(run.workflow, run.ctx, run.resources)
    if run.tracing is not None and run.trace_context is not None:
        invoke = traced_step(
            invoke,
            run.tracing,
            run.trace_context,
            spec.name,
            run.run_id,
            current_attempt.get,
        )
    if run.reports_step_states:
        # Loaded when a stream first asks for step states, not at `import agentflow`.
        from agentflow.runtime.step_states import reporting

        invoke = reporting(invoke, spec.name, run.write_internal)
    return invoke


def lane_for(run: WorkflowRun, step_name: str, event: Event) -> StepLane:
    """The lane of `run`'s step named `step_name`, which must accept `event`."""
    check_step_takes(run.table, run.workflow_name, step_name, event)
    return run.lanes[step_name]


def check_step_takes(table: StepTable, workflow_name: str, step_name: str, event: Event) -> None:
    """Raise unless the workflow (`workflow_name`, for the message) has a step named
    `step_name` that accepts `event`: what sending to a step checks, in the run or before
    the event is handed to a worker that runs it (`agentflow.runners.dbos`)."""
    spec = table.steps.get(step_name)
    if spec is None:
        raise WorkflowStepDoesNotExistError(
            f"workflow {workflow_name} has no step '{step_name}' "
            f"(steps: {', '.join(table.steps)}). Step {step_name} does not exist"
        )
    if not spec.accepts(type(event)):
        accepted = ", ".join(t.__name__ for t in spec.accepted)
        raise WorkflowRuntimeError(
            f"step '{step_name}' does not accept {type(event).__name__} (it accepts "
            f"{accepted}). Step {step_name} does not accept event of type {type(event)}"
        )
