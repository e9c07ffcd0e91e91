"""`JournalWriter`: how a durable run's records reach the store, in order, one write at a
time, as its durability mode says.

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

from agentflow.durable.fold import Fold
from agentflow.durable.stream import RunStream
from agentflow.errors import ContextSerdeError, RecordTooLargeError, StoreError, StoreWriteError
from agentflow.stores.base import Checkpoint, JournalRecord, RunStatus, RunStore
from agentflow.stores.checks import utf8_size_over

if TYPE_CHECKING:
    from agentflow.durable import Durability


class JournalWriter:
    """Numbers a run's records (`next_seq`), folds each into the live fold as it is made,
    and writes them; see the module docstring. `RunJournal` builds on it."""

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        fold: Fold,
        *,
        next_seq: int,
        checkpoint_every: int,
        durability: Durability,
        on_failure: Callable[[BaseException], None],
        next_stream_seq: int,
        replayed_stream: dict[str, int] | None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.fold = fold
        self.next_seq = next_seq
        self.checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
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
        self.routes_at_once = durability != "sync"
        """Whether what a record holds is routed without waiting until it is durable."""
        self.writes_records = durability != "exit"
        self.stream = RunStream(next_stream_seq, replayed_stream, behind=durability != "exit")
        """The run's stream: written with the records (in `"exit"`, with checkpoints)."""
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

    def _enqueue_written(
        self, kind: str, key: str | None, body: dict[str, Any]
    ) -> asyncio.Future[None] | None:
        if self.failure is not None:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        return future if self._append(kind, key, body, future, loop) else None

    def _queue_written(self, kind: str, key: str | None, body: dict[str, Any]) -> bool:
        if self.failure is not None:
            return False
        return self._append(kind, key, body, None, asyncio.get_running_loop())

    def hold_for_end(self, kind: str, key: str | None, body: dict[str, Any]) -> bool:
        """Queue a record the run's end is about to follow (the completion that returned
        its StopEvent) without starting a write: `end` writes it with the run's status, in
        one commit instead of two. Nothing the record causes is seen before that write
        (the stream's terminal event and the handler's result come after it); a crash
        before it re-runs the execution, as a crash during it would. `queue` in `"exit"`,
        which writes no records. False when the journal has failed the run."""
        if not self.writes_records:
            return self.queue(kind, key, body)
        if self.failure is not None:
            return False
        return self._append(kind, key, body, None, None)

    def _append(
        self,
        kind: str,
        key: str | None,
        body: dict[str, Any],
        future: asyncio.Future[None] | None,
        loop: asyncio.AbstractEventLoop | None,
    ) -> bool:
        """Number, fold and queue one record, and start the writer on `loop` (None: leave
        it to `end`); False when it is over the store's size limit, which refuses it here,
        naming the step and what in it is large, rather than in the store, which would
        fail the write (and with it every record of the batch)."""
        data = json.dumps(body)
        size = utf8_size_over(data, self.store.max_record_bytes)
        if size is not None:
            self.refuse(self._too_large(kind, key, body, size))
            return False
        record = JournalRecord(self.next_seq, kind, key, data)
        self.next_seq += 1
        self.fold.apply(kind, key, data)
        self._queue.append((record, future))
        if loop is not None:
            self._wake_writer(loop)
        return True

    def streamed(self, key: str | None, data: str) -> None:
        """The execution `key` (None: not a step) wrote the event `data` to the run's
        stream: numbered (`RunStream.number`) and written behind the run, with the next
        batch; nobody waits for it, and a failed write fails the run."""
        seq = self.stream.number(key, data, self.failure is None)
        if seq is not None and self.writes_records:
            self._wake_writer(asyncio.get_running_loop())

    def _wake_writer(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the writer unless it is under way (it takes what was queued meanwhile)."""
        if not self._writing:
            self._writing = True
            self._drained.clear()
            self._writer = loop.create_task(self._write_queued())

    def _too_large(
        self, kind: str, key: str | None, body: dict[str, Any], size: int
    ) -> RecordTooLargeError:
        by_step = kind != "sent" and key is not None  # a sent record's key is the caller's
        made_by = f"step '{key.split('@', 1)[0]}'" if by_step and key else "the caller"
        parts = ", ".join(f"{part} {len(json.dumps(value)):,}" for part, value in body.items())
        limit = self.store.max_record_bytes
        return RecordTooLargeError(
            f"durable run {self.run_id!r}: the {kind} record of {made_by} ({key}) is {size:,} "
            f"bytes, over the store's limit of {limit:,} bytes (its `max_record_bytes`); "
            f"characters per part: {parts}"
        )

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
        self._wake_writer(asyncio.get_running_loop())
        return future

    @staticmethod
    async def durable(future: asyncio.Future[None] | None) -> bool:
        """Wait until the record `enqueue` gave `future` for is durable; False when the
        journal failed the run instead. Several callers may wait on one record (a step and
        the worker routing what it sent): `wait` leaves the future alone when a caller is
        cancelled, where `await future` would cancel it under the others."""
        if future is None:
            return False
        await asyncio.wait((future,))
        return not future.cancelled() and future.exception() is None

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
                self._fail(creation_error, [], note=False)  # the run failed with it already
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
                    # Taken at once, before anything else runs: the fold holds exactly
                    # the records made so far, the last of them in this batch.
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
                except Exception as error:  # the store's named error, or anything it raised
                    failure = as_store_error(error, self.run_id, "to write its records")
                    for future in status_written:
                        if not future.done():
                            future.set_exception(failure)
                    self._fail(failure, batch)
                    return
                for written in [*(future for _, future in batch), *status_written]:
                    if written is not None and not written.done():
                        written.set_result(None)
        finally:
            self._writing = False
            self._drained.set()

    def _checkpoint_of_fold(self) -> Checkpoint:
        """`"exit"`: the live fold, which holds every record made so far, as a checkpoint at
        the last seq written (no record after it is)."""
        return Checkpoint(self.next_seq - 1, self.fold.to_json())

    def _fail(
        self,
        error: StoreError,
        batch: list[tuple[JournalRecord, asyncio.Future[None] | None]],
        *,
        note: bool = True,
    ) -> None:
        for _, future in [*batch, *self._queue]:
            if future is not None and not future.done():
                future.set_exception(error)
        self._queue = []
        if self.failure is None:
            self.fail(error, note=note)

    def fail(self, error: StoreError, *, note: bool = True) -> None:
        """The journal cannot go on (the store failed, or refused to create the run):
        nothing more is written for this run, not even its end, and the run fails with
        `error`; `note` adds that a write failed to it."""
        if note:
            note_failed_write(error, self.run_id)
        self.failure = error
        self._on_failure(error)

    def refuse(self, error: ContextSerdeError | RecordTooLargeError) -> None:
        """The run made something the journal cannot hold (see `RunJournal.journalled_text`): it
        fails with `error`, and that end is written, as the store itself is fine."""
        self._on_failure(error)


def note_failed_write(error: StoreError, run_id: str) -> None:
    """Say on `error` which run's write it failed (a store's own error names no run)."""
    error.add_note(f"a write to the store of durable run {run_id!r} failed")


def as_store_error(error: Exception, run_id: str, doing: str) -> StoreError:
    """`error` as the store error a run fails with: itself when the store named it, else a
    `StoreWriteError` saying what the store was doing (`doing`), caused by it. A store is
    code the user may write: whatever it raises must fail the run, never escape it."""
    if isinstance(error, StoreError):
        return error
    failure = StoreWriteError(f"durable run {run_id!r}: the store failed {doing}: {error!r}")
    failure.__cause__ = error
    return failure
