"""The workflows `bench/server.py` serves, written once for agentflow and for `workflows`
(PyPI `llama-index-workflows`, what `llama-agents-server` runs): only the imports differ.

The library is chosen by `BENCH_SERVER_LIBRARY` (`agentflow`, else `workflows`) before this
module is imported. The classes are at module level, as agentflow requires of a streamed
event so that another process can decode it (engine bench's `workflow_suite.py` builds its
classes inside functions, which a server cannot stream).
"""

# mypy: disable-error-code="misc, name-defined, untyped-decorator, no-any-return"

import os

if os.environ.get("BENCH_SERVER_LIBRARY") == "agentflow":
    from agentflow import Context, Workflow, step
    from agentflow.events import Event, StartEvent, StopEvent
else:
    from workflows import Context, Workflow, step
    from workflows.events import Event, StartEvent, StopEvent


class Tick(Event):
    """What the ticker writes to its stream."""

    n: int


class Noop(Workflow):
    """One step: the start event in, the stop event out."""

    @step
    async def finish(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="ok")


class Ticker(Workflow):
    """Writes `count` (a field of the start event) `Tick`s to its stream, then stops."""

    @step
    async def emit(self, ctx: Context, ev: StartEvent) -> StopEvent:
        count = int(ev.count)
        for n in range(count):
            ctx.write_event_to_stream(Tick(n=n))
        return StopEvent(result=count)
