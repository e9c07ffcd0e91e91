"""Step-state events (`StepStateChanged`) on a run's stream, for a stream that asks for them.

Nothing on the hot path looks for them: a run whose stream does not ask calls its steps as
it always does. Asking (`handler.stream_events(expose_internal=True)`, `ctx.stream_events()`)
marks the run (`WorkflowRun.reports_step_states`), and each step's call, where it is bound
(`lanes.bind_step`, traced there when tracing is on), is wrapped in one that writes `RUNNING`
before the step and `NOT_RUNNING` after it, so that only such a run pays for them. Lanes
bound already (a stream asked mid-run) are wrapped at once; executions already under way
then are not reported. A stream asked for as the run starts, as usual, sees every one.

They go on the stream through `WorkflowRun.write_internal`: they are the runtime's events,
not the step's writes, which a durable run's re-run execution must make again in the same
order (`agentflow.durable.stream`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentflow.events import Event, StepState, StepStateChanged

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun


def report_step_states(run: WorkflowRun) -> None:
    """From now on, every step execution of `run` writes its `StepStateChanged` events.
    Called once per run at most: only the stream's one consumer asks."""
    run.reports_step_states = True
    for lane in run.lanes.values():
        if lane.invoke is not None:
            lane.invoke = reporting(lane.invoke, lane.spec.name, run.write_internal)


def reporting(
    invoke: Callable[[Event], Awaitable[Any]], step: str, write: Callable[[Event], None]
) -> Callable[[Event], Awaitable[Any]]:
    """`invoke` (the call into `step`), writing its step states with `write` around it."""

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
