"""Step-state events (`StepStateChanged`) on a run's stream, for a stream that asks for them.

Nothing on the hot path looks for them: a run whose stream does not ask calls its steps as
it always does. Asking (`handler.stream_events(expose_internal=True)`, `ctx.stream_events()`)
swaps each step's call for one that writes `RUNNING` before the step and `NOT_RUNNING` after
it, so that only such a run pays for them. Executions already under way when the stream
asks are not reported; a stream asked for as the run starts, as usual, sees every one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentflow.events import Event, StepState, StepStateChanged
from agentflow.runtime.lanes import bind_step

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun


def report_step_states(run: WorkflowRun) -> None:
    """From now on, every step execution of `run` writes its `StepStateChanged` events."""
    for lane in run.lanes.values():
        invoke = lane.invoke if lane.invoke is not None else bind_step(run, lane.spec)
        lane.invoke = _reporting(invoke, lane.spec.name, run.write_to_stream)


def _reporting(
    invoke: Callable[[Event], Awaitable[Any]], step: str, write: Callable[[Event], None]
) -> Callable[[Event], Awaitable[Any]]:
    async def invoke_reporting(event: Event) -> Any:
        task = asyncio.current_task()
        worker = task.get_name() if task is not None else ""
        write(
            StepStateChanged(
                name=step,
                step_state=StepState.RUNNING,
                worker_id=worker,
                input_event_name=type(event).__name__,
            )
        )
        output = None
        try:
            result = await invoke(event)
            output = str(type(result))
            return result
        finally:
            write(
                StepStateChanged(
                    name=step,
                    step_state=StepState.NOT_RUNNING,
                    worker_id=worker,
                    input_event_name=str(type(event)),
                    output_event_name=output,
                )
            )

    return invoke_reporting
