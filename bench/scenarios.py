"""What each benchmark scenario runs and how it is measured, whatever the engine.

An engine plugs in through a `ScenarioSuite`: it builds the workflow a scenario needs and hands
back a coroutine function that performs one run. The `measure_*` functions here own the clock
and the memory tracer, so agentflow, LlamaIndex Workflows and the bare-asyncio floor are timed
by exactly the same code. Each returns the scenario's metric as a float.
"""

import asyncio
import gc
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, Protocol

CHAIN_LENGTH = 10
"""Steps in the linear chain: StartEvent -> Hop1 -> ... -> Hop9 -> StopEvent."""

PIPELINE_SLEEP_SECONDS = 0.01
"""How long the middle step of the concurrent-runs pipeline sleeps."""

FANOUT_WORKERS = 64
"""`num_workers` of the step that handles each fanned-out event."""

IDLE_RESPONSE = "ok"
"""What every parked run is answered with, and so what each must return."""

FanIn = Literal["list", "list_built_once", "count"]
"""How the fan-out's collector asks for its N `Done` events:

- "list": `ctx.collect_events(ev, [Done] * N)`, the list written in the call, so rebuilt on
  every arriving event — O(N) per call in the step's own code, as users write it;
- "list_built_once": the same call with the list built once per workflow, leaving only the
  engine's cost;
- "count": `ctx.collect_events(ev, Done, count=N)`.
"""

RunOnce = Callable[[], Awaitable[object]]
"""Starts one run of a scenario's workflow; awaiting it gives the run's result."""


class ScenarioError(Exception):
    """A run finished but produced something other than what the scenario requires."""


class ParkedRun(Protocol):
    """One run that stops to ask for human input and resumes when answered."""

    async def wait_for_input_request(self) -> None:
        """Read the run's event stream until it asks for input."""

    def answer(self, response: str) -> None:
        """Send the human's response into the run."""

    async def result(self) -> object:
        """Finish reading the stream and return the run's result."""


class ScenarioSuite(Protocol):
    """The scenario workflows, as one engine builds them."""

    def chain(self, length: int) -> RunOnce:
        """A linear workflow of `length` steps, each passing one event to the next."""

    def sleeping_pipeline(self, sleep_seconds: float) -> RunOnce:
        """Three steps in a line; the middle one sleeps for `sleep_seconds`."""

    def fanout(self, width: int, fan_in: FanIn) -> RunOnce:
        """Scatter `width` events to a pool of workers and collect all the replies the
        `fan_in` way. The run's result is the number collected."""

    def stream(self, ticks: int) -> RunOnce:
        """A step writes `ticks` events to the stream; the run's result is how many the
        caller read from it."""

    def parked_runs(self) -> Callable[[], ParkedRun]:
        """A factory that starts one human-in-the-loop run per call."""


async def measure_chain(suite: ScenarioSuite, runs: int) -> float:
    """Microseconds per step transition over `runs` sequential runs of the chain."""
    run_once = suite.chain(CHAIN_LENGTH)
    await run_once()  # The first run pays one-off costs (validation, lazy imports).
    started = time.perf_counter()
    for _ in range(runs):
        await run_once()
    elapsed = time.perf_counter() - started
    return elapsed / (runs * CHAIN_LENGTH) * 1e6


async def measure_concurrent(suite: ScenarioSuite, runs: int) -> float:
    """Runs per second when `runs` sleeping pipelines are started together."""
    run_once = suite.sleeping_pipeline(PIPELINE_SLEEP_SECONDS)
    await run_once()
    started = time.perf_counter()
    await asyncio.gather(*(run_once() for _ in range(runs)))
    return runs / (time.perf_counter() - started)


async def measure_fanout(suite: ScenarioSuite, width: int, fan_in: FanIn) -> float:
    """Events per second through a scatter/work/collect run of `width` events."""
    await suite.fanout(FANOUT_WORKERS, fan_in)()
    run_once = suite.fanout(width, fan_in)
    started = time.perf_counter()
    collected = await run_once()
    elapsed = time.perf_counter() - started
    if collected != width:
        raise ScenarioError(f"fanout collected {collected!r} events, expected {width}")
    return width / elapsed


async def measure_stream(suite: ScenarioSuite, ticks: int) -> float:
    """Events per second written by a step and read by the caller from the stream."""
    await suite.stream(10)()
    run_once = suite.stream(ticks)
    started = time.perf_counter()
    received = await run_once()
    elapsed = time.perf_counter() - started
    if received != ticks:
        raise ScenarioError(f"stream delivered {received!r} events, expected {ticks}")
    return ticks / elapsed


async def measure_idle(suite: ScenarioSuite, runs: int) -> float:
    """KiB held by each of `runs` runs while all of them wait for human input."""
    start_run = suite.parked_runs()
    warm_up = start_run()
    await warm_up.wait_for_input_request()
    warm_up.answer(IDLE_RESPONSE)
    await warm_up.result()

    gc.collect()
    tracemalloc.start()
    baseline_bytes = tracemalloc.get_traced_memory()[0]
    parked = [start_run() for _ in range(runs)]
    await asyncio.gather(*(run.wait_for_input_request() for run in parked))
    gc.collect()
    kib_per_run = (tracemalloc.get_traced_memory()[0] - baseline_bytes) / runs / 1024
    # Tracing slows every allocation; the answering phase is not measured.
    tracemalloc.stop()

    for run in parked:
        run.answer(IDLE_RESPONSE)
    results = await asyncio.gather(*(run.result() for run in parked))
    wrong = [result for result in results if result != IDLE_RESPONSE]
    if wrong:
        raise ScenarioError(f"{len(wrong)} of {runs} parked runs returned e.g. {wrong[0]!r}")
    return kib_per_run


MEASUREMENTS: dict[str, Callable[[ScenarioSuite, int], Coroutine[Any, Any, float]]] = {
    "chain": measure_chain,
    "concurrent": measure_concurrent,
    "fanout": lambda suite, width: measure_fanout(suite, width, "list"),
    "fanout_list_built_once": lambda suite, width: measure_fanout(suite, width, "list_built_once"),
    "fanout_count": lambda suite, width: measure_fanout(suite, width, "count"),
    "stream": measure_stream,
    "idle": measure_idle,
}
"""Scenario name -> measurement, given the suite and the scenario's size."""
