"""`RunQueue`: the DBOS queue that hands runs' activations to worker processes.

Every process of a deployment (server replicas and workers) enqueues and inspects
activations through a `DBOSClient`, which needs no launched DBOS; only workers launch DBOS
and execute the activations (`worker.py`). The DBOS workflow's name and application
version are agentflow's own, not the user's code: an activation only resumes a run from
its journal, so a worker of any release of the user's code may take it (the journal
refuses a run of another workflow version by itself, `RunVersionError`).
"""

from __future__ import annotations

import asyncio

from agentflow.extras import extra_needed
from agentflow.runners.dbos.board import activation_id

with extra_needed("dbos", "the DBOS runner"):
    from dbos import DBOS, DBOSClient, EnqueueOptions

QUEUE_NAME = "agentflow-runs"
WORKFLOW_NAME = "agentflow.run_activation"
APP_VERSION = "agentflow-runner-1"
UNFINISHED = ("ENQUEUED", "PENDING", "DELAYED")
"""DBOS statuses of an activation that some worker will (still) execute."""


class RunQueue:
    """Enqueue, inspect and recover activations; see the module docstring."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._client: DBOSClient | None = None
        self._opening = asyncio.Lock()

    async def _opened(self) -> DBOSClient:
        async with self._opening:
            if self._client is None:
                # DBOS's tables are made by whichever process comes first (a replica may
                # start before any worker); its migrations are safe to run concurrently.
                await asyncio.to_thread(DBOS.migrate, self.dsn)
                self._client = await asyncio.to_thread(DBOSClient, system_database_url=self.dsn)
            return self._client

    async def enqueue(self, run_id: str, activation: int) -> None:
        """Enqueue the activation (a second enqueue of one is a no-op, by its id)."""
        client = await self._opened()
        options = EnqueueOptions(
            queue_name=QUEUE_NAME,
            workflow_name=WORKFLOW_NAME,
            workflow_id=activation_id(run_id, activation),
            app_version=APP_VERSION,
        )
        await client.enqueue_async(options, run_id, activation)

    async def statuses(self, activations: list[tuple[str, int]]) -> dict[str, tuple[str, str]]:
        """The DBOS status (`ENQUEUED`, `PENDING`, `SUCCESS`, ...) and the executor of each
        `(run_id, activation)`, by workflow id; one never enqueued is left out."""
        if not activations:
            return {}
        client = await self._opened()
        found = await client.list_workflows_async(
            workflow_ids=[activation_id(run_id, number) for run_id, number in activations],
            load_input=False,
            load_output=False,
        )
        return {status.workflow_id: (status.status, status.executor_id or "") for status in found}

    async def held_by(self, executor_ids: list[str]) -> list[str]:
        """The ids of the activations the given executors had dequeued and not finished."""
        client = await self._opened()
        found = await client.list_workflows_async(
            status="PENDING",
            executor_id=executor_ids,
            name=WORKFLOW_NAME,
            load_input=False,
            load_output=False,
        )
        return [status.workflow_id for status in found]

    async def recover_id(self, workflow_id: str) -> None:
        """Hand an activation whose worker died to the queue again: a live worker takes it
        through DBOS's own dequeue, which admits one."""
        client = await self._opened()
        await client.resume_workflow_async(workflow_id, queue_name=QUEUE_NAME)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.destroy)
