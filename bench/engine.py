"""Benchmark agentflow against LlamaIndex Workflows and a bare-asyncio floor.

    python bench/engine.py           # full run, a few minutes on 2 cores
    python bench/engine.py --quick   # small sizes, one repetition: a smoke test

Every (scenario, engine) measurement runs in a fresh interpreter
(`python bench/engine.py --child SCENARIO:SIZE ENGINE`, which prints one JSON line), so no
engine inherits another's imports, caches or heap. Repetitions are interleaved across engines
so that drift on a busy machine hits all of them alike, and each cell is the median. Import
cost is timed by fresh `python -c` interpreters that do nothing but the import, twice: the
bare `import X`, and the names a workflow module needs (which differ if `X` loads lazily).

The scenarios live in `scenarios.py`; the workflows in `workflow_suite.py` (shared by agentflow
and LlamaIndex Workflows) and `floor_suite.py`; the table in `results_table.py`; running the
children and taking their medians in `child_runs.py` (shared with `bench/agents.py`).
"""

import argparse
import asyncio
import contextlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from child_runs import (
    MeasurementFailed,
    crash_summary,
    medians,
    reported_value,
    run_interpreter,
)
from results_table import Bound, Cell, RowResult, format_number, format_table

AGENTFLOW = "agentflow"
PEER = "llama-index-workflows"
FLOOR = "floor"
ENGINES = (AGENTFLOW, PEER, FLOOR)

WORKFLOW_PACKAGES = {AGENTFLOW: "agentflow", PEER: "workflows"}
"""Engine -> the package it is imported as."""

BARE_IMPORTS = {
    AGENTFLOW: "import agentflow",
    PEER: "import workflows",
    FLOOR: "from pydantic import BaseModel",
}
"""The package import alone; the floor's is pydantic, the baseline of the import rows."""

API_IMPORTS = {
    AGENTFLOW: "from agentflow import Workflow, step, Context; "
    "from agentflow.events import Event, StartEvent, StopEvent",
    PEER: "from workflows import Workflow, step, Context; "
    "from workflows.events import Event, StartEvent, StopEvent",
    FLOOR: "from pydantic import BaseModel",
}
"""The names a workflow module needs; differs from `BARE_IMPORTS` if a package loads lazily."""

IMPORT_PROBE = (
    "import time; started = time.perf_counter(); {statement}; "
    "print((time.perf_counter() - started) * 1000)"
)


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is, and how often each measurement is repeated."""

    chain_runs: int
    """Sequential runs of the 10-step chain."""
    concurrent_runs: int
    """Runs of the sleeping pipeline started at once."""
    side_by_side_fanout: int
    """Fan-out width run on all three engines (the peer's fan-in is quadratic)."""
    large_fanout: int
    """Fan-out width for agentflow and the floor only, collected by a list of types."""
    counted_fanout: int
    """Fan-out width for agentflow and the floor only, collected by count."""
    stream_ticks: int
    """Events written to the stream in one run."""
    parked_runs: int
    """Runs held waiting for human input at the same time."""
    repetitions: int
    """Fresh interpreters per scenario and engine."""
    import_repetitions: int
    """Fresh interpreters per import measurement."""
    child_timeout_seconds: float
    """A child that takes longer is killed and its cell reports the timeout."""


FULL = Sizes(
    chain_runs=200,
    concurrent_runs=2000,
    side_by_side_fanout=2_000,
    large_fanout=10_000,
    counted_fanout=100_000,
    stream_ticks=50_000,
    parked_runs=5_000,
    repetitions=5,
    import_repetitions=7,
    child_timeout_seconds=120,
)
QUICK = Sizes(
    chain_runs=20,
    concurrent_runs=200,
    side_by_side_fanout=300,
    large_fanout=2_000,
    counted_fanout=5_000,
    stream_ticks=5_000,
    parked_runs=300,
    repetitions=1,
    import_repetitions=3,
    child_timeout_seconds=20,
)


@dataclass(frozen=True)
class Benchmark:
    """A table row to measure: a child scenario, the engines that run it, its targets."""

    label: str
    """The scenario column."""
    unit: str
    """The metric/unit column."""
    scenario: str
    """`NAME:SIZE` handed to the child, NAME a key of `scenarios.MEASUREMENTS`."""
    engines: tuple[str, ...] = ENGINES
    """Engines that run it; the others' cells say `skipped_note`."""
    bounds: tuple[Bound, ...] = ()
    """agentflow's targets."""
    skipped_note: str = "not run"
    """Cell text for engines left out of `engines`."""


def benchmarks(sizes: Sizes) -> list[Benchmark]:
    """The scenario rows of the table, at `sizes`."""
    quadratic = "not run: O(N²) fan-in"
    return [
        Benchmark(
            "chain 10 steps",
            "µs/step",
            f"chain:{sizes.chain_runs}",
            bounds=(Bound("<=", 0.1, "peer"), Bound("<=", 5, "floor")),
        ),
        Benchmark(
            f"concurrent {sizes.concurrent_runs:,} runs",
            "runs/s",
            f"concurrent:{sizes.concurrent_runs}",
            bounds=(Bound(">=", 5, "peer"),),
        ),
        Benchmark(
            f"fanout N={sizes.side_by_side_fanout:,}",
            "events/s",
            f"fanout:{sizes.side_by_side_fanout}",
        ),
        Benchmark(
            f"fanout N={sizes.large_fanout:,}",
            "events/s",
            f"fanout:{sizes.large_fanout}",
            engines=(AGENTFLOW, FLOOR),
            bounds=(Bound(">=", 100_000),),
            skipped_note=quadratic,
        ),
        Benchmark(
            f"fanout N={sizes.large_fanout:,} (list built once)",
            "events/s",
            f"fanout_list_built_once:{sizes.large_fanout}",
            engines=(AGENTFLOW, FLOOR),
            skipped_note=quadratic,
        ),
        Benchmark(
            f"fanout N={sizes.counted_fanout:,} (count=N)",
            "events/s",
            f"fanout_count:{sizes.counted_fanout}",
            engines=(AGENTFLOW, FLOOR),
            bounds=(Bound(">=", 100_000),),
            skipped_note="not run: no count= form",
        ),
        Benchmark(
            f"stream {sizes.stream_ticks:,} events",
            "events/s",
            f"stream:{sizes.stream_ticks}",
            bounds=(Bound(">=", 5, "peer"),),
        ),
        Benchmark(
            f"idle {sizes.parked_runs:,} waiting runs",
            "KiB/run",
            f"idle:{sizes.parked_runs}",
            bounds=(Bound("<=", 0.25, "peer"),),
        ),
    ]


def _run_child(scenario: str, engine: str, timeout_seconds: float) -> float:
    completed = run_interpreter(
        [str(Path(__file__).resolve()), "--child", scenario, engine], timeout_seconds
    )
    return reported_value(completed)


def _time_import(statement: str, timeout_seconds: float) -> float:
    probe = IMPORT_PROBE.format(statement=statement)
    completed = run_interpreter(["-c", probe], timeout_seconds)
    if completed.returncode != 0:
        raise MeasurementFailed(crash_summary(completed))
    return float(completed.stdout.strip().splitlines()[-1])


def _engine_cells(
    measured: dict[str, Cell], available: dict[str, bool], skipped_note: str
) -> dict[str, Cell]:
    """A cell for every engine: measured, "n/a" if not installed, else `skipped_note`."""
    cells = {}
    for engine in ENGINES:
        if engine in measured:
            cells[engine] = measured[engine]
        else:
            cells[engine] = Cell(note=skipped_note if available[engine] else "n/a")
    return cells


def measure_benchmark(benchmark: Benchmark, sizes: Sizes, available: dict[str, bool]) -> RowResult:
    """Run one scenario row in fresh child interpreters on every engine it names."""
    runnable = tuple(engine for engine in benchmark.engines if available[engine])
    measured = medians(
        benchmark.label,
        runnable,
        sizes.repetitions,
        lambda engine: _run_child(benchmark.scenario, engine, sizes.child_timeout_seconds),
    )
    cells = _engine_cells(measured, available, benchmark.skipped_note)
    return RowResult(
        benchmark.label,
        benchmark.unit,
        cells[AGENTFLOW],
        cells[PEER],
        cells[FLOOR],
        benchmark.bounds,
    )


def measure_import(
    label: str, statements: dict[str, str], sizes: Sizes, available: dict[str, bool]
) -> RowResult:
    """Milliseconds each engine's `statements` take beyond pydantic's own import.

    The floor imports nothing but pydantic, so its median is the baseline the other two
    are reduced by; its cell shows that baseline.
    """
    runnable = tuple(engine for engine in ENGINES if available[engine])
    for engine in runnable:
        # Fills the bytecode cache, so that no timed import pays for compiling. A failure
        # shows up again, and is reported, when the import is timed.
        with contextlib.suppress(MeasurementFailed):
            _time_import(statements[engine], sizes.child_timeout_seconds)
    totals = _engine_cells(
        medians(
            label,
            runnable,
            sizes.import_repetitions,
            lambda engine: _time_import(statements[engine], sizes.child_timeout_seconds),
        ),
        available,
        skipped_note="not run",
    )
    baseline_ms = totals[FLOOR].value
    if baseline_ms is None:
        return RowResult(label, "ms over pydantic", totals[AGENTFLOW], totals[PEER], totals[FLOOR])

    def over_baseline(cell: Cell) -> Cell:
        return cell if cell.value is None else Cell(cell.value - baseline_ms)

    return RowResult(
        label,
        "ms over pydantic",
        over_baseline(totals[AGENTFLOW]),
        over_baseline(totals[PEER]),
        Cell(note=f"pydantic: {format_number(baseline_ms)}"),
        (Bound("<=", 20),),
    )


def _engine_available(engine: str) -> bool:
    package = WORKFLOW_PACKAGES.get(engine)
    return package is None or importlib.util.find_spec(package) is not None


def run_child(scenario: str, engine: str) -> int:
    """Measure one scenario on one engine in this interpreter; print a JSON line."""
    # Imported here so that the parent, which never runs a scenario, stays light.
    from floor_suite import FloorSuite
    from scenarios import MEASUREMENTS, ScenarioSuite
    from workflow_suite import WorkflowSuite, load_workflow_api

    name, size = scenario.split(":")
    try:
        suite: ScenarioSuite = (
            FloorSuite()
            if engine == FLOOR
            else WorkflowSuite(load_workflow_api(WORKFLOW_PACKAGES[engine]))
        )
        value = asyncio.run(MEASUREMENTS[name](suite, int(size)))
    # Whatever an engine raises becomes the text of its cell; the other cells carry on.
    except Exception as error:
        message = " ".join(f"{type(error).__name__}: {error}".split())
        print(json.dumps({"error": message}))
        return 1
    print(json.dumps({"value": value}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument(
        "--child",
        nargs=2,
        metavar=("SCENARIO:SIZE", "ENGINE"),
        help="internal: measure one scenario on one engine and print a JSON line",
    )
    args = parser.parse_args()
    if args.child:
        return run_child(*args.child)

    sizes = QUICK if args.quick else FULL
    available = {engine: _engine_available(engine) for engine in ENGINES}
    rows = [measure_benchmark(benchmark, sizes, available) for benchmark in benchmarks(sizes)]
    rows.append(measure_import("import <package>", BARE_IMPORTS, sizes, available))
    rows.append(
        measure_import("import Workflow, step, Context, events", API_IMPORTS, sizes, available)
    )
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
