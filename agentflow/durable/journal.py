"""`RunJournal`: the live side of a durable run's journal.

It gives what enters the run an id, says what each event and step execution leaves in the
journal, and keeps the same `Fold` a resume will build, so that a checkpoint is that fold.

How records are numbered and written, in each durability mode, is `JournalWriter`'s part
(writer.py); this class adds what records a run's events and step executions make.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentflow.context.serializers import BaseSerializer
from agentflow.durable.ending import run_end
from agentflow.durable.fold import Fold
from agentflow.durable.writer import JournalWriter, as_store_error, note_failed_write
from agentflow.errors import (
    ContextSerdeError,
    RecordTooLargeError,
    RunSuspendedError,
    StoreError,
    StoreWriteError,
    WorkflowCancelledByUser,
)
from agentflow.events import Event, InputRequiredEvent, StopEvent
from agentflow.stores.base import RunStore
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


class RunJournal(JournalWriter):
    """One durable run's journal; see the module docstring."""

    FAILED = FAILED

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        fold: Fold,
        *,
        next_seq: int = 0,
        checkpoint_every: int,
        durability: Durability,
        on_failure: Callable[[BaseException], None],
        state_text: Callable[[], str],
        asking: Callable[[Execution, Event], asyncio.Future[None] | None],
        next_stream_seq: int = 0,
        replayed_stream: dict[str, int] | None = None,
    ) -> None:
        super().__init__(
            store,
            run_id,
            fold,
            next_seq=next_seq,
            checkpoint_every=checkpoint_every,
            durability=durability,
            on_failure=on_failure,
            next_stream_seq=next_stream_seq,
            replayed_stream=replayed_stream,
        )
        self.serializer: BaseSerializer = fold.serializer
        self._ids: dict[int, tuple[Event, str]] = {}
        """id(event) → (event, its journal id), for the events the run still refers to:
        the fold says when it lets go of one (`Fold.forgotten`)."""
        fold.forgotten = self._forget
        self.logs: dict[Execution, ExecutionLog] = {}
        self._unrecorded: set[Execution] = set()
        self.replayed_onces: dict[Execution, dict[str, str]] = {}
        """For a re-run execution: what its `ctx.once` calls returned before the crash."""
        self.replayed_sends: dict[Execution, list[str]] = {}
        """For a re-run execution: the ids of the events it had sent before the crash; its
        first sends are these, already routed, and are not sent again."""
        self.last_state: str | None = fold.state
        self.state_text = state_text
        """The run's state now, serialized as the journal keeps it."""
        self._asking = asking
        """Told of a question an execution returned, before its record: the run's status
        write to await before the question is routed (None: nothing to await)."""

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
            if to_step is None:
                entry["to"] = [spec.name for spec in self.fold.table.route(type(event))]
            else:
                # Sent to that step alone: it answers no question (`Fold.questions`).
                entry["to"], entry["direct"] = [to_step], True
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
                body["ended"] = self._stop_text(execution, result)
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
        if isinstance(result, StopEvent):
            return result if self.hold_for_end("execution", key, body) else FAILED
        # Noted before the record is queued, so that the two go out in one write (and in
        # "exit" the checkpoint with the status holds the record).
        asked = self._asking(execution, result) if isinstance(result, InputRequiredEvent) else None
        if not await self.record("execution", key, body):
            return FAILED
        if asked is not None and not await self.durable(asked):
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
        to be resumed, and so is a suspended one, once its records are written."""
        suspended = isinstance(outcome.error, RunSuspendedError)
        if isinstance(outcome.error, WorkflowCancelledByUser) and not (
            cancel_requested or suspended
        ):
            return None  # the loop is shutting down: leave the run to be resumed
        await asyncio.wait([self.created])
        if self.created.cancelled() or self.created.exception() is not None:
            return None  # not in the store (its id was taken): nothing of it to write
        await self._drained.wait()
        if suspended:  # unfinished in the store, with everything it did
            return self.failure or await self._keep_for_resume()
        if self.failure is not None:
            # Failed already, or (records written behind its outcome) the run was decided
            # before the write failed: either way it ends with that error.
            return self.failure
        end = run_end(outcome, self.serializer)
        terminal = end.terminal
        if utf8_size_over(terminal, self.store.max_record_bytes) is not None:
            # Its result is recorded with the run; the stream ends with a bare StopEvent.
            terminal = self.serializer.serialize(StopEvent(), "the run's end")
        checkpoint = None if self.writes_records else self._checkpoint_of_fold()
        held, self._queue = self._queue, []  # the records `hold_for_end` left to this write
        try:
            await self.store.write(
                self.run_id,
                [record for record, _ in held],
                status=end.status,
                result=end.result,
                checkpoint=checkpoint,
                stream=self.stream.close(terminal),
            )
        except Exception as error:  # the store's named error, or anything it raised
            failure = as_store_error(error, self.run_id, "to write its end")
            note_failed_write(failure, self.run_id)
            return failure
        return None

    async def _keep_for_resume(self) -> StoreError | None:
        """`"exit"` writes nothing per step: a suspended run's fold goes in as a checkpoint
        (with the stream so far), so that its resume re-runs only what was in flight."""
        if self.writes_records:
            return None
        try:
            await self.store.write(
                self.run_id, [], checkpoint=self._checkpoint_of_fold(), stream=self.stream.take()
            )
        except Exception as error:  # the store's named error, or anything it raised
            failure = as_store_error(error, self.run_id, "to keep it for its resume")
            note_failed_write(failure, self.run_id)
            return failure
        return None

    def _stop_text(self, execution: Execution, stop: StopEvent) -> str | bool:
        """The StopEvent that ended the run, for its execution's record: a resume after a
        crash that came before the run's end was stored ends the run with it. True when
        the serializer cannot write it, or it is over the store's record limit (then such a
        resume fails the run, naming why; the run itself completes: its result is for its
        caller)."""
        try:
            text = self.serializer.serialize(stop, f"the StopEvent of step '{execution.step}'")
        except ContextSerdeError:
            return True
        return True if utf8_size_over(text, self.store.max_record_bytes) is not None else text
