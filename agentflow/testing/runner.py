"""`WorkflowTestRunner`: run a workflow end to end in a test and look at what it streamed.

    result = await WorkflowTestRunner(MyFlow()).run(topic="otters")
    assert result.result == "..."
    assert result.event_types[Progress] == 3
    assert isinstance(result.collected[-1], StopEvent)

The names and the module match `workflows.testing.runner` in LlamaIndex Workflows, so tests
written for it port by renaming the import.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from agentflow.events import Event, StartEvent
from agentflow.handler import ResultT

if TYPE_CHECKING:
    from agentflow.context import Context
    from agentflow.workflow import Workflow

__all__ = ["WorkflowTestResult", "WorkflowTestRunner"]


@dataclass
class WorkflowTestResult(Generic[ResultT]):
    """What one run produced, as `WorkflowTestRunner.run` saw it."""

    collected: list[Event]
    """Every event the run streamed, in order, ending with its StopEvent (minus the types
    passed as `exclude_events`)."""
    event_types: dict[type[Event], int]
    """How many events of each exact type `collected` holds."""
    result: ResultT
    """What awaiting the handler gave: the StopEvent's `result`, or the StopEvent itself
    for a subclass with fields of its own (typed as the workflow's `Workflow[T]`)."""
    ctx: Context[Any]
    """The run's context, to inspect the state the run left behind."""


class WorkflowTestRunner(Generic[ResultT]):
    """Runs a workflow to completion, collecting every event it streams."""

    def __init__(self, workflow: Workflow[ResultT]) -> None:
        """`workflow`: the instance each `run()` call starts."""
        self._workflow = workflow

    async def run(
        self,
        start_event: StartEvent | None = None,
        ctx: Context[Any] | None = None,
        expose_internal: bool = True,
        exclude_events: list[type[Event]] | None = None,
        **kwargs: Any,
    ) -> WorkflowTestResult[ResultT]:
        """Run the workflow from `start_event`, or from a start event built from `kwargs`
        as `Workflow.run(**kwargs)` does, with `ctx` if given, and wait for it to end.

        `expose_internal` (the default, as in LlamaIndex Workflows) collects a
        `StepStateChanged` event as each step execution starts and ends; False leaves them
        unmade. `exclude_events` leaves events of those exact types out of `collected`. A
        run that fails, times out or is cancelled raises its exception here, as awaiting
        its handler does.
        """
        handler = self._workflow.run(ctx=ctx, start_event=start_event, **kwargs)
        excluded = tuple(exclude_events or ())
        collected = [
            event
            async for event in handler.stream_events(expose_internal=expose_internal)
            if type(event) not in excluded
        ]
        result = await handler
        return WorkflowTestResult(
            collected=collected,
            event_types=dict(Counter(type(event) for event in collected)),
            result=result,
            ctx=handler.ctx,
        )
