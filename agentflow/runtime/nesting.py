"""Runs started from a step: the parent they belong to, the time they get, the events they
forward.

A run started from inside a step is that step's run's child: it ends when its parent ends,
gets at most a share of the time its parent (and the step's own timeout) has left, and with
`forward_events=True` also writes its streamed events to the parent's stream. An answer
sent to the parent for a question a forwarding child asked goes down to that child.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from agentflow.errors import WorkflowRuntimeError
from agentflow.events import Event
from agentflow.runtime.execution import current_execution
from agentflow.runtime.step_calls import step_deadline

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun

CHILD_SHARE_OF_TIME_LEFT = 0.95
"""A child's timeout is this share of what its parent has left, so that the child's
timeout reaches the parent's step while that step can still react to it."""


def parent_of_caller(workflow_name: str, forward_events: bool) -> WorkflowRun | None:
    """The run whose step is starting a run of `workflow_name` now, or None from outside
    any run. Refuses a start from a step of a run that has ended, and `forward_events`
    outside a step."""
    execution = current_execution.get()
    parent = None
    if execution is not None:
        parent = execution.link.run
        if parent is None or not parent.is_running:
            raise WorkflowRuntimeError(
                f"cannot start {workflow_name} from step '{execution.step}' of a "
                f"{execution.link.workflow_name} run which has ended; a child run never "
                "outlives its parent"
            )
    if forward_events and parent is None:
        raise WorkflowRuntimeError(
            "forward_events=True streams a child workflow's events to its parent's "
            "stream, so run() must be called from inside a step"
        )
    return parent


def child_timeout(
    own: float | None, parent: WorkflowRun, loop: asyncio.AbstractEventLoop
) -> tuple[float | None, bool]:
    """A child's timeout: its own, or less when its parent (or the step that starts it)
    must end sooner; True with it when it is the parent's share."""
    deadlines = [d for d in (parent.deadline, step_deadline.get()) if d is not None]
    if not deadlines:
        return own, False
    remaining = max(min(deadlines) - loop.time(), 0.0) * CHILD_SHARE_OF_TIME_LEFT
    if own is None or remaining < own:
        return remaining, True
    return own, False


def offer_to_children(children: set[WorkflowRun], event: Event) -> bool:
    """Send `event` down to the forwarding child that takes it, if there is one: an answer
    to a question the child put on the parent's stream."""
    for child in children:
        if child.forwards_events and _takes(child, event):
            child.route(event)
            return True
    return False


def _takes(run: WorkflowRun, event: Event) -> bool:
    """True when a waiter or a step of `run` would take `event`."""
    if not run.is_running:
        return False
    if run.waiters is not None and run.waiters.would_take(event):
        return True
    return bool(run.table.route(type(event)))


def forwarding_writer(run: WorkflowRun) -> Callable[[Event], None]:
    """`write_to_stream` for a child `run` that forwards its events to its parent."""
    write, parent, name = run.stream.write, run.parent, run.workflow_name
    assert parent is not None, "only a child run forwards its events"

    def write_and_forward(event: Event) -> None:
        write(event)
        if run.is_running:
            parent.write_to_stream(tagged(event, name))

    return write_and_forward


def tagged(event: Event, workflow_name: str) -> Event:
    """A copy of a child's event for the parent's stream, naming the workflow it came from
    (the innermost one, when forwarded through several levels)."""
    if "source_workflow" in event or event.model_config.get("extra") != "allow":
        return event
    return event.model_copy(update={"source_workflow": workflow_name})
