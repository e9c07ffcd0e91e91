"""`agentflow worker`: a process that executes runs queued by DBOS (the [dbos] extra).

    agentflow worker myapp:server --dsn postgresql://app@db/app --concurrency 8

It serves the workflows of the `WorkflowServer` the target names, takes runs from the queue
that `agentflow serve ... --runner dbos` replicas fill, and journals them in the database at
`--dsn` (`agentflow.runners.dbos.DBOSWorker`). Start as many as the load needs, on any
machine that reaches the database; stop one with Ctrl-C or SIGTERM, or lose it: its runs go
on elsewhere once their leases run out.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from typing import TYPE_CHECKING

from agentflow.cli.errors import EXIT_OK
from agentflow.cli.options import Subcommands, positive_int
from agentflow.cli.serve import load_server, postgres_store
from agentflow.cli.telemetry import export_spans_from_environment

if TYPE_CHECKING:
    from agentflow.runners.dbos import DBOSWorker


def add_worker_command(commands: Subcommands) -> None:
    """Add `worker` and its options; parsed, it runs `worker_command`."""
    worker = commands.add_parser(
        "worker",
        help="execute runs queued by DBOS",
        description="Execute the runs that DBOS queues for a WorkflowServer's workflows "
        "(the [dbos] extra).",
    )
    worker.add_argument("target", help="module:attribute naming a WorkflowServer")
    worker.add_argument("--dsn", required=True, help="the PostgreSQL database (postgresql://...)")
    worker.add_argument(
        "--concurrency",
        type=positive_int,
        default=8,
        help="runs this process drives at once (default: 8)",
    )
    worker.add_argument(
        "--executor-id", help="this worker's name in DBOS (default: host-pid-random)"
    )
    worker.add_argument(
        "--lease-seconds",
        type=float,
        default=10.0,
        help="how long a run stays with a worker that stopped renewing its lease (default: 10)",
    )
    worker.set_defaults(execute=worker_command)


def worker_command(args: argparse.Namespace) -> int:
    """Execute runs until interrupted or terminated; the exit code."""
    import asyncio

    from agentflow.runners.dbos import DBOSWorker

    server = load_server(args.target)
    export_spans_from_environment()  # after the load: a provider the target sets wins
    worker = DBOSWorker(
        server,
        postgres_store(args.dsn),
        concurrency=args.concurrency,
        executor_id=args.executor_id,
        lease_seconds=args.lease_seconds,
    )
    asyncio.run(_run_until_terminated(worker))
    return EXIT_OK


async def _run_until_terminated(worker: DBOSWorker) -> None:
    """Run `worker`; SIGTERM stops it as Ctrl-C does (its runs stay in the database)."""
    import asyncio

    task = asyncio.ensure_future(worker.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    ready = asyncio.ensure_future(worker.ready.wait())
    await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        print(
            f"agentflow worker {worker.executor_id}: executing runs of "
            f"{', '.join(worker.registry.names())} (concurrency {worker.concurrency})",
            file=sys.stderr,
            flush=True,
        )
    ready.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
