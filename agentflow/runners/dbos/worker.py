"""`DbosWorker`: a process that executes runs taken from the DBOS queue.

    worker = DbosWorker(server, PostgresStore(dsn), concurrency=8)
    await worker.run()          # `agentflow worker myapp:server --dsn ...` does this

It launches DBOS on the store's database (DBOS keeps its tables in a schema of its own),
listens to the runs' queue with `concurrency` activations at once, and meanwhile:

- renews its heartbeat and the leases of the runs it drives every third of `lease`;
- reaps: a run whose lease ran out (its worker died, or stalled that long) has its
  activation handed back to the queue for a live worker (`RunQueue.recover_id`), and an
  activation queued long ago that nobody executes is enqueued again;
- hears posts to the inboxes of the runs it drives (PostgreSQL LISTEN), so that an answer
  reaches a running run at once (the inbox is also read every `inbox_poll_seconds`).

DBOS is one per process, so a process runs one worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from agentflow.errors import StoreError
from agentflow.extras import extra_needed
from agentflow.runners.dbos.activation import drive
from agentflow.runners.dbos.board import INBOX_CHANNEL, RunBoard, activation_id
from agentflow.runners.dbos.queue import (
    APP_VERSION,
    QUEUE_NAME,
    UNFINISHED,
    WORKFLOW_NAME,
    RunQueue,
)

with extra_needed("dbos", "the DBOS runner"):
    import psycopg
    from dbos import DBOS, DBOSConfig

if TYPE_CHECKING:
    from agentflow.server.registry import WorkflowRegistry
    from agentflow.server.workflow_server import WorkflowServer
    from agentflow.stores.postgres import PostgresStore

logger = logging.getLogger("agentflow.runners.dbos")

_current: DbosWorker | None = None
"""The worker of this process, which the DBOS workflow below hands each activation to."""


@DBOS.workflow(name=WORKFLOW_NAME)
async def run_activation(run_id: str, activation: int) -> str:
    """One activation of a run (`activation.py`)."""
    if _current is None:
        raise RuntimeError("a run's activation came to a process with no DbosWorker running")
    return await drive(_current, run_id, activation)


class DbosWorker:
    """Executes runs from the DBOS queue; see the module docstring."""

    def __init__(
        self,
        server: WorkflowServer,
        store: PostgresStore,
        *,
        concurrency: int = 8,
        executor_id: str | None = None,
        lease_seconds: float = 10.0,
        inbox_poll_seconds: float = 1.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be 1 or more, got {concurrency}")
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
        server.use_store(store)
        self.registry: WorkflowRegistry = server.registry
        self.store = store
        self.board = RunBoard(store)
        self.queue = RunQueue(store.dsn)
        self.concurrency = concurrency
        self.executor_id = (
            executor_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.lease = timedelta(seconds=lease_seconds)
        self.inbox_poll_seconds = inbox_poll_seconds
        self._woken: dict[str, asyncio.Event] = {}
        self.ready = asyncio.Event()
        """Set once DBOS is launched and the worker listens to the queue."""

    def watch(self, run_id: str) -> asyncio.Event:
        """The event set when a post reaches the inbox of `run_id`, which this worker
        drives (and renews the lease of) until `unwatch`."""
        woken = self._woken[run_id] = asyncio.Event()
        return woken

    def unwatch(self, run_id: str) -> None:
        self._woken.pop(run_id, None)

    async def run(self) -> None:
        """Execute runs until cancelled; DBOS is shut down on the way out."""
        global _current
        if _current is not None:
            raise RuntimeError(
                "a DbosWorker already runs in this process (DBOS is one per process)"
            )
        await self.store.get_run("")  # connects and migrates: fails here, named, if it cannot
        config: DBOSConfig = {
            "name": "agentflow",
            "system_database_url": self.store.dsn,
            "executor_id": self.executor_id,
            "application_version": APP_VERSION,
            "log_level": "WARNING",
        }
        DBOS(config=config)
        _current = self
        try:
            # Launched from this loop's own thread, so that DBOS runs the activations (async
            # workflows) on this loop: launched elsewhere, it runs them on a loop of its own
            # thread, which would share the store's connection pool (bound to one loop) and
            # the runs' wake-up events with this one's lease renewal and listener.
            DBOS.launch()
            await DBOS.register_queue_async(
                QUEUE_NAME, worker_concurrency=self.concurrency, polling_interval_sec=0.05
            )
            self.ready.set()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._renew_leases())
                tasks.create_task(self._reap())
                tasks.create_task(self._listen())
        finally:
            _current = None
            await asyncio.to_thread(DBOS.destroy, destroy_registry=False)
            await self.queue.close()

    async def _renew_leases(self) -> None:
        while True:
            driven = list(self._woken)
            try:
                held = await self.board.renew(self.executor_id, driven, self.lease)
            except StoreError as error:
                logger.error("worker %s could not renew its leases: %s", self.executor_id, error)
            else:
                for lost in set(driven) - held:
                    logger.error(
                        "worker %s lost the lease of run %r to another worker",
                        self.executor_id,
                        lost,
                    )
            await asyncio.sleep(self.lease.total_seconds() / 3)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 2)
            try:
                await self._reap_once()
            except StoreError as error:
                logger.error("worker %s could not reap: %s", self.executor_id, error)

    async def _reap_once(self) -> None:
        for run in await self.board.expired():
            status = await self.queue.status(run.run_id, run.activation)
            if status is not None and status.status in UNFINISHED:
                # Its worker is gone: DBOS hands the activation to one live worker.
                await self.queue.recover_id(activation_id(run.run_id, run.activation))
                await self.board.touch(run.run_id, run.activation)
            else:
                await self._requeue(run.run_id, run.activation)
        dead = await self.board.dead_workers()
        if dead:
            for workflow_id in await self.queue.held_by(dead):
                await self.queue.recover_id(workflow_id)
        for run in await self.board.stale_queued(self.lease * 3):
            status = await self.queue.status(run.run_id, run.activation)
            if status is None or status.status not in UNFINISHED:
                await self._requeue(run.run_id, run.activation)

    async def _requeue(self, run_id: str, activation: int) -> None:
        """The run's latest activation is over (or was never enqueued) though the run
        goes on: enqueue a new one."""
        fresh = await self.board.requeue(run_id, activation)
        if fresh is not None:
            await self.queue.enqueue(run_id, fresh)

    async def _listen(self) -> None:
        """Wake the runs this worker drives when their inbox gets a post."""
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self.store.dsn, autocommit=True)
            except psycopg.OperationalError as error:
                logger.error("worker %s cannot listen for posts: %s", self.executor_id, error)
                await asyncio.sleep(self.inbox_poll_seconds)
                continue
            async with connection:
                try:
                    await connection.execute(f"LISTEN {INBOX_CHANNEL}")
                    async for notice in connection.notifies():
                        woken = self._woken.get(notice.payload)
                        if woken is not None:
                            woken.set()
                except psycopg.OperationalError as error:  # the inbox is still read by time
                    logger.error("worker %s stopped hearing posts: %s", self.executor_id, error)
