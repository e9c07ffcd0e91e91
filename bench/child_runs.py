"""Fresh child interpreters for the benches, and the medians of what they report.

`bench/engine.py` and `bench/agents.py` measure each (scenario, engine) in an interpreter of
its own, so that none inherits another's imports, caches or heap. A child prints one JSON
line, `{"value": ...}` or `{"error": "..."}`; repetitions are interleaved across engines (drift
on a busy machine then hits all of them alike) and each cell is the median.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from results_table import Cell, format_number

REPO_ROOT = Path(__file__).resolve().parent.parent

BYTECODE_CACHE = Path(tempfile.gettempdir()) / "agentflow-bench-pycache"
"""Where child interpreters keep compiled bytecode (see `child_environment`)."""

ERROR_CELL_CHARS = 60
"""Errors are cut to this length in a table; stderr shows them whole."""


class MeasurementFailed(Exception):
    """A child interpreter crashed, timed out or reported an error."""


def child_environment() -> dict[str, str]:
    """The environment of every child interpreter: bytecode cached, outside the source tree.

    The calling shell may set PYTHONDONTWRITEBYTECODE, and then each fresh interpreter would
    compile an editable install (agentflow) from source while installed packages load their
    prebuilt .pyc files: an unfair import race. A private cache prefix gives every engine
    cached bytecode without writing into anyone's source tree.
    """
    environment = {**os.environ, "PYTHONPYCACHEPREFIX": str(BYTECODE_CACHE)}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def run_interpreter(
    arguments: Sequence[str], timeout_seconds: float, python: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    """Run a fresh `python` with `arguments`; a timeout becomes `MeasurementFailed`."""
    try:
        return subprocess.run(
            [python, *arguments],
            capture_output=True,
            text=True,
            timeout=timeout_seconds,
            cwd=REPO_ROOT,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired as timeout:
        raise MeasurementFailed(f"timed out after {timeout_seconds:g} s") from timeout


def crash_summary(completed: subprocess.CompletedProcess[str]) -> str:
    """The exit code and the last line of stderr, for an error cell."""
    last_words = (completed.stderr.strip().splitlines() or ["no output"])[-1]
    return f"exit {completed.returncode}: {last_words}"


def reported_value(completed: subprocess.CompletedProcess[str]) -> float:
    """The number a child printed as its last JSON line; its error as `MeasurementFailed`."""
    reports = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not reports:
        raise MeasurementFailed(crash_summary(completed))
    report = json.loads(reports[-1])
    if "error" in report:
        raise MeasurementFailed(report["error"])
    return float(report["value"])


def medians(
    label: str,
    engines: Sequence[str],
    repetitions: int,
    measure_once: Callable[[str], float],
) -> dict[str, Cell]:
    """Each engine's median over `repetitions`, interleaved across engines; an engine that
    fails once is not measured again, and its cell says why."""
    samples: dict[str, list[float]] = {engine: [] for engine in engines}
    failures: dict[str, str] = {}
    for repetition in range(1, repetitions + 1):
        for engine in engines:
            if engine in failures:
                continue
            try:
                value = measure_once(engine)
            except MeasurementFailed as failure:
                failures[engine] = str(failure)
                print(f"{label} / {engine}: error: {failure}", file=sys.stderr)
                continue
            samples[engine].append(value)
            print(
                f"{label} / {engine} [{repetition}/{repetitions}]: {format_number(value)}",
                file=sys.stderr,
            )
    return {
        engine: Cell(note=f"error: {failures[engine]}"[:ERROR_CELL_CHARS])
        if engine in failures
        else Cell(statistics.median(samples[engine]))
        for engine in engines
    }
