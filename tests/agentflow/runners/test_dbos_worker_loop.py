"""A DBOS worker drives its runs on its own event loop.

The worker's store (its connection pool, bound to the loop that first uses it) and the
runs' wake-up events are shared by the activations and by the worker's lease renewal and
inbox listener. DBOS runs an async workflow on the loop of the thread that launched it, or,
launched from a thread without one, on a loop of its own: the worker must launch it from
its loop, or the pool is used from two loops ("... is bound to a different event loop",
seen in bench/cluster.py's workers, where runs also stalled).

The worker runs in this process here (DBOS is one per process, and only this test launches
it in the test process); the cluster tests run workers as `agentflow worker` processes.
"""

from __future__ import annotations

import asyncio

from postgres_databases import DATABASES

from agentflow import Workflow, step
from agentflow.events import StartEvent, StopEvent
from agentflow.runners.dbos import DBOSRunner, DBOSWorker
from agentflow.server import WorkflowServer
from agentflow.stores.postgres import PostgresStore

LOOPS: list[asyncio.AbstractEventLoop] = []
"""The loop each run of `WhereAmI` ran its step on."""


class WhereAmI(Workflow):
    @step
    async def where(self, ev: StartEvent) -> StopEvent:
        LOOPS.append(asyncio.get_running_loop())
        return StopEvent(result="here")


def served() -> WorkflowServer:
    server = WorkflowServer(token="")
    server.add_workflow("where", WhereAmI(timeout=None))
    return server


async def test_a_worker_drives_its_runs_on_its_own_event_loop() -> None:
    LOOPS.clear()
    dsn = DATABASES.fresh_url()
    worker = DBOSWorker(served(), PostgresStore(dsn), concurrency=1)
    working = asyncio.ensure_future(worker.run())
    replica = served()
    runner = DBOSRunner(replica, PostgresStore(dsn))
    try:
        ready = asyncio.ensure_future(worker.ready.wait())
        await asyncio.wait([working, ready], return_when=asyncio.FIRST_COMPLETED)
        assert ready.done(), f"the worker stopped before it was ready: {working}"
        where = replica.registry.get("where")
        assert where is not None
        started = await runner.start(where, StartEvent(), None)
        ended = await asyncio.wait_for(runner.wait(started.run_id), 30)
        assert ended.status == "completed"
        assert [asyncio.get_running_loop()] == LOOPS
    finally:
        # The runner first: the worker's DBOS, once destroyed, leaves this loop's default
        # executor (which DBOS replaced with its own) shut down.
        await runner.close()
        await runner.store.close()
        working.cancel()
        await asyncio.gather(working, return_exceptions=True)
        await worker.store.close()
