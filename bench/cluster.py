"""Benchmark the DBOS runner: runs per second with 1 and with 2 `agentflow worker` processes.

    python bench/cluster.py           # the RESULTS.md table: about 3 minutes on 2 cores
    python bench/cluster.py --quick   # small sizes, one repetition: a smoke test

Each measurement has a fresh PostgreSQL database (on the server `AGENTFLOW_TEST_POSTGRES_DSN`
names, else a throwaway one started with the test suite's `postgres_server.py`) and fresh
worker processes, `agentflow worker cluster_flows:server --dsn ... --concurrency C`, serving
the DBOS runner tests' workflows (`tests/agentflow/runners/cluster_flows.py`). This process
is the replica: once the workers say they are ready and have run a warm-up batch, it
enqueues N runs of `crunch` (one CPU-bound step: `rounds` SHA-256 rounds of 32 bytes, which
hold the GIL, so one worker process uses at most one core) through `DBOSRunner.start`, one
after the other, and polls the runner's board until every run has ended. Runs per second
is N over the time from the first enqueue to the moment the poll saw the last run ended.
Every run's result is checked against the digest computed here.

The two worker counts alternate within each repetition; each cell is the median. The ratio
2 workers / 1 worker is the issue's target (at least 1.6x on 2 cores): everything else on
the machine (PostgreSQL, this process, other work) shares the same cores, so the step is
sized to cost a few tens of milliseconds, well above the per-run bookkeeping. To tell what
the runner costs from what the machine allows, each measurement also reports:

- the CPU time per run of the workers, of PostgreSQL (its postmaster, the backends it
  reaped and the live ones; known when the server is the one `postgres_server.py` started,
  or `AGENTFLOW_TEST_POSTGRES_DATA` names its directory), of this process, and of the rest
  of the machine (its busy time in /proc/stat, less those), and how busy its cores were;
- the floor: the same steps shared out over 1 or 2 bare Python processes, measured right
  after, which is the scaling the machine itself gives at that moment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import statistics
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from durable_stores import PostgresDatabases
from results_table import TIMES, format_number

REPO_ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIRECTORY = REPO_ROOT / "tests" / "agentflow" / "runners"
sys.path.insert(0, str(FLOWS_DIRECTORY))

APP = "cluster_flows:server"
WORKFLOW = "crunch"
TARGET = 1.6
"""2 workers must run at least this multiple of 1 worker's runs per second."""
READY_TIMEOUT_SECONDS = 60.0
"""A worker that has not said it is ready by then fails its measurement."""
POLL_SECONDS = 0.02
"""How often the board is read for the runs that have ended."""


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is, and how often it is repeated."""

    runs: int
    """Runs enqueued per measurement."""
    rounds: int
    """SHA-256 rounds of each run's one step."""
    concurrency: int
    """`agentflow worker --concurrency`: runs one worker process drives at once."""
    repetitions: int
    """Measurements per worker count (fresh database, fresh workers)."""
    timeout_seconds: float
    """A measurement whose runs have not all ended by then fails."""


FULL = Sizes(runs=150, rounds=150_000, concurrency=4, repetitions=3, timeout_seconds=300)
QUICK = Sizes(runs=12, rounds=2_000, concurrency=4, repetitions=1, timeout_seconds=120)
WORKER_COUNTS = (1, 2)


class MeasurementFailed(Exception):
    """A worker did not start, or a run did not end with the result its step computes."""


def expected_result(rounds: int) -> str:
    """What `Crunch.crunch` returns for `rounds` (the same loop, run here)."""
    digest = b"agentflow"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:16]


def step_milliseconds(rounds: int) -> float:
    """The step's CPU time, measured in this process (the best of three; CPU time rather
    than the wall clock, which other work on the machine stretches)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        expected_result(rounds)
        best = min(best, time.process_time() - started)
    return best * 1000


def postgres_url(dsn: str) -> str:
    """A `key=value` DSN as the `postgresql://` URL the worker's `--dsn` takes."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    user = quote(str(parts.get("user") or ""), safe="")
    password = f":{quote(str(parts['password']), safe='')}" if parts.get("password") else ""
    host = parts.get("host") or "127.0.0.1"
    port = parts.get("port") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{parts['dbname']}"


class Worker:
    """An `agentflow worker` child process; its stderr is kept (the last lines) for errors."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.last_lines: deque[str] = deque(maxlen=20)
        self._drain: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, url: str, name: str, concurrency: int) -> Worker:
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(FLOWS_DIRECTORY), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agentflow",
            "worker",
            APP,
            "--dsn",
            url,
            "--concurrency",
            str(concurrency),
            "--executor-id",
            name,
            cwd=REPO_ROOT,
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process, name)

    async def ready(self) -> None:
        """Return once the worker says it executes runs; its stderr is drained from then on
        (a full pipe would stop it)."""
        assert self.process.stderr is not None
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                while True:
                    line = (await self.process.stderr.readline()).decode(errors="replace")
                    if not line:
                        raise MeasurementFailed(f"worker {self.name} exited: {self.last_words()}")
                    self.last_lines.append(line.rstrip())
                    if "executing runs of" in line:
                        break
        except TimeoutError:
            raise MeasurementFailed(
                f"worker {self.name} not ready after {READY_TIMEOUT_SECONDS:g}s: "
                f"{self.last_words()}"
            ) from None
        self._drain = asyncio.ensure_future(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.last_lines.append(line.decode(errors="replace").rstrip())

    def last_words(self) -> str:
        return self.last_lines[-1] if self.last_lines else "no output"

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(10):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._drain is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain


def _ticks(fields: list[str], first: int, last: int) -> float:
    return sum(int(field) for field in fields[first : last + 1]) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int, children: bool = False) -> float:
    """A process's CPU time (user and system) from /proc; with `children`, that of its
    children it has reaped too (a PostgreSQL backend's, once its connection closed)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # fields[0] is the state (stat's third field): utime is [11], stime [12], cutime and
    # cstime [13] and [14].
    return _ticks(fields, 11, 14 if children else 12)


def postgres_cpu_seconds(server_directory: Path | None) -> float | None:
    """The CPU time of the PostgreSQL server started in `server_directory`: its postmaster
    with its reaped children, and its live backends. None when the server is not known."""
    if server_directory is None:
        return None
    try:
        postmaster = int((server_directory / "data" / "postmaster.pid").read_text().split()[0])
        total = process_cpu_seconds(postmaster, children=True)
    except (OSError, ValueError, IndexError):
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # a backend that ended meanwhile
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += _ticks(fields, 11, 12)
    return total


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (every core; idle and iowait left out)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuReading:
    """Where the machine's CPU time had gone at one moment, in seconds."""

    workers: float
    postgres: float | None
    bench: float
    machine: float

    @classmethod
    def now(cls, workers: list[Worker], server_directory: Path | None) -> CpuReading:
        return cls(
            workers=sum(worker.cpu_seconds() for worker in workers),
            postgres=postgres_cpu_seconds(server_directory),
            bench=time.process_time(),
            machine=machine_busy_seconds(),
        )


def _crunch_share(rounds: int, steps: int) -> None:
    for _ in range(steps):
        expected_result(rounds)


def bare_steps_per_second(processes: int, steps: int, rounds: int) -> float:
    """The same steps in plain Python processes (no agentflow, DBOS nor PostgreSQL), shared
    out evenly: what the machine gives that many processes at that moment, the floor the
    workers' scaling is compared with."""
    shares = [steps // processes + (index < steps % processes) for index in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.starmap(_crunch_share, [(rounds, 1)] * processes)  # the processes are up
        started = time.perf_counter()
        pool.starmap(_crunch_share, [(rounds, share) for share in shares])
        return steps / (time.perf_counter() - started)


async def run_batch(
    runner: Any, served: Any, runs: int, rounds: int, timeout: float
) -> tuple[float, list[str]]:
    """Enqueue `runs` runs of `rounds` and wait until all have ended: the seconds from the
    first enqueue to the poll that saw the last one ended, and the runs' ids."""
    from cluster_flows import Work

    ids: list[str] = []
    started = time.perf_counter()
    for _ in range(runs):
        view = await runner.start(served, Work(rounds=rounds), None)
        ids.append(view.run_id)
    deadline = started + timeout
    while True:
        async with runner.store.connection() as connection:
            cursor = await connection.execute(
                "SELECT count(*) FROM agentflow_runner_runs"
                " WHERE state = 'ended' AND run_id = ANY(%s)",
                [ids],
            )
            row = await cursor.fetchone()
        if row is not None and row[0] == runs:
            break
        if time.perf_counter() > deadline:
            raise MeasurementFailed(f"{runs - (row[0] if row else 0)} of {runs} runs not ended")
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter() - started, ids


async def check_results(store: Any, ids: list[str], rounds: int) -> None:
    """Every run completed with the digest its step computes."""
    want = expected_result(rounds)
    for run_id in ids:
        info = await store.get_run(run_id)
        if info is None or info.status != "completed" or want not in (info.result or ""):
            raise MeasurementFailed(f"run {run_id}: {info}, not completed with {want}")


async def measure(
    workers: int, url: str, sizes: Sizes, server_directory: Path | None
) -> dict[str, float]:
    """Runs per second with `workers` fresh worker processes, and the CPU time each run
    cost the workers, PostgreSQL, this process and the rest of the machine."""
    from cluster_flows import server

    from agentflow.runners.dbos import DBOSRunner
    from agentflow.stores.postgres import PostgresStore

    store = PostgresStore(url)
    runner = DBOSRunner(server, store)
    started: list[Worker] = []
    try:
        await store.get_run("")  # migrates the store's tables before any worker starts
        for number in range(workers):
            started.append(await Worker.start(url, f"bench-{number}", sizes.concurrency))
        await asyncio.gather(*(worker.ready() for worker in started))
        served = server.registry.get(WORKFLOW)
        assert served is not None, f"{APP} serves {WORKFLOW!r}"
        # Warm-up: the workers have dequeued, run and journalled runs (and imported all).
        warm_up = workers * sizes.concurrency * 2
        _, ids = await run_batch(runner, served, warm_up, sizes.rounds // 10, sizes.timeout_seconds)
        await check_results(store, ids, sizes.rounds // 10)
        before = CpuReading.now(started, server_directory)
        elapsed, ids = await run_batch(
            runner, served, sizes.runs, sizes.rounds, sizes.timeout_seconds
        )
        after = CpuReading.now(started, server_directory)
        await check_results(store, ids, sizes.rounds)
        for worker in started:
            if worker.process.returncode is not None:
                raise MeasurementFailed(f"worker {worker.name} exited: {worker.last_words()}")
    finally:
        await asyncio.gather(*(worker.stop() for worker in started))
        await runner.close()
        await store.close()
    per_run = 1000 / sizes.runs
    machine = (after.machine - before.machine) * per_run
    result = {
        "runs_per_second": sizes.runs / elapsed,
        "workers_ms": (after.workers - before.workers) * per_run,
        "bench_ms": (after.bench - before.bench) * per_run,
        "machine_busy": (after.machine - before.machine) / (elapsed * os.cpu_count()) * 100,
    }
    if before.postgres is not None and after.postgres is not None:
        result["postgres_ms"] = (after.postgres - before.postgres) * per_run
    result["other_ms"] = machine - sum(
        result.get(key, 0.0) for key in ("workers_ms", "postgres_ms", "bench_ms")
    )
    return result


@dataclass(frozen=True)
class Row:
    """A measured quantity: its key in a measurement's result, its label and unit."""

    key: str
    label: str
    unit: str
    target: float | None = None
    """2 workers must reach at least this multiple of 1 worker (None: no target)."""


def rows(sizes: Sizes, milliseconds: float) -> list[Row]:
    return [
        Row(
            "runs_per_second",
            f"{sizes.runs} crunch runs ({sizes.rounds:,} rounds: {milliseconds:.0f} ms CPU a "
            f"step), concurrency {sizes.concurrency} per worker",
            "runs/s",
            TARGET,
        ),
        Row("bare", "the same steps in 1 or 2 bare Python processes (the floor)", "steps/s"),
        Row("workers_ms", "CPU per run: the workers", "ms"),
        Row("postgres_ms", "CPU per run: PostgreSQL", "ms"),
        Row("bench_ms", "CPU per run: this process (enqueue, poll)", "ms"),
        Row("other_ms", "CPU per run: the rest of the machine", "ms"),
        Row("machine_busy", "the machine's cores busy during the batch", "%"),
    ]


def format_table(table_rows: list[Row], medians: dict[int, dict[str, float]]) -> str:
    """One row per measured quantity: each worker count's median, their ratio, the target."""
    header = ["measurement", "unit", "1 worker", "2 workers", "2 workers/1 worker", "target", "met"]
    lines = [header]
    for row in table_rows:
        one, two = medians[1].get(row.key), medians[2].get(row.key)
        if one is None or two is None:
            cells = ["?", "?", "—"]
        else:
            cells = [format_number(one), format_number(two), f"{format_number(two / one)}{TIMES}"]
        met = ""
        if row.target is not None and one is not None and two is not None:
            met = "yes" if two / one >= row.target else "NO"
        target = "—" if row.target is None else f"≥ {row.target:g}{TIMES} 1 worker"
        lines.append([row.label, row.unit, *cells, target, met])
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]

    def join(line: list[str]) -> str:
        return "| " + " | ".join(text.ljust(w) for text, w in zip(line, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([join(lines[0]), rule, *(join(line) for line in lines[1:])])


def _median(results: list[dict[str, float]], key: str) -> float | None:
    values = [result[key] for result in results if key in result]
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    milliseconds = step_milliseconds(sizes.rounds)
    databases = PostgresDatabases()
    samples: dict[int, list[dict[str, float]]] = {count: [] for count in WORKER_COUNTS}
    try:
        for repetition in range(1, sizes.repetitions + 1):
            for count in WORKER_COUNTS:
                dsn = databases.fresh()
                try:
                    result = asyncio.run(
                        measure(count, postgres_url(dsn), sizes, databases.server_directory)
                    )
                except MeasurementFailed as failure:
                    print(f"{count} worker(s): error: {failure}", file=sys.stderr)
                    return 1
                finally:
                    databases.drop(dsn)
                result["bare"] = bare_steps_per_second(count, sizes.runs, sizes.rounds)
                samples[count].append(result)
                shown = ", ".join(f"{key} {format_number(value)}" for key, value in result.items())
                print(
                    f"{count} worker(s) [{repetition}/{sizes.repetitions}]: {shown}",
                    file=sys.stderr,
                )
    finally:
        databases.close()
    table_rows = rows(sizes, milliseconds)
    medians: dict[int, dict[str, float]] = {}
    for count, results in samples.items():
        medians[count] = {}
        for row in table_rows:
            middle = _median(results, row.key)
            if middle is not None:
                medians[count][row.key] = middle
    print(format_table(table_rows, medians))
    return 0


if __name__ == "__main__":
    sys.exit(main())
