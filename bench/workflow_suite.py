"""The scenario workflows, written once for any package with the LlamaIndex Workflows API.

agentflow and `workflows` (PyPI `llama-index-workflows`) export the same names, so each
scenario is a function of a `WorkflowAPI` — the names loaded from one package — rather than
two copies that could drift apart.

This module must not use `from __future__ import annotations`: the `@step` decorators read
each step's accepted and returned event types from its annotations, and the event classes
here are local to the builder functions, where string annotations could not be resolved.
For the same reason a type checker cannot follow these classes: their bases and annotations
are chosen at run time, hence the error codes switched off below.
"""

# mypy: disable-error-code="misc, name-defined, untyped-decorator, no-any-return"

import asyncio
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scenarios import FANOUT_WORKERS, FanIn, ParkedRun, RunOnce, ScenarioError


@dataclass(frozen=True)
class WorkflowAPI:
    """The public names the scenarios use, loaded from one workflow package.

    Typed `Any` because the two packages share a shape but no types.
    """

    Workflow: Any
    """Base class of every scenario workflow."""
    step: Any
    """Decorator that turns a method into a step."""
    Context: Any
    """Run context: `send_event`, `collect_events`, `write_event_to_stream`."""
    Event: Any
    """Base class of the scenario's own events."""
    StartEvent: Any
    """Event a run starts with."""
    StopEvent: Any
    """Event that ends a run and carries its result."""
    InputRequiredEvent: Any
    """Event a step returns to ask the caller for input."""
    HumanResponseEvent: Any
    """Event the caller sends back with the answer."""


def load_workflow_api(package: str) -> WorkflowAPI:
    """Import the scenario's names from `package` (`agentflow` or `workflows`)."""
    core = importlib.import_module(package)
    events = importlib.import_module(f"{package}.events")
    return WorkflowAPI(
        Workflow=core.Workflow,
        step=core.step,
        Context=core.Context,
        Event=events.Event,
        StartEvent=events.StartEvent,
        StopEvent=events.StopEvent,
        InputRequiredEvent=events.InputRequiredEvent,
        HumanResponseEvent=events.HumanResponseEvent,
    )


def _chain_workflow(api: WorkflowAPI, length: int) -> Any:
    """A workflow of `length` steps, step k turning event k into event k+1."""
    hops = [
        api.StartEvent,
        *(type(f"Hop{k}", (api.Event,), {"__module__": __name__}) for k in range(1, length)),
        api.StopEvent,
    ]

    def hop_step(position: int) -> Any:
        produced = hops[position + 1]

        async def hop(self: Any, ev: Any) -> Any:
            return produced()

        # The qualified name of a method: `@step` treats a bare name as a free function.
        hop.__name__ = f"hop_{position}"
        hop.__qualname__ = f"ChainWorkflow.hop_{position}"
        hop.__annotations__ = {"ev": hops[position], "return": produced}
        return api.step(hop)

    steps = {f"hop_{position}": hop_step(position) for position in range(length)}
    return type("ChainWorkflow", (api.Workflow,), {"__module__": __name__, **steps})


def _sleeping_pipeline_workflow(api: WorkflowAPI, sleep_seconds: float) -> Any:
    class Fetch(api.Event):
        pass

    class Fetched(api.Event):
        pass

    class SleepingPipeline(api.Workflow):
        @api.step
        async def begin(self, ev: api.StartEvent) -> Fetch:
            return Fetch()

        @api.step
        async def fetch(self, ev: Fetch) -> Fetched:
            await asyncio.sleep(sleep_seconds)
            return Fetched()

        @api.step
        async def finish(self, ev: Fetched) -> api.StopEvent:
            return api.StopEvent(result="done")

    return SleepingPipeline


def _fanout_workflow(api: WorkflowAPI, width: int, fan_in: FanIn) -> Any:
    class Work(api.Event):
        i: int

    class Done(api.Event):
        i: int

    expected_once = [Done] * width

    class Fanout(api.Workflow):
        @api.step
        async def scatter(self, ctx: api.Context, ev: api.StartEvent) -> Work | None:
            for i in range(width):
                ctx.send_event(Work(i=i))
            return None

        @api.step(num_workers=FANOUT_WORKERS)
        async def work(self, ev: Work) -> Done:
            return Done(i=ev.i)

        @api.step
        async def gather(self, ctx: api.Context, ev: Done) -> api.StopEvent | None:
            if fan_in == "count":
                collected = ctx.collect_events(ev, Done, count=width)
            elif fan_in == "list_built_once":
                collected = ctx.collect_events(ev, expected_once)
            else:
                collected = ctx.collect_events(ev, [Done] * width)
            if collected is None:
                return None
            return api.StopEvent(result=len(collected))

    return Fanout


def _stream_workflow(api: WorkflowAPI, ticks: int) -> tuple[Any, type]:
    """The workflow, and the event type it writes to the stream."""

    class Tick(api.Event):
        i: int

    class Streamer(api.Workflow):
        @api.step
        async def emit(self, ctx: api.Context, ev: api.StartEvent) -> api.StopEvent:
            for i in range(ticks):
                ctx.write_event_to_stream(Tick(i=i))
            return api.StopEvent(result=ticks)

    return Streamer, Tick


def _ask_workflow(api: WorkflowAPI) -> Any:
    class AskForInput(api.Workflow):
        @api.step
        async def ask(self, ev: api.StartEvent) -> api.InputRequiredEvent:
            return api.InputRequiredEvent(prefix="?")

        @api.step
        async def reply(self, ev: api.HumanResponseEvent) -> api.StopEvent:
            return api.StopEvent(result=ev.response)

    return AskForInput


class _ParkedHandler:
    """A run of the ask-for-input workflow, read through its handler's event stream."""

    def __init__(self, api: WorkflowAPI, workflow: Any) -> None:
        self._api = api
        self._handler = workflow.run()
        # One stream iterator for the run's whole life, as a UI loop would hold it.
        self._events = self._handler.stream_events()

    async def wait_for_input_request(self) -> None:
        async for ev in self._events:
            if isinstance(ev, self._api.InputRequiredEvent):
                return
        raise ScenarioError("the event stream ended before the run asked for input")

    def answer(self, response: str) -> None:
        self._handler.ctx.send_event(self._api.HumanResponseEvent(response=response))

    async def result(self) -> object:
        async for _ in self._events:
            pass
        return await self._handler


class WorkflowSuite:
    """The `ScenarioSuite` of a package with the LlamaIndex Workflows API."""

    def __init__(self, api: WorkflowAPI) -> None:
        self._api = api

    def chain(self, length: int) -> RunOnce:
        return _chain_workflow(self._api, length)(timeout=None).run

    def sleeping_pipeline(self, sleep_seconds: float) -> RunOnce:
        workflow = _sleeping_pipeline_workflow(self._api, sleep_seconds)(timeout=None)
        return workflow.run

    def fanout(self, width: int, fan_in: FanIn) -> RunOnce:
        return _fanout_workflow(self._api, width, fan_in)(timeout=None).run

    def stream(self, ticks: int) -> RunOnce:
        workflow_class, tick_type = _stream_workflow(self._api, ticks)
        workflow = workflow_class(timeout=None)

        async def run_and_read_stream() -> int:
            handler = workflow.run()
            received = 0
            async for ev in handler.stream_events():
                if isinstance(ev, tick_type):
                    received += 1
            await handler
            return received

        return run_and_read_stream

    def parked_runs(self) -> Callable[[], ParkedRun]:
        workflow = _ask_workflow(self._api)(timeout=None)
        return lambda: _ParkedHandler(self._api, workflow)
