"""`DBOSRunner`: the `Runner` of a server replica that runs nothing itself.

    server.use_runner(DBOSRunner(server, PostgresStore(dsn)))
    # `agentflow serve myapp:server --dsn ... --runner dbos` does this

A start adds the run to the board (`board.py`) and enqueues its first activation on the
DBOS queue, and is answered once both are in PostgreSQL: from then on some worker will
drive it, whatever dies. An event or a cancel goes to the run's inbox, and a run parked
waiting for an answer is queued again in the same transaction; the event is acknowledged
once it is in the inbox, from which the worker sends it into the run with its key, once.
A run's state and stream are read from the store, where the workers journal them, so any
replica answers for any run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from agentflow.context.serializers import JsonSerializer
from agentflow.errors import ContextSerdeError, WorkflowRuntimeError
from agentflow.events import Event, InputRequiredEvent, StartEvent
from agentflow.runners.dbos.board import RunBoard
from agentflow.runners.dbos.queue import RunQueue
from agentflow.runners.dbos.tail import StoreTail
from agentflow.runtime.lanes import check_step_takes
from agentflow.runtime.step_table import step_table_of
from agentflow.server.errors import ApiError
from agentflow.server.runs import RunView, stored_view
from agentflow.stores.base import TERMINAL_STATUSES
from agentflow.stores.checks import utf8_size_over

if TYPE_CHECKING:
    from agentflow.server.registry import ServedWorkflow
    from agentflow.server.workflow_server import WorkflowServer
    from agentflow.stores.postgres import PostgresStore


class DBOSRunner:
    """Enqueues runs for DBOS workers and reads them from the store; see the module
    docstring."""

    def __init__(self, server: WorkflowServer, store: PostgresStore) -> None:
        server.use_store(store)
        self.registry = server.registry
        self.store = store
        self.board = RunBoard(store)
        self.queue = RunQueue(store.dsn)
        self._events = StoreTail(store)

    @property
    def events(self) -> StoreTail:
        return self._events

    async def start(
        self, served: ServedWorkflow, start_event: StartEvent, run_id: str | None
    ) -> RunView:
        if run_id is None:
            run_id = uuid.uuid4().hex
        elif await self.store.get_run(run_id) is not None:
            raise ApiError(409, f"handler_id: a run {run_id!r} already exists")
        if not isinstance(start_event, served.start_event):
            raise ApiError(
                400,
                f"start_event: {served.name} starts with {served.start_event.__name__}, "
                f"got a {type(start_event).__name__}",
            )
        text = _serialized(start_event, "start_event")
        if not await self.board.add(run_id, served.name, text):
            raise ApiError(409, f"handler_id: a run {run_id!r} already exists")
        await self.queue.enqueue(run_id, 1)
        now = datetime.now(UTC)
        return RunView(run_id, served.name, "running", now, now)

    async def wait(self, run_id: str) -> RunView:
        """Read the run's status in the store until it has ended (as `StoreTail` reads its
        stream: a worker drives it, and this process hears nothing of it directly)."""
        pause = self._events.first_pause
        while True:
            info = await self.store.get_run(run_id)
            if info is not None and info.status in TERMINAL_STATUSES:
                break
            if info is None and await self.board.get(run_id) is None:
                break  # `get` says 404
            await asyncio.sleep(pause)
            pause = min(pause * 2, self._events.longest_pause)
        view = await self.get(run_id)
        if view is None:
            raise ApiError(404, f"no run {run_id!r}")
        return view

    async def send(self, run_id: str, event: Event, step: str | None, key: str | None) -> None:
        row = await self.board.get(run_id)
        served = None if row is None else self.registry.get(row.served_name)
        if served is None:
            raise ApiError(404, f"no run {run_id!r}")
        if step is not None:
            try:
                check_step_takes(
                    step_table_of(type(served.workflow)), served.workflow.workflow_name, step, event
                )
            except WorkflowRuntimeError as error:
                raise ApiError(400, f"step: {error}") from error
        text = _serialized(event, "event")
        size = utf8_size_over(text, self.store.max_record_bytes)
        if size is not None:
            raise ApiError(
                413,
                f"event: {size} bytes, over the store's limit of "
                f"{self.store.max_record_bytes} bytes for one record",
            )
        await self._post(run_id, "event", step, text, key)

    async def cancel(self, run_id: str) -> None:
        view = await self.get(run_id)
        if view is None:
            raise ApiError(404, f"no run {run_id!r}")
        if view.status != "running":
            raise ApiError(409, f"run {run_id!r} has ended ({view.status})")
        await self._post(run_id, "cancel", None, None, None)
        await self.wait(run_id)

    async def _post(
        self,
        run_id: str,
        kind: Literal["event", "cancel"],
        step: str | None,
        data: str | None,
        key: str | None,
    ) -> None:
        """Post to the run's inbox, and enqueue the activation that wakes it if it was
        parked (should this process die in between, a worker's reaper enqueues it)."""
        posted = await self.board.post(run_id, kind, step, data, key)
        if posted.requeue is not None:
            await self.queue.enqueue(run_id, posted.requeue)

    async def get(self, run_id: str) -> RunView | None:
        info = await self.store.get_run(run_id)
        if info is None:
            row = await self.board.get(run_id)
            if row is None or self.registry.get(row.served_name) is None:
                return None
            now = datetime.now(UTC)  # queued: no worker has put it in the store yet
            return RunView(run_id, row.served_name, "running", now, now)
        served = self.registry.for_stored(info.workflow)
        if served is None:
            return None
        view = stored_view(info, served.name)
        if info.status not in TERMINAL_STATUSES:
            async for batch in self._events.stored(run_id, -1):
                view.asked.extend(e for _, e in batch if isinstance(e, InputRequiredEvent))
            view.answered = min(len(view.asked), await self.board.sent_count(run_id))
        return view

    async def list(self) -> AsyncIterator[RunView]:
        for row in await self.board.not_started():
            if self.registry.get(row.served_name) is not None:
                now = datetime.now(UTC)
                yield RunView(row.run_id, row.served_name, "running", now, now)
        async for info in self.store.list_runs():
            served = self.registry.for_stored(info.workflow)
            if served is not None:
                yield stored_view(info, served.name)

    async def resume_unfinished(self) -> int:
        """Nothing: the workers go on with the runs (a replica runs none)."""
        return 0

    async def close(self) -> None:
        self._events.stop()
        await self.queue.close()


def _serialized(event: Event, where: str) -> str:
    try:
        return JsonSerializer().serialize(event, where)
    except ContextSerdeError as error:
        raise ApiError(422, str(error)) from error
