"""The agent turn every framework runs in `bench/agents.py`, and how it is measured.

One turn: the user asks `QUESTION`; the scripted model replies with two tool calls at once
(`add(2, 3)` and `multiply(2, 3)`); the framework runs both tools and sends their results
back; the model answers with a sentence built from those results (`answer_from`), so a
framework that lost or swapped a result gives a wrong answer, and the measurement fails.
The model is in-process and answers at once: what is measured is the framework alone.

The tools are coroutine functions: frameworks run a plain function's call in a worker
thread (PydanticAI, LangGraph) or not, and the thread hop would be measured, not the
framework. A framework plugs in through an `AgentSuite` (one module per framework, `turn_*.py`): it
runs one turn, or starts one that stops before `multiply` runs, to wait for a human's
approval (`park`), or does the same and keeps only the data that would resume it in another
process (`park_saved`). The `measure_*` functions here own the clock and the memory tracer, so
that every framework is timed by the same code. This module imports no framework: the
OpenAI Agents SDK's interpreter runs it too.
"""

import asyncio
import gc
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

QUESTION = "What are 2 + 3 and 2 * 3?"
"""The user's message that starts every turn."""

ADD_CALL_ID = "call_add"
"""The id the model gives its `add(a=2, b=3)` call."""
MULTIPLY_CALL_ID = "call_multiply"
"""The id the model gives its `multiply(a=2, b=3)` call, the one that needs approval."""
CALL_ARGUMENTS = {"a": 2, "b": 3}
"""Both calls' arguments."""
CALL_ARGUMENTS_JSON = '{"a": 2, "b": 3}'
"""The same, as the JSON text a model writes."""

EXPECTED_ANSWER = "2 + 3 = 5 and 2 * 3 = 6."
"""What every turn must end with."""

WARM_UP_TURNS = 5
"""Turns run before the clock starts: the first pays for lazy imports and caches."""


class TurnError(Exception):
    """A turn finished with something other than `EXPECTED_ANSWER`."""


def answer_from(results: Mapping[str, str]) -> str:
    """The model's final answer, from the tool results it was sent (call id -> text)."""
    return f"2 + 3 = {results.get(ADD_CALL_ID)} and 2 * 3 = {results.get(MULTIPLY_CALL_ID)}."


async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class ParkedAgent(Protocol):
    """A turn stopped before `multiply` runs, waiting for a human's approval."""

    async def approve(self) -> str:
        """Approve the call, finish the turn, and return its final answer."""


class AgentSuite(Protocol):
    """One framework's agent, with the scripted model and the two tools."""

    async def run_turn(self) -> str:
        """Run one whole turn; its final answer."""

    async def park(self) -> ParkedAgent:
        """Start a turn whose `multiply` call needs approval; return once it waits for it,
        holding what the framework keeps in the process to go on, its own way (a live run,
        or the objects it returns)."""

    async def park_saved(self) -> ParkedAgent:
        """As `park`, holding only the text (JSON, or a saver's bytes) that a store would keep
        to resume the turn in another process (the live run, if any, stopped): what goes to
        disk or the network, not an intermediate of Python objects, whose size depends on
        how a framework lays out its data before it writes it."""


def _check(answers: list[str]) -> None:
    wrong = [answer for answer in answers if answer != EXPECTED_ANSWER]
    if wrong:
        raise TurnError(
            f"{len(wrong)} of {len(answers)} turns answered e.g. {wrong[0]!r}, "
            f"not {EXPECTED_ANSWER!r}"
        )


async def measure_turn(
    suite: AgentSuite, turns: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Microseconds per turn over `turns` turns run one after another, by `clock`."""
    _check([await suite.run_turn() for _ in range(WARM_UP_TURNS)])
    answers = []
    started = clock()
    for _ in range(turns):
        answers.append(await suite.run_turn())
    elapsed = clock() - started
    _check(answers)
    return elapsed / turns * 1e6


async def measure_turn_cpu(suite: AgentSuite, turns: int) -> float:
    """As `measure_turn`, in CPU time of this process (all its threads): on a machine other
    work shares, what a turn costs whatever the wall clock (the model never waits, so a
    turn is all CPU)."""
    return await measure_turn(suite, turns, time.process_time)


async def measure_concurrent(suite: AgentSuite, turns: int) -> float:
    """Turns per second when `turns` turns are started at once."""
    _check([await suite.run_turn() for _ in range(WARM_UP_TURNS)])
    started = time.perf_counter()
    answers = await asyncio.gather(*(suite.run_turn() for _ in range(turns)))
    elapsed = time.perf_counter() - started
    _check(list(answers))
    return turns / elapsed


async def _measure_parking(park: Callable[[], Awaitable[ParkedAgent]], agents: int) -> float:
    """KiB of Python heap (tracemalloc) each of `agents` turns parked by `park` holds while
    all of them wait for an approval; then all are approved and must give the expected
    answer."""
    _check([await (await park()).approve() for _ in range(WARM_UP_TURNS)])
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    parked = await asyncio.gather(*(park() for _ in range(agents)))
    gc.collect()
    kib_per_agent = (tracemalloc.get_traced_memory()[0] - baseline) / agents / 1024
    # Tracing slows every allocation; finishing the turns is not measured.
    tracemalloc.stop()
    _check(list(await asyncio.gather(*(agent.approve() for agent in parked))))
    return kib_per_agent


async def measure_parked(suite: AgentSuite, agents: int) -> float:
    """KiB per agent waiting for an approval the framework's own way (`AgentSuite.park`)."""
    return await _measure_parking(suite.park, agents)


async def measure_saved(suite: AgentSuite, agents: int) -> float:
    """KiB per agent waiting for an approval as data saved to resume in another process
    (`AgentSuite.park_saved`)."""
    return await _measure_parking(suite.park_saved, agents)


MEASUREMENTS: dict[str, Callable[[AgentSuite, int], Coroutine[Any, Any, float]]] = {
    "turn": measure_turn,
    "turn_cpu": measure_turn_cpu,
    "concurrent": measure_concurrent,
    "parked": measure_parked,
    "saved": measure_saved,
}
"""Measurement name -> how it is measured, given the suite and its size."""
