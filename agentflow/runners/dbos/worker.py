"""`DBOSWorker`: a process that executes runs taken from the DBOS queue.

    worker = DBOSWorker(server, PostgresStore(dsn), concurrency=8)
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
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING

from agentflow.errors import StoreError
from agentflow.extras import extra_needed
from agentflow.runners.dbos.activation import Driving, drive
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

_current: DBOSWorker | None = None
"""The worker of this process, which the DBOS workflow below hands each activation to."""


@DBOS.workflow(name=WORKFLOW_NAME)
async def run_activation(run_id: str, activation: int) -> str:
    """One activation of a run (`activation.py`)."""
    if _current is None:
        raise RuntimeError("a run's activation came to a process with no DBOSWorker running")
    if _current.stopping:
        _current.hand_back(run_id, activation, held=False)
        return "handed back"
    return await drive(_current, run_id, activation)


class DBOSWorker:
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
        self._driving: dict[str, Driving] = {}
        self._all_let_go: asyncio.Event | None = None
        self._handed_back: list[tuple[str, int, bool]] = []
        self.ready = asyncio.Event()
        """Set once DBOS is launched and the worker listens to the queue."""

    @property
    def stopping(self) -> bool:
        """True once the worker stops: it takes no run more (`hand_back`)."""
        return self._all_let_go is not None

    def watch(self, run_id: str) -> Driving:
        """Note that this worker drives `run_id` (and renews its lease) until `unwatch`."""
        driving = self._driving[run_id] = Driving()
        return driving

    def unwatch(self, run_id: str, driving: Driving) -> None:
        if self._driving.get(run_id) is driving:
            del self._driving[run_id]
        if not self._driving and self._all_let_go is not None:
            self._all_let_go.set()

    def hand_back(self, run_id: str, activation: int, held: bool) -> None:
        """Queue the run again once this stopping worker no longer takes runs from the
        queue (`held`: this worker had claimed it)."""
        self._handed_back.append((run_id, activation, held))

    async def run(self) -> None:
        """Execute runs until cancelled; DBOS is shut down on the way out."""
        global _current
        if _current is not None:
            raise RuntimeError(
                "a DBOSWorker already runs in this process (DBOS is one per process)"
            )
        async with self.store.connection():
            pass  # connected and migrated: a database it cannot use fails here, named
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
            # Launched from the loop's own thread, so that DBOS runs the activations on this
            # loop, beside the store's connection pool, rather than on a loop of its own.
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
            await self._let_all_go()
            _current = None
            # No activation is taken from now on.
            await asyncio.to_thread(DBOS.destroy, destroy_registry=False)
            # DBOS made its thread pool the loop's default, and has shut it down.
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
            await self._requeue_handed_back()
            await self.queue.close()

    async def _let_all_go(self) -> None:
        """Take no run more, and suspend every run this worker drives, waiting (a lease's
        time at most) until their activations have handed them back."""
        self._all_let_go = asyncio.Event()
        if not self._driving:
            return
        for driving in list(self._driving.values()):
            driving.let_go("shutdown")
        try:
            await asyncio.wait_for(self._all_let_go.wait(), self.lease.total_seconds())
        except TimeoutError:
            logger.error(
                "worker %s stopped with %d runs not let go: their leases will run out",
                self.executor_id,
                len(self._driving),
            )

    async def _requeue_handed_back(self) -> None:
        """Queue again, for the other workers, the runs this worker let go as it stopped."""
        for run_id, activation, held in self._handed_back:
            try:
                fresh = await self.board.requeue(
                    run_id, activation, self.executor_id if held else None
                )
                if fresh is not None:
                    await self.queue.enqueue(run_id, fresh)
            except Exception:  # its row stays queued: a reaper queues it again later
                logger.exception("worker %s could not hand run %r back", self.executor_id, run_id)

    async def _renew_leases(self) -> None:
        while True:
            driven = list(self._driving)
            try:
                held = await self.board.renew(self.executor_id, driven, self.lease)
            except StoreError as error:
                logger.error("worker %s could not renew its leases: %s", self.executor_id, error)
            else:
                for lost in set(driven) - held:
                    driving = self._driving.get(lost)
                    if driving is not None:  # else its activation has just ended
                        logger.error(
                            "worker %s lost the lease of run %r: it lets the run go",
                            self.executor_id,
                            lost,
                        )
                        driving.let_go("lease lost")
            await asyncio.sleep(self.lease.total_seconds() / 3)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 2)
            try:
                await self._reap_once()
            except Exception:  # the database or DBOS failed: the next scan tries again
                logger.exception("worker %s could not reap", self.executor_id)

    async def _reap_once(self) -> None:
        expired = await self.board.expired()
        statuses = await self.queue.statuses([(r.run_id, r.activation) for r in expired])
        for run in expired:
            workflow_id = activation_id(run.run_id, run.activation)
            status, _ = statuses.get(workflow_id, ("", ""))
            if status not in UNFINISHED:
                await self._requeue(run.run_id, run.activation)
            elif await self.board.release_expired(run.run_id, run.activation):
                # Its worker is gone: DBOS hands the activation to one live worker. Only
                # the reaper that released the row recovers it.
                await self.queue.recover_id(workflow_id)
        dead = await self.board.dead_workers()
        if dead:
            for workflow_id in await self.queue.held_by(dead):
                await self.queue.recover_id(workflow_id)
            await self.board.forget_workers(dead)
        stale = await self.board.stale_queued(self.lease * 3)
        if stale:
            statuses = await self.queue.statuses([(r.run_id, r.activation) for r in stale])
            live = await self.board.live_workers() | {self.executor_id}
            for run in stale:
                workflow_id = activation_id(run.run_id, run.activation)
                status, executor = statuses.get(workflow_id, ("", ""))
                if status not in UNFINISHED:
                    await self._requeue(run.run_id, run.activation)
                elif status == "PENDING" and executor not in live:
                    # Taken by a worker that died before it ever said it was alive.
                    await self.queue.recover_id(workflow_id)
        for run_id, activation in await self.board.wake_due():
            await self.queue.enqueue(run_id, activation)

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
                        driving = self._driving.get(notice.payload)
                        if driving is not None:
                            driving.woken.set()
                except psycopg.OperationalError as error:  # the inbox is still read by time
                    logger.error("worker %s stopped hearing posts: %s", self.executor_id, error)
