"""`Workflow.validate()`: every check a run makes before it starts, on demand.

The step table's own checks (signatures, `@catch_error` scopes) run when it is built, the
graph checks in `runtime/validation.py`, the resource checks in `resource/checks.py`; this
runs them all again, whatever an earlier run or call found.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from agentflow.events import HumanResponseEvent, InputRequiredEvent
from agentflow.resource.checks import check_resource_configs, make_resources
from agentflow.resource.manager import ResourceManager
from agentflow.runtime.step_table import StepTable, step_table_of
from agentflow.runtime.validation import validate_step_graph

if TYPE_CHECKING:
    from agentflow.workflow import Workflow


def validate_workflow(
    workflow: Workflow, *, validate_resource_configs: bool, validate_resources: bool
) -> bool:
    """Check `workflow`'s step graph, `@catch_error` scopes and, as asked, its resource
    configs and resources (made in a throwaway `ResourceManager`, so that the runs make
    their own in their own event loop); raise `WorkflowValidationError` (or its subclass
    `WorkflowConfigurationError`) on the first kind of problem found. Returns whether the
    workflow asks a human (a step emits an InputRequiredEvent or takes a
    HumanResponseEvent), as LlamaIndex Workflows does."""
    table = step_table_of(type(workflow))
    validate_step_graph(table)
    if validate_resource_configs:
        check_resource_configs(table)
    if validate_resources:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # A manager of its own: values made in this short-lived loop (a client, a pool,
            # the loop itself) would be unusable in the runs' loops, so runs make theirs.
            asyncio.run(make_resources(table, ResourceManager()))
        else:
            raise RuntimeError(
                "validate(validate_resources=True) makes the resources in an event loop of "
                "its own (asyncio.run), which cannot start inside a running one; call it "
                "outside async code, in a thread (asyncio.to_thread), or leave "
                "validate_resources=False"
            )
    return asks_a_human(table)


def asks_a_human(table: StepTable) -> bool:
    """True when a step emits an InputRequiredEvent or accepts a HumanResponseEvent."""
    return any(
        issubclass(emitted, InputRequiredEvent)
        for spec in table.steps.values()
        for emitted in spec.emitted
    ) or any(
        issubclass(accepted, HumanResponseEvent)
        for spec in table.steps.values()
        for accepted in spec.accepted
    )
