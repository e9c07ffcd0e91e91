"""One activation of a run on a worker: drive it until it ends, parks or is let go.

The activation takes the run's lease (`RunBoard.claim`), starts the run in the store (its
first activation) or resumes it from its journal, and then, until the run ends:

- sends it what its inbox holds, in order, each with its inbox key as idempotency key, so
  that an event journalled before a crash is not sent twice;
- parks it when it waits for nothing but events from outside: the run is suspended
  (`WorkflowHandler.suspend_if_waiting`, every record written) and the row is marked
  parked in a transaction that finds the inbox empty; if something came meanwhile, the run
  is resumed at once and driven on. A parked run holds no memory anywhere; a post to its
  inbox enqueues its next activation.
- lets it go when the worker stops (the run is suspended and queued again for another
  worker) or has lost its lease to another worker (suspended, nothing more: the other one
  drives it now).

No DBOS step is called: DBOS sees one workflow per activation, and recovery re-executes it
from its start, which resumes the run from its journal, step-exact.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Literal

from agentflow.context.serializers import JsonSerializer
from agentflow.errors import (
    ContextSerdeError,
    RecordTooLargeError,
    RunSuspendedError,
    StoreError,
    WorkflowRuntimeError,
)
from agentflow.events import Event, StartEvent
from agentflow.stores.base import TERMINAL_STATUSES

if TYPE_CHECKING:
    from agentflow.handler import WorkflowHandler
    from agentflow.runners.dbos.board import BoardRun, InboxItem
    from agentflow.runners.dbos.worker import DBOSWorker

logger = logging.getLogger("agentflow.runners.dbos")

Outcome = Literal["ended", "parked", "superseded", "released", "unserved", "handed back"]
StopReason = Literal["shutdown", "lease lost"]


class Driving:
    """A run a worker drives: what wakes it, and how the worker lets it go."""

    __slots__ = ("handler", "stopping", "wake_at", "woken")

    def __init__(self) -> None:
        self.woken = asyncio.Event()
        """Set when a post reaches the run's inbox."""
        self.handler: WorkflowHandler[Any] | None = None
        self.stopping: StopReason | None = None
        self.wake_at: float | None = None
        """When the parked run must be woken for a wait of its to time out."""

    def let_go(self, reason: StopReason) -> None:
        """Suspend the run here (see the module docstring); its activation ends soon."""
        self.stopping = self.stopping or reason
        if self.handler is not None:
            self.handler.suspend()
        self.woken.set()


async def drive(worker: DBOSWorker, run_id: str, activation: int) -> Outcome:
    """Drive `run_id` for its `activation`; see the module docstring."""
    claimed = await worker.board.claim(run_id, activation, worker.executor_id, worker.lease)
    if claimed is None:
        return "superseded"
    served = worker.registry.get(claimed.served_name)
    if served is None:
        # Its lease runs out, and a worker that serves it takes it (a rolling deploy).
        logger.error("run %r: this worker does not serve %r", run_id, claimed.served_name)
        return "unserved"
    driving = worker.watch(run_id)
    try:
        ended = False
        while driving.stopping is None:
            handler = await _open(served.workflow, claimed)
            ended = handler is None or await _drive_once(worker, run_id, handler, driving)
            if ended or driving.stopping is not None:
                break
            verdict = await worker.board.park(
                run_id, activation, worker.executor_id, driving.wake_at
            )
            if verdict != "busy":  # else something came meanwhile: resume it, drive on
                return "parked" if verdict == "parked" else "superseded"
        if ended:
            await worker.board.end(run_id, activation)
            return "ended"
        if driving.stopping == "shutdown":
            worker.hand_back(run_id, activation, held=True)
            return "released"
        return "superseded"  # the lease was lost: another worker drives it
    finally:
        worker.unwatch(run_id, driving)


async def _drive_once(
    worker: DBOSWorker, run_id: str, handler: WorkflowHandler[Any], driving: Driving
) -> bool:
    """Drive `handler` until it ends (True) or is suspended (False); whatever fails on the
    way, the run is suspended and its tasks gone before this returns."""
    driving.handler = handler
    if driving.stopping is not None:
        handler.suspend()
    pump = asyncio.get_running_loop().create_task(_drain(handler))
    try:
        return await _follow(worker, run_id, handler, driving)
    except BaseException:
        handler.suspend()
        await asyncio.wait([handler])
        raise
    finally:
        driving.handler = None
        await pump


async def _open(workflow: Any, claimed: BoardRun) -> WorkflowHandler[Any] | None:
    """The run's handler: started in the store by its first activation, else resumed;
    None when the store has it ended already."""
    store = workflow.store
    info = await store.get_run(claimed.run_id)
    if info is None:
        start = JsonSerializer().deserialize_at(claimed.start_event, "start_event")
        if not isinstance(start, StartEvent):
            raise TypeError(f"run {claimed.run_id!r}: its start event is a {type(start)}")
        handler: WorkflowHandler[Any] = workflow.run(start_event=start, run_id=claimed.run_id)
        if not await handler.stored():
            await asyncio.wait([handler])
            raise StoreError(f"run {claimed.run_id!r} could not be put in the store")
        return handler
    if info.status in TERMINAL_STATUSES:
        return None
    resumed: WorkflowHandler[Any] = await workflow.resume(claimed.run_id)
    return resumed


async def _drain(handler: WorkflowHandler[Any]) -> None:
    """Be the run's stream consumer: the store keeps the stream, which replicas follow."""
    async for _ in handler.numbered_events():
        pass


async def _follow(
    worker: DBOSWorker, run_id: str, handler: WorkflowHandler[Any], driving: Driving
) -> bool:
    """Deliver the inbox and try to park at each status change; True once the run has
    ended, False once it is suspended."""
    woken = driving.woken
    woken.set()  # read the inbox first
    while not handler.done():
        if woken.is_set():
            woken.clear()
            for item in await worker.board.inbox(run_id):
                if driving.stopping is not None or not await _deliver(handler, item):
                    break  # let go, or suspended meanwhile: the item stays for the next
                await worker.board.delivered(item)
        if handler.done() or handler.suspend_if_waiting():
            driving.wake_at = handler.wait_deadline()
            break
        wake = asyncio.ensure_future(woken.wait())
        try:
            _, pending = await asyncio.wait(
                [handler, handler.status_changed(), wake],
                timeout=worker.inbox_poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            wake.cancel()
        if len(pending) == 3:
            woken.set()  # nothing for a while: read the inbox anyway (a NOTIFY can be lost)
    try:
        await handler
    except RunSuspendedError:
        return False
    except Exception as error:  # the run's own failure: its end is in the store
        logger.info("run %r ended with %s: %s", run_id, type(error).__name__, error)
    info = await worker.store.get_run(run_id)
    if info is None or info.status not in TERMINAL_STATUSES:
        # Its end could not be written: the store failed. The activation fails, and the
        # run's lease runs out, so that another activation goes on with it.
        raise StoreError(f"run {run_id!r} ended, but its end is not in the store")
    return True


async def _deliver(handler: WorkflowHandler[Any], item: InboxItem) -> bool:
    """Send the item into the run; True once it is done with (taken, or the run ended
    for good without it), False when the run was suspended first and the item must wait
    for the run's next activation. One the run cannot take (the replica checks what it
    can before posting, so only a workflow changed since) is dropped, and logged."""
    if item.kind == "cancel":
        if not handler.done():
            await handler.cancel_run()
        return _ended_for_good(handler)
    try:
        event = JsonSerializer().deserialize_at(item.data or "", f"inbox item {item.id}")
        if not isinstance(event, Event):
            raise ContextSerdeError(f"inbox item {item.id} holds a {type(event).__name__}")
        taken = await handler.send_event_confirmed(event, item.step, idempotency_key=item.key)
    except (WorkflowRuntimeError, ContextSerdeError, RecordTooLargeError) as error:
        logger.error("run %r did not take inbox item %d: %s", handler.run_id, item.id, error)
        return True
    return taken or _ended_for_good(handler)


def _ended_for_good(handler: WorkflowHandler[Any]) -> bool:
    """True when the run has ended, and not by being suspended here."""
    if not handler.done():
        return False
    return handler.cancelled() or not isinstance(handler.exception(), RunSuspendedError)
