"""Benchmark agentflow's HTTP server against `llama-agents-server` serving the same workflows.

    python bench/server.py           # full run, about 10 minutes on 2 cores
    python bench/server.py --quick   # small sizes, one repetition: a smoke test
    python bench/server.py --reference-python /tmp/refsrv/bin/python   # reference elsewhere

Each server runs in its own subprocess on 127.0.0.1 under uvicorn (asyncio loop, h11, no
access log), in four configurations: agentflow with its default store (SQLite, in a temporary
directory) and with a `MemoryStore`; the reference with its default store
(`MemoryWorkflowStore`) and with its `SqliteWorkflowStore`. The workflows are the engine
bench's (`workflow_suite.py`), built once from `agentflow` and once from `workflows`. This
process is the one client (one `aiohttp.ClientSession`, the same code for every server; an
`httpx.AsyncClient` spent 2.3-4 ms of CPU per run, more than either server, so that it, not
the servers, set the pace; aiohttp spends 0.7-1.7 ms; the SSE stream's frames are counted
in its bytes, not decoded one by one, for the same reason):

- runs/s: runs of a one-step workflow for a few seconds, each `POST /workflows/noop/run-nowait` then
  `GET /results/{id}` (again every `POLL_SECONDS` while it answers 202), at concurrency 1 and 16;
- SSE events/s: one run of a workflow that writes K events to its stream, followed with
  `GET /events/{id}?sse=true&after_sequence=-1`; K-1 over the time from the first event to the
  last one received (and, for information, K over the time from the POST to the last event).

Every measurement starts a fresh server, warmed up first; repetitions are interleaved across
servers, and each cell is the median.
"""

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from results_table import TIMES, format_number

REPO_ROOT = Path(__file__).resolve().parent.parent

NOOP = "noop"
"""The one-step workflow of the runs/s rows (StartEvent -> StopEvent)."""
TICKS = "ticks"
"""The workflow of the SSE row: writes K events to its stream, then stops."""
TICK_TYPE = "Tick"
"""The type name of the events it writes (the envelope's `type`)."""

POLL_SECONDS = 0.002
"""How long the client waits before asking again for a result that answered 202."""
START_TIMEOUT_SECONDS = 30.0
"""A server not healthy by then fails its measurement."""
WARM_UP_SECONDS = 1.0
"""How long each server runs the noop workflow before it is measured."""


@dataclass(frozen=True)
class Server:
    """One server configuration: which library, which store."""

    label: str
    """Its column in the table."""
    library: str
    """`agentflow` or `reference`."""
    store: str
    """`sqlite` or `memory`."""
    max_ticks: int | None = None
    """Fewer events for the SSE run than the sizes say (a server too slow for them)."""


AGENTFLOW_SQLITE = Server("agentflow, SQLite (default)", "agentflow", "sqlite")
AGENTFLOW_MEMORY = Server("agentflow, memory", "agentflow", "memory")
REFERENCE_MEMORY = Server("reference, memory (default)", "reference", "memory")
REFERENCE_SQLITE = Server("reference, SQLite", "reference", "sqlite", max_ticks=1_000)
"""Its run writes about 40 events/s to the stream (each a SQLite commit): 10,000 would take
minutes per measurement."""
SERVERS = (AGENTFLOW_SQLITE, AGENTFLOW_MEMORY, REFERENCE_MEMORY, REFERENCE_SQLITE)

COMPARISONS = (
    ("default/default", AGENTFLOW_SQLITE, REFERENCE_MEMORY),
    ("SQLite/SQLite", AGENTFLOW_SQLITE, REFERENCE_SQLITE),
    ("memory/memory", AGENTFLOW_MEMORY, REFERENCE_MEMORY),
)
"""The ratios shown: agentflow's number over the reference's."""


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is, and how often it is repeated."""

    run_seconds: float
    """How long each runs/s row starts runs (the runs in flight then are finished and
    counted)."""
    concurrency: int
    """Clients' requests in flight at once in the concurrent row."""
    ticks: int
    """Events the SSE run writes to its stream."""
    repetitions: int
    """Fresh servers per configuration."""


FULL = Sizes(run_seconds=8, concurrency=16, ticks=10_000, repetitions=5)
QUICK = Sizes(run_seconds=2, concurrency=16, ticks=2_000, repetitions=1)
WARM_UP_TICKS = 100
"""Events of the warm-up run of the ticker."""


@dataclass(frozen=True)
class Row:
    """A measured quantity: its label, unit, agentflow's target over the reference."""

    key: str
    label: str
    unit: str
    target: float | None
    """agentflow must reach at least this multiple of the reference (None: no target)."""


def rows(sizes: Sizes) -> list[Row]:
    return [
        Row("runs_serial", "run-nowait + result, 1 at a time", "runs/s", 3),
        Row(
            "runs_concurrent",
            f"run-nowait + result, {sizes.concurrency} at a time",
            "runs/s",
            3,
        ),
        Row(
            "runs_per_cpu",
            f"the same, runs per CPU-second of the server, {sizes.concurrency} at a time",
            "runs/CPU-s",
            None,
        ),
        Row("sse", f"SSE, {sizes.ticks:,} events*, first to last", "events/s", 5),
        Row("sse_total", f"SSE, {sizes.ticks:,} events*, POST to last", "events/s", None),
        Row("sse_per_cpu", "SSE, events per CPU-second of the server", "events/CPU-s", None),
    ]


# The server side: run in the server's own interpreter (`--serve`).


def serve(library: str, store: str, port: int, directory: str) -> None:
    """Serve the noop and ticks workflows of `library` with `store` on 127.0.0.1:`port`."""
    os.environ["BENCH_SERVER_LIBRARY"] = library
    from server_workflows import Noop, Ticker

    workflows = {NOOP: Noop(timeout=None), TICKS: Ticker(timeout=None)}
    database = str(Path(directory) / "runs.db")
    if library == "agentflow":
        from agentflow.server import WorkflowServer
        from agentflow.server.serving import uvicorn_server
        from agentflow.stores.memory import MemoryStore
        from agentflow.stores.sqlite import SqliteStore

        server = WorkflowServer(
            store=SqliteStore(database) if store == "sqlite" else MemoryStore(), token=""
        )
        for name, workflow in workflows.items():
            server.add_workflow(name, workflow)
        uvicorn_server(server, host="127.0.0.1", port=port).run()
        return
    import uvicorn
    from llama_agents.server import SqliteWorkflowStore, WorkflowServer

    reference = (
        WorkflowServer(workflow_store=SqliteWorkflowStore(database))
        if store == "sqlite"
        else WorkflowServer()
    )
    for name, workflow in workflows.items():
        reference.add_workflow(name, workflow)
    uvicorn.run(reference.app, host="127.0.0.1", port=port, log_level="warning")


# The client side.


class MeasurementFailed(Exception):
    """A server did not start, or answered what a run of the workflow cannot give."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RunningServer:
    """A server subprocess, started healthy, stopped at exit."""

    def __init__(self, server: Server, python: str) -> None:
        self.server = server
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._directory = tempfile.TemporaryDirectory(prefix="agentflow-server-bench-")
        environment = {
            **os.environ,
            "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "agentflow-bench-pycache"),
        }
        self.process = subprocess.Popen(
            [
                python,
                str(Path(__file__).resolve()),
                "--serve",
                server.library,
                server.store,
                str(self.port),
                self._directory.name,
            ],
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    async def wait_healthy(self, client: Any) -> None:
        import aiohttp

        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MeasurementFailed(f"{self.server.label} exited: {self._last_words()}")
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with client.get(f"{self.base_url}/health") as health:
                    if health.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise MeasurementFailed(f"{self.server.label} not healthy after {START_TIMEOUT_SECONDS}s")

    def cpu_seconds(self) -> float:
        """The CPU time the server process has used (user and system), from /proc: on a
        machine other work shares, the server's cost per run, whatever the wall clock."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = int(fields[11]), int(fields[12])
        return (user + system) / os.sysconf("SC_CLK_TCK")

    def _last_words(self) -> str:
        stderr = self.process.stderr.read() if self.process.stderr else ""
        return (stderr.strip().splitlines() or ["no output"])[-1]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._directory.cleanup()


async def _one_run(client: Any, base_url: str) -> None:
    async with client.post(f"{base_url}/workflows/{NOOP}/run-nowait", json={}) as started:
        if started.status != 200:
            raise MeasurementFailed(f"run-nowait answered {started.status}: {await started.text()}")
        handler_id = (await started.json())["handler_id"]
    while True:
        async with client.get(f"{base_url}/results/{handler_id}") as result:
            if result.status == 200 and (await result.json())["status"] == "completed":
                return
            if result.status != 202:
                raise MeasurementFailed(f"results answered {result.status}: {await result.text()}")
            await result.read()
        await asyncio.sleep(POLL_SECONDS)


async def runs_per_second(
    client: Any, base_url: str, seconds: float, concurrency: int
) -> tuple[float, int]:
    """Runs through run-nowait + result, `concurrency` at a time, started for `seconds`;
    runs per second, over the time until the last of them ended, and how many ran."""
    started = time.perf_counter()
    deadline = started + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await _one_run(client, base_url)
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started), done


async def sse_events_per_second(client: Any, base_url: str, ticks: int) -> tuple[float, float]:
    """One run writing `ticks` events, followed over SSE: events per second from the first
    event to the last, and from the POST to the last (the time of the last chunk, which
    also holds the StopEvent, as the last event's)."""
    posted = time.perf_counter()
    body = {"start_event": {"count": ticks}}
    async with client.post(f"{base_url}/workflows/{TICKS}/run-nowait", json=body) as started:
        handler_id = (await started.json())["handler_id"]
    frames = 0
    first = last = 0.0
    recent = bytearray(b"\n")  # a frame's `data:` line opens the body or follows a newline
    params = {"sse": "true", "after_sequence": "-1"}
    async with client.get(f"{base_url}/events/{handler_id}", params=params) as stream:
        # Frames are counted in the bytes as they come, not decoded one by one: decoding
        # each in Python cost this client more CPU per event than the servers spend, and
        # on two cores the client would set the pace. The last frame is decoded below.
        async for chunk in stream.content.iter_any():
            seen = (bytes(recent[-5:]) + chunk).count(b"\ndata:")
            if seen:
                last = time.perf_counter()
                if not frames:
                    first = last
                frames += seen
            recent += chunk
            if len(recent) > 131_072:  # keep enough to decode the last frame
                del recent[:-65_536]
    last_data = bytes(recent[recent.rindex(b"\ndata:") + 6 :]).split(b"\n", 1)[0]
    ended = json.loads(last_data)["type"] == "StopEvent"
    received = frames - 1 if ended else frames
    if received != ticks or not ended:
        raise MeasurementFailed(f"SSE gave {received} of {ticks} events (stop seen: {ended})")
    # Every event in one chunk (a short warm-up run): no time between first and last.
    first_to_last = (ticks - 1) / (last - first) if last > first else float("inf")
    return first_to_last, ticks / (last - posted)


async def measure(server: Server, python: str, sizes: Sizes) -> dict[str, float]:
    """Start `server`, warm it up, measure every row."""
    import aiohttp

    running = RunningServer(server, python)
    try:
        # Idle connections are let go before uvicorn closes them (after 5 s), so that a
        # request never goes out on one the server is closing.
        connector = aiohttp.TCPConnector(limit=sizes.concurrency * 2, keepalive_timeout=3)
        # No limit on a whole request: an SSE stream lasts as long as its run.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
            await running.wait_healthy(client)
            base_url = running.base_url
            await runs_per_second(client, base_url, WARM_UP_SECONDS, sizes.concurrency)
            await sse_events_per_second(client, base_url, WARM_UP_TICKS)
            serial, _ = await runs_per_second(client, base_url, sizes.run_seconds, 1)
            cpu = running.cpu_seconds()
            concurrent, runs = await runs_per_second(
                client, base_url, sizes.run_seconds, sizes.concurrency
            )
            runs_cpu = running.cpu_seconds() - cpu
            ticks = min(sizes.ticks, server.max_ticks or sizes.ticks)
            cpu = running.cpu_seconds()
            sse, sse_total = await sse_events_per_second(client, base_url, ticks)
            sse_cpu = running.cpu_seconds() - cpu
    finally:
        running.stop()
    return {
        "runs_serial": serial,
        "runs_concurrent": concurrent,
        "runs_per_cpu": runs / runs_cpu,
        "sse": sse,
        "sse_total": sse_total,
        "sse_per_cpu": ticks / sse_cpu,
    }


def format_table(table_rows: list[Row], medians: dict[Server, dict[str, float]]) -> str:
    """The rows: each server's median, the ratios of `COMPARISONS`, the targets."""
    header = [
        "measurement",
        "unit",
        *(server.label for server in SERVERS),
        *(f"agentflow/reference {name}" for name, _, _ in COMPARISONS),
        "target",
        "met",
    ]
    lines = [header]
    for row in table_rows:
        cells = [
            format_number(medians[server][row.key]) if server in medians else "error"
            for server in SERVERS
        ]
        ratios = []
        verdicts = []
        for _, ours, theirs in COMPARISONS:
            if ours not in medians or theirs not in medians:
                ratios.append("—")
                continue
            ratio = medians[ours][row.key] / medians[theirs][row.key]
            ratios.append(f"{format_number(ratio)}{TIMES}")
            if row.target is not None:
                verdicts.append(ratio >= row.target)
        target = "—" if row.target is None else f"≥ {row.target:g}{TIMES} reference"
        met = "" if row.target is None else _verdict(verdicts)
        lines.append([row.label, row.unit, *cells, *ratios, target, met])
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]

    def join(line: list[str]) -> str:
        return "| " + " | ".join(text.ljust(w) for text, w in zip(line, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    notes = [
        f"* {server.label}: {server.max_ticks:,} events" for server in SERVERS if server.max_ticks
    ]
    return "\n".join([join(lines[0]), rule, *(join(line) for line in lines[1:]), *notes])


def _verdict(checks: list[bool]) -> str:
    if not checks:
        return "?"
    return "yes" if all(checks) else "NO"


def _reference_python(given: str | None) -> str:
    if given:
        return given
    if importlib.util.find_spec("llama_agents.server") is None:
        raise SystemExit(
            "llama-agents-server is not installed here: pip install -e '.[bench]', "
            "or pass --reference-python PATH (a venv with llama-agents-server==0.8.0)"
        )
    return sys.executable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument(
        "--reference-python",
        help="the interpreter that runs llama-agents-server (default: this one)",
    )
    parser.add_argument(
        "--serve",
        nargs=4,
        metavar=("LIBRARY", "STORE", "PORT", "DIRECTORY"),
        help="internal: be one server",
    )
    args = parser.parse_args()
    if args.serve:
        library, store, port, directory = args.serve
        serve(library, store, int(port), directory)
        return 0

    sizes = QUICK if args.quick else FULL
    pythons: dict[str, str] = {
        "agentflow": sys.executable,
        "reference": _reference_python(args.reference_python),
    }
    samples: dict[Server, list[dict[str, float]]] = {server: [] for server in SERVERS}
    failed: set[Server] = set()
    for repetition in range(1, sizes.repetitions + 1):
        for server in SERVERS:
            if server in failed:
                continue
            try:
                result = asyncio.run(measure(server, pythons[server.library], sizes))
            except MeasurementFailed as failure:
                print(f"{server.label}: error: {failure}", file=sys.stderr)
                failed.add(server)
                continue
            samples[server].append(result)
            shown = ", ".join(f"{key} {format_number(value)}" for key, value in result.items())
            print(f"{server.label} [{repetition}/{sizes.repetitions}]: {shown}", file=sys.stderr)
    medians = {
        server: {key: statistics.median(result[key] for result in results) for key in results[0]}
        for server, results in samples.items()
        if results and server not in failed
    }
    print(format_table(rows(sizes), medians))
    return 0


if __name__ == "__main__":
    sys.exit(main())
