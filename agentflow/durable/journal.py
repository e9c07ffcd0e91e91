"""`RunJournal`: the live side of a durable run's journal.

It numbers what enters the run (events get ids, records get seqs), writes records to the
store, and keeps the same `Fold` a resume will build, so that a checkpoint is that fold.

Writes of one run go out one at a time, in seq order (every store requires a write's
records to come after those stored); whatever is queued while one is under way goes out
together in the next. Concurrent workers of a fan-out therefore share writes, and with
them commits, without any record being written out of order. A caller's `commit` returns
once its record is durable. A write that fails fails the run with that error: the run
never goes on without durability, and never ends as completed.

The run's `Durability` decides when a step's outputs are routed. `"sync"`: once its record
is durable (`record` is `commit`). `"async"`: at once, the record queued behind (`record`
queues it and returns); as writes go out in seq order, what a crash leaves is a prefix of
the journal. `"exit"`: records are folded into the live fold and not written (`queue` and
`enqueue` only fold); the fold is written as a checkpoint when the run waits for an event
from outside and with the run's end. Each mode binds its functions once, when the journal
is made, so that a step's completion costs what it did before in `"sync"`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentflow.context.serializers import BaseSerializer
from agentflow.durable.ending import run_end
from agentflow.durable.fold import Fold
from agentflow.durable.stream import RunStream
from agentflow.errors import (
    ContextSerdeError,
    RecordTooLargeError,
    StoreError,
    StoreWriteError,
    WorkflowCancelledByUser,
)
from agentflow.events import Event, StopEvent
from agentflow.stores.base import Checkpoint, JournalRecord, RunStatus, RunStore
from agentflow.stores.checks import utf8_size_over

if TYPE_CHECKING:
    from agentflow.durable import Durability
    from agentflow.runtime.execution import Execution
    from agentflow.runtime.outcome import Outcome


FAILED: Any = object()
"""What `RunJournal.completed` returns when the journal failed the run."""


class ExecutionLog:
    """What one step execution did that its records are numbered by."""

    __slots__ = ("sends",)

    def __init__(self) -> None:
        self.sends = 0


class RunJournal:
    """One durable run's journal; see the module docstring."""

    FAILED = FAILED

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        fold: Fold,
        *,
        next_seq: int = 0,
        next_stream_seq: int = 0,
        replayed_stream: dict[str, int] | None = None,
        checkpoint_every: int,
        durability: Durability,
        on_failure: Callable[[BaseException], None],
        state_text: Callable[[], str],
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.fold = fold
        self.serializer: BaseSerializer = fold.serializer
        self.next_seq = next_seq
        self.checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
        self._ids: dict[int, tuple[Event, str]] = {}
        """id(event) → (event, its journal id), for the events the run still refers to:
        the fold says when it lets go of one (`Fold.forgotten`)."""
        fold.forgotten = self._forget
        self._queue: list[tuple[JournalRecord, asyncio.Future[None] | None]] = []
        self._writing = False
        self._writer: asyncio.Task[None] | None = None
        self._status: RunStatus | None = None
        """A status change to write with the next batch."""
        self._status_written: list[asyncio.Future[None]] = []
        self.creating: asyncio.Task[None] | None = None
        """The task putting a new run in the store (held here so that it is not lost)."""
        self.created: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done once the run is in the store (at once for a resumed run); its writes wait
        for it, so that nothing is ever written to another run that has the same id."""
        self._drained = asyncio.Event()
        self._drained.set()
        self._on_failure = on_failure
        self.failure: StoreError | None = None
        self.logs: dict[Execution, ExecutionLog] = {}
        self._unrecorded: set[Execution] = set()
        self.replayed_onces: dict[Execution, dict[str, str]] = {}
        """For a re-run execution: what its `ctx.once` calls returned before the crash."""
        self.replayed_sends: dict[Execution, list[str]] = {}
        """For a re-run execution: the ids of the events it had sent before the crash; its
        first sends are these, already routed, and are not sent again."""
        self.stream = RunStream(next_stream_seq, replayed_stream, behind=durability != "exit")
        """The run's stream: written with the records (in `"exit"`, with checkpoints)."""
        self.last_state: str | None = fold.state
        self.state_text = state_text
        """The run's state now, serialized as the journal keeps it."""
        self.durability = durability
        self.routes_at_once = durability != "sync"
        """Whether what a record holds is routed without waiting until it is durable."""
        self.writes_records = durability != "exit"
        self._folded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._folded.set_result(None)
        self.enqueue: Callable[[str, str | None, dict[str, Any]], asyncio.Future[None] | None]
        """Queue one record, in seq order, and fold it into the live fold now; the future
        is done once the record is durable (at once in `"exit"`, which only folds it).
        None when the journal has failed the run."""
        self.queue: Callable[[str, str | None, dict[str, Any]], bool]
        """`enqueue` for a record nobody waits for; False when the journal has failed the
        run."""
        self.record: Callable[[str, str | None, dict[str, Any]], Awaitable[bool]]
        """A step's completion record: `commit` in `"sync"`, `queue` otherwise."""
        if self.writes_records:
            self.enqueue, self.queue = self._enqueue_written, self._queue_written
        else:
            self.enqueue, self.queue = self._enqueue_folded, self._fold
        self.record = self.commit if durability == "sync" else self._record_behind

    # Events and their ids

    def enter(
        self,
        event: Event,
        to_step: str | None = None,
        *,
        routed: bool = True,
        made_by: str | None = None,
    ) -> dict[str, Any]:
        """Give `event` the next id (and, if the same object entered before, a copy of
        its own: one object, one id) and return its journal entry. A routed event's entry
        names the steps it goes to (`to_step`, or those that accept it), so that a resume
        routes it as this run did, whatever the code says by then. `made_by`: the step
        that made the event, named if it is refused (see `journalled_text`)."""
        if id(event) in self._ids:
            event = event.model_copy()
        event_id = str(self.fold.next_event)
        value = self.journalled_text(event, f"event {event_id}", made_by)
        self.fold.next_event += 1
        self.know(event, event_id)
        entry: dict[str, Any] = {"id": event_id, "value": value}
        if routed:
            entry["to"] = (
                [to_step]
                if to_step is not None
                else [spec.name for spec in self.fold.table.route(type(event))]
            )
        return entry

    def journalled_text(self, event: Event, where: str, made_by: str | None) -> str:
        """`event` as its record holds it. An event the serializer cannot write, or one
        over the store's size limit, is refused with an error naming the step that made it
        and its type: a durable run cannot go on with an event it could not give back after
        a crash."""
        origin = f"step '{made_by}'" if made_by is not None else "the caller"
        kind = type(event).__name__
        try:
            text = self.serializer.serialize(event, where)
        except ContextSerdeError as error:
            raise ContextSerdeError(
                f"durable run {self.run_id!r}: {origin} made a {kind} that cannot be "
                f"journalled: {error}"
            ) from error
        limit = self.store.max_record_bytes
        size = utf8_size_over(text, limit)
        if size is not None:
            raise RecordTooLargeError(
                f"durable run {self.run_id!r}: {origin} made a {kind} of {size} bytes, over "
                f"the store's limit of {limit} bytes (its `max_record_bytes`)"
            )
        return text

    def know(self, event: Event, event_id: str) -> None:
        """Remember `event`'s id (the fold keeps the object while it is referenced)."""
        self._ids[id(event)] = (event, event_id)
        self.fold.live[event_id] = event

    def _forget(self, event: Event) -> None:
        known = self._ids.get(id(event))
        if known is not None and known[0] is event:
            del self._ids[id(event)]

    def id_of(self, event: Event) -> str | None:
        known = self._ids.get(id(event))
        return known[1] if known is not None and known[0] is event else None

    def log_of(self, execution: Execution) -> ExecutionLog:
        log = self.logs.get(execution)
        if log is None:
            log = self.logs[execution] = ExecutionLog()
        return log

    # Records

    def _enqueue_written(
        self, kind: str, key: str | None, body: dict[str, Any]
    ) -> asyncio.Future[None] | None:
        if self.failure is not None:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._append(kind, key, body, future, loop)
        return future

    def _queue_written(self, kind: str, key: str | None, body: dict[str, Any]) -> bool:
        if self.failure is not None:
            return False
        self._append(kind, key, body, None, asyncio.get_running_loop())
        return True

    def _append(
        self,
        kind: str,
        key: str | None,
        body: dict[str, Any],
        future: asyncio.Future[None] | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        data = json.dumps(body)
        record = JournalRecord(self.next_seq, kind, key, data)
        self.next_seq += 1
        self.fold.apply(kind, key, data)
        self._queue.append((record, future))
        if not self._writing:
            self._start_writer(loop)

    def _fold(self, kind: str, key: str | None, body: dict[str, Any]) -> bool:
        """`"exit"`: the record is only folded (no seq: nothing is written), so that the
        next checkpoint holds it."""
        if self.failure is not None:
            return False
        self.fold.apply(kind, key, json.dumps(body))
        return True

    def _enqueue_folded(
        self, kind: str, key: str | None, body: dict[str, Any]
    ) -> asyncio.Future[None] | None:
        return self._folded if self._fold(kind, key, body) else None

    async def _record_behind(self, kind: str, key: str | None, body: dict[str, Any]) -> bool:
        return self.queue(kind, key, body)

    def note_status(self, status: RunStatus) -> asyncio.Future[None] | None:
        """The run is now `status` (`waiting` while every step it runs waits for an event,
        `running` again once one goes on), written with the next batch; the future is done
        once it is. None when the journal has failed the run."""
        if self.failure is not None:
            return None
        self._status = status
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._status_written.append(future)
        if not self._writing:
            self._start_writer(asyncio.get_running_loop())
        return future

    @staticmethod
    async def durable(future: asyncio.Future[None] | None) -> bool:
        """Wait until the record `enqueue` gave `future` for is durable; False when the
        journal failed the run instead."""
        if future is None:
            return False
        try:
            await future
        except StoreError:
            return False
        return True

    async def commit(self, kind: str, key: str | None, body: dict[str, Any]) -> bool:
        """Write one record and wait until it is durable (`enqueue`, then `durable`)."""
        return await self.durable(self.enqueue(kind, key, body))

    async def _write_queued(self) -> None:
        try:
            await asyncio.wait([self.created])  # nothing is written before the run is stored
            if self.created.cancelled():
                return
            creation_error = self.created.exception()
            if creation_error is not None:
                assert isinstance(creation_error, StoreError)
                self._fail(creation_error, [])
                return
            while self._queue or self._status is not None or self.stream.due():
                batch, self._queue = self._queue, []
                status, self._status = self._status, None
                status_written, self._status_written = self._status_written, []
                self._since_checkpoint += len(batch)
                checkpoint = None
                # A checkpoint copies every event the fold holds, so it waits for at least
                # as many records as that (a fan-out holds thousands): checkpoints then
                # cost a constant per record, and a resume folds at most that many more.
                due = max(self.checkpoint_every, len(self.fold.events))
                if batch and self._since_checkpoint >= due:
                    # Taken now, with exactly this batch folded in: the records queued
                    # after it are folded only once they are taken.
                    checkpoint = Checkpoint(batch[-1][0].seq, self.fold.to_json())
                    self._since_checkpoint = 0
                elif status == "waiting" and not self.writes_records:
                    # "exit": the run waits for a human, maybe for days; what it did so
                    # far is kept, so that it can be answered after this process is gone.
                    checkpoint = self._checkpoint_of_fold()
                # "exit" stores the stream only with a checkpoint: the writers after it re-run.
                stream = self.stream.take() if self.writes_records or checkpoint else []
                try:
                    await self.store.write(
                        self.run_id,
                        [record for record, _ in batch],
                        status=status,
                        checkpoint=checkpoint,
                        stream=stream,
                    )
                except StoreError as error:
                    for future in status_written:
                        future.set_exception(error)
                    self._fail(error, batch)
                    return
                for written in [*(future for _, future in batch), *status_written]:
                    if written is not None and not written.done():
                        written.set_result(None)
        finally:
            self._writing = False
            self._drained.set()

    def streamed(self, key: str | None, data: str) -> None:
        """The execution `key` (None: not a step) wrote the event `data` to the run's
        stream: numbered (`RunStream.number`) and written behind the run, with the next
        batch; nobody waits for it, and a failed write fails the run."""
        seq = self.stream.number(key, data, self.failure is None)
        if seq is not None and self.writes_records and not self._writing:
            self._start_writer(asyncio.get_running_loop())

    def _start_writer(self, loop: asyncio.AbstractEventLoop) -> None:
        self._writing = True
        self._drained.clear()
        self._writer = loop.create_task(self._write_queued())

    def _checkpoint_of_fold(self) -> Checkpoint:
        """`"exit"`: the live fold, which holds every record made so far, as a checkpoint at
        the last seq written (no record after it is)."""
        return Checkpoint(self.next_seq - 1, self.fold.to_json())

    def _fail(
        self, error: StoreError, batch: list[tuple[JournalRecord, asyncio.Future[None] | None]]
    ) -> None:
        for _, future in [*batch, *self._queue]:
            if future is not None and not future.done():
                future.set_exception(error)
        self._queue = []
        self.fail(error)

    def fail(self, error: StoreError) -> None:
        """The journal cannot go on (a write failed): nothing more is written for this
        run, not even its end, and the run fails with `error`."""
        error.add_note(f"a write to the store of durable run {self.run_id!r} failed")
        self.failure = error
        self._on_failure(error)

    def refuse(self, error: ContextSerdeError | RecordTooLargeError) -> None:
        """The run made something the journal cannot hold (see `journalled_text`): it
        fails with `error`, and that end is written, as the store itself is fine."""
        self._on_failure(error)

    async def completed(self, execution: Execution, result: Any) -> Any:
        """Record that `execution` completed with `result` (its returned event, a StopEvent
        or None), before that result is routed. Returns what to route: `result`, or the
        copy of it the journal gave an id (a step may return one object more than once),
        or `FAILED` when the journal failed the run."""
        if execution in self._unrecorded:  # its failure was journalled as its completion
            self._unrecorded.discard(execution)
            self.logs.pop(execution, None)
            return result
        consumed = self.id_of(execution.event)
        if consumed is None:
            error = StoreWriteError(
                f"durable run {self.run_id!r}: step '{execution.step}' consumed a "
                f"{type(execution.event).__name__} that did not enter through the journal; "
                "its completion cannot be recorded"
            )
            self.fail(error)
            return FAILED
        key = f"{execution.step}@{consumed}"
        log = self.logs.pop(execution, None)
        self.replayed_sends.pop(execution, None)
        self.replayed_onces.pop(execution, None)
        body: dict[str, Any] = {}
        routed = result
        try:
            if isinstance(result, StopEvent):
                body["ended"] = True
            elif isinstance(result, Event):
                entry = self.enter(result, made_by=execution.step)
                routed = self.fold.live[entry["id"]]
                body["returned"] = entry
            self._note_what_it_did(execution, log, body)
        except (ContextSerdeError, RecordTooLargeError) as error:
            self.refuse(error)
            return FAILED
        if routed is None:
            # Nothing to route, so nothing waits for this record: the worker goes on at
            # once, and a collector's executions share commits instead of taking one
            # each. Whatever the run routes later waits for a record after this one.
            return None if self.queue("execution", key, body) else FAILED
        if not await self.record("execution", key, body):
            return FAILED
        return routed

    def _note_what_it_did(
        self, execution: Execution, log: ExecutionLog | None, body: dict[str, Any]
    ) -> None:
        """Add to a completion record the answers its waits took and the state it left, if
        changed. What it streamed is in the run's stream (`streamed`), stored once."""
        answers = [self.id_of(event) for event in (execution.answered or {}).values()]
        if any(answer is not None for answer in answers):
            body["answers"] = [answer for answer in answers if answer is not None]
        try:
            state = self.state_text()
        except ContextSerdeError as error:
            raise ContextSerdeError(
                f"durable run {self.run_id!r}: step '{execution.step}' left a state that "
                f"cannot be journalled: {error}"
            ) from error
        if state != self.last_state:
            body["state"] = self.last_state = state

    def completed_by_failure(
        self, execution: Execution, failure: Event, handler_step: str
    ) -> tuple[asyncio.Future[None] | None, Event] | None:
        """`execution` failed and `failure` (its StepFailedEvent) goes to the `@catch_error`
        step `handler_step`: that hand-off is the execution's completion, queued now. The
        record's future and the event to route; None for an execution the journal does
        not know (then nothing is recorded). The worker's own completion of `execution`
        later is not recorded again."""
        consumed = self.id_of(execution.event)
        if consumed is None:
            return None
        self._unrecorded.add(execution)
        log = self.logs.pop(execution, None)
        self.replayed_sends.pop(execution, None)
        try:
            entry = self.enter(failure, handler_step, made_by=execution.step)
            body: dict[str, Any] = {"returned": entry}
            self._note_what_it_did(execution, log, body)
        except (ContextSerdeError, RecordTooLargeError) as error:
            self.refuse(error)
            return None, failure  # nothing written: the hand-off is not routed
        routed = self.fold.live[entry["id"]]
        key = f"{execution.step}@{consumed}"
        if self.routes_at_once:
            return (self._folded if self.queue("execution", key, body) else None), routed
        return self.enqueue("execution", key, body), routed

    async def end(self, outcome: Outcome, cancel_requested: bool) -> StoreError | None:
        """Once every queued record is written, give the run its terminal status and
        result; the store's error if that write failed. A run cancelled without a request
        (its event loop shut down under it, as at Ctrl-C) is left unfinished in the store,
        to be resumed."""
        if isinstance(outcome.error, WorkflowCancelledByUser) and not cancel_requested:
            return None  # the loop is shutting down: leave the run to be resumed
        await asyncio.wait([self.created])
        if self.created.cancelled() or self.created.exception() is not None:
            return None  # not in the store (its id was taken): nothing of it to write
        await self._drained.wait()
        if self.failure is not None:
            # Failed already, or (records written behind its outcome) the run was decided
            # before the write failed: either way it ends with that error.
            return self.failure
        end = run_end(outcome, self.serializer)
        checkpoint = None if self.writes_records else self._checkpoint_of_fold()
        try:
            await self.store.write(
                self.run_id,
                status=end.status,
                result=end.result,
                checkpoint=checkpoint,
                stream=self.stream.close(end.terminal),
            )
        except StoreError as error:
            return error
        return None
