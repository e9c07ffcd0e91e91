"""A durable run survives `kill -9`: the script kills a process in the middle of a run, and
resumes the run in another process without running the finished steps again.

    python examples/durable_run.py [--store runs.db]

The script starts itself as a child process that runs `WriteBook` on a SqliteStore (a
temporary file unless `--store` names one). The workflow writes five chapters, one step
each, and prints as it goes; in the child, chapter 3 never finishes (think of a slow LLM
call), and the parent kills the child with SIGKILL as soon as the child says it started
it. The parent then resumes the run from the store with `workflow.resume(run_id)`:
chapters 1 and 2 are not written again, chapter 3 is written from its start, and the
result is the whole book. No API key, no network.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from agentflow import Context, Workflow, step
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.stores import SqliteStore

CHAPTERS = 5
STUCK_IN_THE_CHILD = 3


class Chapter(Event):
    n: int


class WriteBook(Workflow):
    """An outline, then one chapter per step; the book is kept in the run's state."""

    stuck_at: int | None = None
    """The chapter this process never finishes (set in the child only)."""
    written: list[int]
    """The chapters this process wrote."""

    @step
    async def outline(self, ev: StartEvent) -> Chapter:
        print(f"outline: {CHAPTERS} chapters about {ev.topic}", flush=True)
        return Chapter(n=1)

    @step
    async def write(self, ctx: Context, ev: Chapter) -> Chapter | StopEvent:
        print(f"writing chapter {ev.n} (process {os.getpid()})", flush=True)
        if ev.n == self.stuck_at:
            await asyncio.Event().wait()  # stuck here until the parent kills this process
        await ctx.store.set(f"chapters.{ev.n}", f"Chapter {ev.n}")
        self.written.append(ev.n)
        print(f"wrote chapter {ev.n}", flush=True)
        if ev.n < CHAPTERS:
            return Chapter(n=ev.n + 1)
        chapters = await ctx.store.get("chapters")
        return StopEvent(result=", ".join(chapters.values()))


async def child(store_path: str, run_id: str) -> None:
    """Start the run; this process is killed before it ends."""
    async with SqliteStore(store_path) as store:
        workflow = WriteBook(store=store, timeout=None)
        workflow.written, workflow.stuck_at = [], STUCK_IN_THE_CHILD
        await workflow.run(run_id=run_id, topic="otters")


def start_and_kill_a_child(store_path: str, run_id: str) -> list[int]:
    """Run `child` in a process of its own, echo what it prints, and kill it with SIGKILL
    once it says it started the chapter it is stuck in. Returns the chapters it wrote."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", "--store", store_path, "--run-id", run_id],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line.rstrip("\n"))
        print(f"  child | {printed[-1]}")
        if printed[-1].startswith(f"writing chapter {STUCK_IN_THE_CHILD} "):
            break
    else:
        sys.exit(f"the child ended ({process.wait()}) before chapter {STUCK_IN_THE_CHILD}")
    process.send_signal(signal.SIGKILL)
    process.wait()
    print(f"killed the child (process {process.pid}) with SIGKILL\n")
    return [int(line.split()[-1]) for line in printed if line.startswith("wrote chapter")]


async def resume(store_path: str, run_id: str, written_by_the_child: list[int]) -> None:
    """Resume the run in this process, from what the child left in the store."""
    async with SqliteStore(store_path) as store:
        info = await store.get_run(run_id)
        assert info is not None
        print(f"the store has run {run_id!r} ({info.status}); resuming it in this process")
        workflow = WriteBook(store=store, timeout=None)
        workflow.written = []
        result = await (await workflow.resume(run_id))
        print(f"\nresult: {result}")
        print(f"chapters the child wrote: {written_by_the_child}")
        print(f"chapters written after the resume: {workflow.written}")
        again = sorted(set(written_by_the_child) & set(workflow.written))
        print(f"chapters written twice: {again or 'none'}")
        print("store.list_runs():")
        async for run in store.list_runs():
            print(f"  {run.run_id}  {run.status}  {run.workflow}")


def main() -> None:
    parser = argparse.ArgumentParser(description="A durable run survives kill -9.")
    parser.add_argument("--store", help="the SQLite file (default: a temporary one)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        asyncio.run(child(arguments.store, arguments.run_id))
        return
    with tempfile.TemporaryDirectory() as scratch:
        store_path = arguments.store or str(Path(scratch) / "runs.db")
        run_id = f"book-{uuid.uuid4().hex[:6]}"
        written = start_and_kill_a_child(store_path, run_id)
        asyncio.run(resume(store_path, run_id, written))


if __name__ == "__main__":
    main()
