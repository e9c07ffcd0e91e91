"""`LocalRunner`: the `Runner` that runs every workflow in the server's own process.

Each run goes on the server's event loop, journalled in the server's store (`Workflow(store=
...)`), so a run outlives the process that started it: at start-up `resume_unfinished` goes
on with every unfinished run whose workflow is served.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agentflow.errors import (
    ContextSerdeError,
    RecordTooLargeError,
    StoreError,
    WorkflowRuntimeError,
)
from agentflow.events import (
    Event,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)
from agentflow.server.errors import ApiError
from agentflow.server.runs import RunView, note_end, stored_view
from agentflow.server.streams import RunEvents
from agentflow.stores.base import TERMINAL_STATUSES

if TYPE_CHECKING:
    from agentflow.handler import WorkflowHandler
    from agentflow.server.registry import ServedWorkflow, WorkflowRegistry
    from agentflow.stores.base import RunStore

logger = logging.getLogger("agentflow.server")


class _LiveRun:
    """A run this process drives: its handler and what its stream told so far."""

    __slots__ = ("finished", "handler", "keys", "pump", "served", "view")

    def __init__(self, served: ServedWorkflow, handler: WorkflowHandler[Any], view: RunView):
        self.served = served
        self.handler = handler
        self.view = view
        self.keys: dict[str, asyncio.Future[None]] = {}
        """Idempotency key -> the send made with it by this process (the run's journal
        knows those sent before a restart)."""
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pump: asyncio.Task[None] | None = None


class LocalRunner:
    """Runs in this process, journalled in `store`; see the module docstring."""

    def __init__(
        self, registry: WorkflowRegistry, store: RunStore, *, keep_finished: int = 1000
    ) -> None:
        self.registry = registry
        self.store = store
        self.events = RunEvents(store)
        self.keep_finished = keep_finished
        """How many ended runs keep their events (and result) in memory; older ones are
        read from the store, their stream gone."""
        self._live: dict[str, _LiveRun] = {}
        self._finished: deque[str] = deque()

    async def start(
        self, served: ServedWorkflow, start_event: StartEvent, run_id: str | None
    ) -> RunView:
        if run_id is None:
            run_id = uuid.uuid4().hex  # no run has it: no store read on the way
        elif run_id in self._live or await self.store.get_run(run_id) is not None:
            raise ApiError(409, f"handler_id: a run {run_id!r} already exists")
        try:
            handler = served.workflow.run(start_event=start_event, run_id=run_id)
        except (WorkflowRuntimeError, ContextSerdeError, TypeError) as error:
            raise ApiError(400, f"start_event: the run cannot start: {error}") from error
        now = datetime.now(UTC)
        view = self._follow(served, handler, RunView(run_id, served.name, "running", now, now))
        # Answered only once the run is in the store: a crash after the answer cannot lose it.
        if not await handler.stored():
            live = self._live[run_id]
            await asyncio.shield(live.finished)
            raise ApiError(500, f"the run could not be stored: {view.error}")
        return view

    def _follow(
        self,
        served: ServedWorkflow,
        handler: WorkflowHandler[Any],
        view: RunView,
        stored_before: int = 0,
    ) -> RunView:
        live = _LiveRun(served, handler, view)
        # Its outcome reaches clients as the terminal event; a run the loop's end stops
        # (the server shut down) ends with an error nobody else reads.
        handler.add_done_callback(_read_outcome)
        self._live[view.run_id] = live
        self.events.open(view.run_id, stored_before)
        live.pump = asyncio.get_running_loop().create_task(self._pump(live))
        return view

    async def _pump(self, live: _LiveRun) -> None:
        """Be the run's one stream consumer: number its events, note its questions and its
        end."""
        view = live.view
        try:
            async for seq, event in live.handler.numbered_events():
                view.updated_at = datetime.now(UTC)
                if isinstance(event, InputRequiredEvent):
                    # A question asked again by a step re-run after a restart is stored
                    # once, but it is open again.
                    view.asked.append(event)
                if isinstance(event, StopEvent):
                    note_end(view, event)
                self.events.append(view.run_id, seq, event)
            await asyncio.wait([live.handler])
        finally:
            view.asked.clear()
            view.answered = 0
            if not live.finished.done():
                live.finished.set_result(None)
            self._finished.append(view.run_id)
            while len(self._finished) > self.keep_finished:
                evicted = self._finished.popleft()
                del self._live[evicted]
                self.events.forget(evicted)

    async def wait(self, run_id: str) -> RunView:
        live = self._live.get(run_id)
        if live is None:  # it ended and left memory already: the store has its end
            view = await self.get(run_id)
            if view is None:
                raise ApiError(404, f"no run {run_id!r}")
            return view
        await asyncio.shield(live.finished)
        return live.view

    async def send(self, run_id: str, event: Event, step: str | None, key: str | None) -> None:
        live = self._live.get(run_id)
        if live is None:
            info = await self.store.get_run(run_id)
            if info is None or self.registry.for_stored(info.workflow) is None:
                raise ApiError(404, f"no run {run_id!r}")
            if info.status in TERMINAL_STATUSES:
                raise ApiError(409, f"run {run_id!r} has ended ({info.status})")
            raise ApiError(409, f"run {run_id!r} is not running in this server")
        if key is not None:
            earlier = live.keys.get(key)
            if earlier is not None:
                await asyncio.shield(earlier)  # the first send's outcome is this one's
                return
            if key in live.handler.idempotency_keys():
                return  # journalled by this run before the server restarted
        if live.view.status != "running":
            raise ApiError(409, f"run {run_id!r} has ended ({live.view.status})")
        sending = asyncio.get_running_loop().create_task(self._send(live, event, step, key))
        if key is not None:
            live.keys[key] = sending
            sending.add_done_callback(lambda done: _forget_failed(live.keys, key, done))
        await asyncio.shield(sending)

    async def _send(self, live: _LiveRun, event: Event, step: str | None, key: str | None) -> None:
        try:
            taken = await live.handler.send_event_confirmed(event, step, idempotency_key=key)
        except WorkflowRuntimeError as error:  # no such step, or it does not take the event
            raise ApiError(400, f"step: {error}") from error
        except RecordTooLargeError as error:  # over the store's limit of one record
            raise ApiError(413, str(error)) from error
        except ContextSerdeError as error:  # a value its serializer cannot write
            raise ApiError(422, str(error)) from error
        if not taken:
            raise ApiError(409, f"run {live.view.run_id!r} has ended and did not take the event")
        live.view.answered += 1

    async def cancel(self, run_id: str) -> None:
        live = self._live.get(run_id)
        if live is None:
            view = await self.get(run_id)
            if view is None:
                raise ApiError(404, f"no run {run_id!r}")
            raise ApiError(409, f"run {run_id!r} is not running in this server ({view.status})")
        if live.finished.done() or live.view.status != "running":
            raise ApiError(409, f"run {run_id!r} has ended ({live.view.status})")
        await live.handler.cancel_run()
        await asyncio.shield(live.finished)

    async def get(self, run_id: str) -> RunView | None:
        live = self._live.get(run_id)
        if live is not None:
            return live.view
        info = await self.store.get_run(run_id)
        if info is None:
            return None
        served = self.registry.for_stored(info.workflow)
        return None if served is None else stored_view(info, served.name)

    async def list(self) -> AsyncIterator[RunView]:
        for live in list(self._live.values()):
            yield live.view
        async for info in self.store.list_runs():
            served = self.registry.for_stored(info.workflow)
            if served is not None and info.run_id not in self._live:
                yield stored_view(info, served.name)

    async def resume_unfinished(self) -> int:
        unfinished = [
            info
            for status in ("running", "waiting")
            async for info in self.store.list_runs(status=status)
        ]
        resumed = 0
        for info in unfinished:
            served = self.registry.for_stored(info.workflow)
            if served is None or info.run_id in self._live:
                continue
            try:
                # Read before the run goes on: from then on, it streams after these.
                stored = await self.store.stream_position(info.run_id)
                handler = await served.workflow.resume(info.run_id)
            except (StoreError, ContextSerdeError, WorkflowRuntimeError) as error:
                logger.error("run %r of %r was not resumed: %s", info.run_id, served.name, error)
                continue
            view = RunView(info.run_id, served.name, "running", info.created_at, info.updated_at)
            self._follow(served, handler, view, stored.next_seq)
            resumed += 1
        return resumed

    async def close(self) -> None:
        self.events.stop()
        pumps = [live.pump for live in self._live.values() if live.pump is not None]
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


def _read_outcome(handler: asyncio.Future[Any]) -> None:
    if not handler.cancelled():
        handler.exception()


def _forget_failed(
    keys: dict[str, asyncio.Future[None]], key: str, done: asyncio.Future[None]
) -> None:
    """A send that failed did not happen: a retry with its key may try again."""
    if done.cancelled() or done.exception() is not None:
        keys.pop(key, None)
