"""Benchmark durable runs: agentflow's SqliteStore and PostgresStore against LangGraph's
AsyncSqliteSaver and AsyncPostgresSaver, on the same scenarios.

    python bench/durable.py           # full run, about 5 minutes on 2 cores
    python bench/durable.py --quick   # small sizes: a smoke test, numbers only indicative

Scenarios (workflows in `durable_flows.py`): a chain of N steps (µs per step), a fan-out of
N items gathered by one step (seconds per run), and the bytes a database holds after one
chain of 1,000 steps. Both systems run in both their "sync" durability (a step's outputs are
routed only once its record is committed: agentflow's default) and their "async" one (the
record is written while the next step runs: LangGraph's default). Targets are checked like
for like (sync against sync, async against async) and default against default (agentflow
sync against LangGraph async).

Every measurement runs in a fresh interpreter on a fresh database of its own
(`python bench/durable.py --child SCENARIO:SIZE SYSTEM STORE DATABASE` prints one JSON
line), repetitions interleaved across systems, each cell the median. Both SQLite sides use
WAL and synchronous=FULL (agentflow sets it, and it is SQLite's default, which LangGraph
keeps); the PostgreSQL server is the test suite's throwaway one (`durable_stores.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from durable_stores import POSTGRES, SQLITE, PostgresDatabases
from results_table import TIMES, format_number

AGENTFLOW = "agentflow"
AGENTFLOW_ASYNC = "agentflow-async"
LANGGRAPH_SYNC = "langgraph-sync"
LANGGRAPH_DEFAULT = "langgraph-async"
SYSTEMS = (AGENTFLOW, AGENTFLOW_ASYNC, LANGGRAPH_SYNC, LANGGRAPH_DEFAULT)
COMPARED = (
    ("sync/sync", AGENTFLOW, LANGGRAPH_SYNC),
    ("async/async", AGENTFLOW_ASYNC, LANGGRAPH_DEFAULT),
    ("default/default", AGENTFLOW, LANGGRAPH_DEFAULT),
)
"""The ratios the table shows: agentflow's cell over LangGraph's."""
AGENTFLOW_SYSTEMS = (AGENTFLOW, AGENTFLOW_ASYNC)
STORES = (SQLITE, POSTGRES)
WARM_UP_STEPS = 20
"""The first run in a process pays for lazy imports and prepared statements: not timed."""


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is, and how many fresh children measure each cell."""

    chain_steps: int
    chain_repetitions: int
    fanout_width: int
    fanout_repetitions: int
    """One by default: LangGraph's fan-out of 10,000 takes 15-60 s a run here."""
    storage_steps: int
    child_timeout_seconds: float
    """A child that takes longer is killed and its cell reports the timeout."""


FULL = Sizes(1_000, 5, 10_000, 1, 1_000, 300)
QUICK = Sizes(100, 1, 500, 1, 1_000, 60)


@dataclass(frozen=True)
class Row:
    label: str
    unit: str
    scenario: str
    repetitions: int
    bound: float
    """agentflow's number must be at most this times LangGraph's."""


def rows(sizes: Sizes) -> list[Row]:
    return [
        Row(
            f"chain {sizes.chain_steps:,} steps",
            "µs/step",
            f"chain:{sizes.chain_steps}",
            sizes.chain_repetitions,
            0.5,
        ),
        Row(
            f"fan-out {sizes.fanout_width:,}",
            "s/run",
            f"fanout:{sizes.fanout_width}",
            sizes.fanout_repetitions,
            0.5,
        ),
        Row(
            f"bytes after {sizes.storage_steps:,} steps",
            "KiB",
            f"storage:{sizes.storage_steps}",
            1,
            0.1,
        ),
    ]


# The child: one measurement, in a fresh interpreter.


async def _measure(scenario: str, system: str, kind: str, database: str) -> dict[str, Any]:
    import durable_flows as flows
    from durable_stores import agentflow_store, bytes_stored, langgraph_saver

    name, size_text = scenario.split(":")
    size = int(size_text)
    durability = "sync" if system in (AGENTFLOW, LANGGRAPH_SYNC) else "async"

    def build(backend: Any, what: str, n: int) -> flows.RunOnce:
        if system in AGENTFLOW_SYSTEMS:
            if what == "chain":
                return flows.agentflow_chain(backend, n, durability)
            return flows.agentflow_fanout(backend, n, durability)
        if what == "chain":
            return flows.langgraph_chain(backend, n, durability)
        return flows.langgraph_fanout(backend, n, durability)

    opened = agentflow_store if system in AGENTFLOW_SYSTEMS else langgraph_saver
    what = "fanout" if name == "fanout" else "chain"
    expected = flows.fanout_result(size) if what == "fanout" else flows.chain_result(size)
    async with opened(kind, database) as backend:
        if name != "storage":  # storage: the database holds nothing but the measured run
            await build(backend, what, WARM_UP_STEPS)("warm-up")
        run_once = build(backend, what, size)
        started = time.perf_counter()
        result = await run_once("measured")
        elapsed = time.perf_counter() - started
    if result != expected:
        raise RuntimeError(f"{scenario} on {system}/{kind} returned {result!r}, not {expected}")
    if name == "chain":
        return {"value": elapsed / size * 1e6}
    if name == "fanout":
        return {"value": elapsed}
    as_left, vacuumed = bytes_stored(kind, database)
    return {"value": vacuumed / 1024, "as_left": as_left / 1024}


def run_child(scenario: str, system: str, kind: str, database: str) -> int:
    try:
        report = asyncio.run(_measure(scenario, system, kind, database))
    # Whatever a system raises becomes its cell's text; the other cells carry on.
    except Exception as error:
        print(json.dumps({"error": " ".join(f"{type(error).__name__}: {error}".split())}))
        return 1
    print(json.dumps(report))
    return 0


# The parent: fresh databases, children, medians, the table.


class Databases:
    """A fresh database of either kind per measurement, removed afterwards."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="agentflow-durable-bench-")
        self._postgres: PostgresDatabases | None = None
        self._count = 0

    def fresh(self, kind: str) -> str:
        if kind == SQLITE:
            self._count += 1
            return str(Path(self._directory.name) / f"bench-{self._count}.db")
        if self._postgres is None:
            self._postgres = PostgresDatabases()
        return self._postgres.fresh()

    def drop(self, kind: str, database: str) -> None:
        if kind == SQLITE:
            for suffix in ("", "-wal", "-shm"):
                Path(database + suffix).unlink(missing_ok=True)
        elif self._postgres is not None:
            self._postgres.drop(database)

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()
        self._directory.cleanup()


def _child(
    row: Row, system: str, kind: str, databases: Databases, timeout: float
) -> dict[str, Any]:
    database = databases.fresh(kind)
    try:
        completed = subprocess.run(
            [sys.executable, __file__, "--child", row.scenario, system, kind, database],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    finally:
        databases.drop(kind, database)
    reports = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not reports:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {completed.returncode}: {last}"}
    report: dict[str, Any] = json.loads(reports[-1])
    return report


@dataclass
class Measured:
    row: Row
    kind: str
    cells: dict[str, dict[str, Any]]
    """System -> {"value": median, ...} or {"error": text}."""


def measure(row: Row, kind: str, databases: Databases, sizes: Sizes) -> Measured:
    samples: dict[str, list[dict[str, Any]]] = {system: [] for system in SYSTEMS}
    errors: dict[str, str] = {}
    for repetition in range(1, row.repetitions + 1):
        for system in SYSTEMS:
            if system in errors:
                continue
            report = _child(row, system, kind, databases, sizes.child_timeout_seconds)
            if "error" in report:
                errors[system] = report["error"]
                print(f"{row.label} / {kind} / {system}: {report['error']}", file=sys.stderr)
                continue
            samples[system].append(report)
            progress = f"{row.label} / {kind} / {system} [{repetition}/{row.repetitions}]"
            print(f"{progress}: {format_number(report['value'])}", file=sys.stderr)
    cells: dict[str, dict[str, Any]] = {}
    for system in SYSTEMS:
        if system in errors:
            cells[system] = {"error": errors[system]}
        else:
            middle = statistics.median(report["value"] for report in samples[system])
            cells[system] = {**samples[system][0], "value": middle}
    return Measured(row, kind, cells)


def _cell_text(cell: dict[str, Any]) -> str:
    if "error" in cell:
        return f"error: {cell['error']}"[:60]
    text = format_number(cell["value"])
    if "as_left" in cell:
        text += f" ({format_number(cell['as_left'])} as left)"
    return text


def _ratio(agentflow: dict[str, Any], other: dict[str, Any]) -> float | None:
    if "value" not in agentflow or "value" not in other or not other["value"]:
        return None
    value: float = agentflow["value"] / other["value"]
    return value


def format_results(results: list[Measured]) -> str:
    header = (
        "scenario",
        "store",
        "unit",
        "agentflow sync (default)",
        "agentflow async",
        "LangGraph sync",
        "LangGraph async (default)",
        *(f"af/LG {label}" for label, _, _ in COMPARED),
        "target",
        "met",
    )
    lines: list[tuple[str, ...]] = [header]
    for measured in results:
        row, cells = measured.row, measured.cells
        ratios = [_ratio(cells[ours], cells[theirs]) for _, ours, theirs in COMPARED]
        verdicts = [
            "?" if ratio is None else "yes" if ratio <= row.bound else "NO" for ratio in ratios
        ]
        lines.append(
            (
                row.label,
                measured.kind,
                row.unit,
                *(_cell_text(cells[system]) for system in SYSTEMS),
                *("—" if ratio is None else f"{format_number(ratio)}{TIMES}" for ratio in ratios),
                f"≤ {row.bound:g}{TIMES} LangGraph",
                " / ".join(verdicts),
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]

    def join(line: tuple[str, ...]) -> str:
        padded = (text.ljust(width) for text, width in zip(line, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([join(lines[0]), rule, *(join(line) for line in lines[1:])])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument("--store", choices=STORES, action="append", help="only this store")
    parser.add_argument(
        "--child",
        nargs=4,
        metavar=("SCENARIO:SIZE", "SYSTEM", "STORE", "DATABASE"),
        help="internal: measure one scenario on one system and print a JSON line",
    )
    args = parser.parse_args()
    if args.child:
        return run_child(*args.child)
    sizes = QUICK if args.quick else FULL
    databases = Databases()
    started = time.perf_counter()
    try:
        results = [
            measure(row, kind, databases, sizes)
            for row in rows(sizes)
            for kind in (args.store or STORES)
        ]
    finally:
        databases.close()
    print(format_results(results))
    elapsed = time.perf_counter() - started
    compared = " / ".join(label for label, _, _ in COMPARED)
    print(f"\nmet: {compared} (agentflow / LangGraph); measured in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
