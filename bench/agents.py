"""Benchmark agentflow's `FunctionAgent` against four agent frameworks on the same turn.

    python bench/agents.py           # full run: 40 minutes on 2 busy cores
    python bench/agents.py --quick   # small sizes, one repetition: a smoke test
    python bench/agents.py --openai-agents-python /path/to/venv/bin/python
    python bench/agents.py --rows parked,saved   # only these rows

One turn (`agent_turn.py`): the user's question, a scripted model's reply with two parallel
tool calls, both tools run, their results sent back, the model's final answer. The model is
in-process with no latency. Side by side: agentflow's `FunctionAgent`, LlamaIndex's
`FunctionAgent`, LangGraph's prebuilt ReAct agent, PydanticAI's `Agent` (`FunctionModel`) and
the OpenAI Agents SDK (a custom `Model`); one module each, `turn_*.py`. Three numbers:

- µs per turn, turns run one after another, in CPU time of the process (what a turn
  costs, whatever else the machine runs) and by the wall clock;
- turns per second when 1,000 are started at once;
- KiB per agent parked awaiting a tool approval: Python heap growth (tracemalloc) over N
  agents whose `multiply` call waits for a human, each by its framework's own mechanism.
  Twice: in process, what each keeps between the pause and the answer (a live run for
  agentflow and LlamaIndex, the objects the run returned for the others); and saved, only
  the text a store would keep to resume the turn in another process (the JSON of agentflow's
  `ctx.to_dict()`, the live run stopped, of PydanticAI's message history and of the SDK's
  `RunState`; LangGraph's saver keeps its checkpoints serialized already; LlamaIndex has
  none that resumes). `turn_*.py`
  say what each holds.

Every (measurement, framework) runs in a fresh interpreter (`child_runs.py`), repetitions
interleaved, each cell the median. The OpenAI Agents SDK is imported as `agents`, this
project's own package name, so it runs in a venv of its own (`--openai-agents-python`, by
default `.venv-openai-agents/bin/python` in the checkout when there is one):

    python -m venv .venv-openai-agents
    .venv-openai-agents/bin/pip install -e '.[bench-openai-agents]'
"""

import sys
from pathlib import Path

# This script is named like the `agents` package (ours, and the OpenAI Agents SDK's), and
# Python puts the script's folder first on the path: moved last, `import agents` finds the
# package, and the bench's own modules are still found.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _BENCH]
sys.path.append(str(_BENCH))

import argparse  # noqa: E402 (after the path is fixed, above)
import asyncio  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Literal  # noqa: E402

from child_runs import REPO_ROOT, medians, reported_value, run_interpreter  # noqa: E402
from results_table import TIMES, Cell, aligned_table, format_number  # noqa: E402


@dataclass(frozen=True)
class Framework:
    """One framework: its column, its module here, what it is imported as."""

    label: str
    """Its column in the table."""
    module: str
    """The bench module that runs the turn on it (`turn_*.py`)."""
    package: str
    """The package it needs, checked before its children are started."""
    own_interpreter: bool = False
    """Runs in the `--openai-agents-python` interpreter, not this one."""


AGENTFLOW = Framework("agentflow", "turn_agentflow", "agentflow")
PEERS = (
    Framework("LlamaIndex", "turn_llama_index", "llama_index.core.agent.workflow"),
    Framework("LangGraph", "turn_langgraph", "langgraph.prebuilt"),
    Framework("PydanticAI", "turn_pydantic_ai", "pydantic_ai"),
    Framework("OpenAI Agents SDK", "turn_openai_agents", "agents", own_interpreter=True),
)
FRAMEWORKS = (AGENTFLOW, *PEERS)
MODULES = {framework.module for framework in FRAMEWORKS}


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is, and how often it is repeated."""

    turns: int
    """Turns run one after another in the µs/turn row."""
    concurrent: int
    """Turns started at once in the turns/s row."""
    parked: int
    """Agents parked at once in the KiB/agent row."""
    repetitions: int
    """Fresh interpreters per measurement and framework."""
    child_timeout_seconds: float
    """A child that takes longer is killed and its cell reports the timeout."""


FULL = Sizes(turns=500, concurrent=1_000, parked=1_000, repetitions=3, child_timeout_seconds=180)
QUICK = Sizes(turns=20, concurrent=50, parked=20, repetitions=1, child_timeout_seconds=60)


@dataclass(frozen=True)
class Row:
    """A measured quantity and agentflow's target against the best peer."""

    measurement: str
    """The key of `agent_turn.MEASUREMENTS`."""
    label: str
    unit: str
    better: Literal["lower", "higher"]
    """Which way is better: the best peer is the lowest or the highest number."""
    target: float | None
    """agentflow must be at most (lower is better) or at least (higher) this multiple of the
    best peer; None for no target."""

    def size(self, sizes: Sizes) -> int:
        if self.measurement in ("turn", "turn_cpu"):
            return sizes.turns
        return sizes.concurrent if self.measurement == "concurrent" else sizes.parked


def rows(sizes: Sizes) -> list[Row]:
    return [
        Row("turn_cpu", f"one turn, {sizes.turns:,} in a row, CPU", "µs/turn", "lower", 0.2),
        Row("turn", f"one turn, {sizes.turns:,} in a row, wall clock", "µs/turn", "lower", None),
        Row("concurrent", f"{sizes.concurrent:,} turns at once", "turns/s", "higher", None),
        Row(
            "parked",
            f"{sizes.parked:,} agents awaiting approval, in process",
            "KiB/agent",
            "lower",
            0.5,
        ),
        Row(
            "saved",
            f"{sizes.parked:,} agents awaiting approval, saved",
            "KiB/agent",
            "lower",
            0.5,
        ),
    ]


# The child side: one measurement of one framework, in this interpreter.


def run_child(measurement: str, size: int, module: str) -> int:
    """Measure one framework and print one JSON line (`child_runs.reported_value`)."""
    from agent_turn import MEASUREMENTS

    try:
        suite = importlib.import_module(module).Suite()
        value = asyncio.run(MEASUREMENTS[measurement](suite, size))
    # Whatever a framework raises becomes the text of its cell; the other cells carry on.
    except Exception as error:
        print(json.dumps({"error": " ".join(f"{type(error).__name__}: {error}".split())}))
        return 1
    print(json.dumps({"value": value}))
    return 0


# The parent side.


def _openai_agents_python(given: str | None) -> str | None:
    if given:
        return given
    default = REPO_ROOT / ".venv-openai-agents" / "bin" / "python"
    return str(default) if default.exists() else None


def _measure_row(
    row: Row, sizes: Sizes, pythons: dict[Framework, str | None]
) -> dict[Framework, Cell]:
    def measure_once(label: str) -> float:
        framework = next(f for f in FRAMEWORKS if f.label == label)
        python = pythons[framework]
        assert python is not None
        arguments = [str(Path(__file__).resolve()), "--child", row.measurement]
        arguments += [str(row.size(sizes)), framework.module]
        return reported_value(run_interpreter(arguments, sizes.child_timeout_seconds, python))

    runnable = [framework.label for framework in FRAMEWORKS if pythons[framework]]
    measured = medians(row.label, runnable, sizes.repetitions, measure_once)
    return {
        framework: measured.get(framework.label, Cell(note="n/a: not installed"))
        for framework in FRAMEWORKS
    }


def format_agent_table(table_rows: list[Row], cells: dict[Row, dict[Framework, Cell]]) -> str:
    """One line per row: every framework's median, the best peer, agentflow's ratio to it,
    the target and whether agentflow meets it."""
    header = [
        "measurement",
        "unit",
        *(framework.label for framework in FRAMEWORKS),
        "agentflow/best peer",
        "target",
        "met",
    ]
    lines = [header]
    for row in table_rows:
        row_cells = cells[row]
        peers = [row_cells[peer] for peer in PEERS if row_cells[peer].value is not None]
        choose = min if row.better == "lower" else max
        best = choose((cell.value for cell in peers if cell.value is not None), default=None)
        ours = row_cells[AGENTFLOW].value
        ratio = ours / best if ours is not None and best else None
        sign = "≤" if row.better == "lower" else "≥"
        target = "—" if row.target is None else f"{sign} {row.target:g}{TIMES} best peer"
        met = ""
        if row.target is not None:
            holds = None if ratio is None else (ratio <= row.target) == (row.better == "lower")
            met = "?" if holds is None else "yes" if holds else "NO"
        lines.append(
            [
                row.label,
                row.unit,
                *(row_cells[framework].render() for framework in FRAMEWORKS),
                "—" if ratio is None else f"{format_number(ratio)}{TIMES}",
                target,
                met,
            ]
        )
    return aligned_table(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument(
        "--openai-agents-python",
        help="the interpreter with openai-agents installed (default: "
        ".venv-openai-agents/bin/python in the checkout, when it exists)",
    )
    parser.add_argument(
        "--rows",
        help="measure only these rows, by their measurement names, comma-separated "
        "(see `rows`); default: all",
    )
    parser.add_argument(
        "--child",
        nargs=3,
        metavar=("MEASUREMENT", "SIZE", "MODULE"),
        help="internal: measure one framework and print a JSON line",
    )
    args = parser.parse_args()
    if args.child:
        measurement, size, module = args.child
        if module not in MODULES:
            parser.error(f"--child: no framework module {module!r}; one of {sorted(MODULES)}")
        return run_child(measurement, int(size), module)

    sizes = QUICK if args.quick else FULL
    openai_agents = _openai_agents_python(args.openai_agents_python)
    pythons = {
        framework: (
            openai_agents
            if framework.own_interpreter
            else sys.executable
            if importlib.util.find_spec(framework.package.split(".")[0]) is not None
            else None
        )
        for framework in FRAMEWORKS
    }
    table_rows = rows(sizes)
    if args.rows:
        wanted = args.rows.split(",")
        names = [row.measurement for row in table_rows]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            parser.error(f"--rows: no row {', '.join(unknown)}; one of {', '.join(names)}")
        table_rows = [row for row in table_rows if row.measurement in wanted]
    cells = {row: _measure_row(row, sizes, pythons) for row in table_rows}
    print(format_agent_table(table_rows, cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
