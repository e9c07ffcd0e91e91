"""`DurableRun`: a run whose journal is in a store, so that it survives its process.

It is a `WorkflowRun` whose port entry points journal first: an event a face sends is
journalled (`sent`, or `emitted` when a step of this run sends it) before it is routed;
each completed step execution is journalled (by the worker, through `RunJournal.completed`)
before what it returned is routed, and with `durability="sync"` written before that;
collections are recorded as they are made; each stream write
is numbered and queued into the run's stream in the store (`RunJournal.streamed`). The
run's own routing is `WorkflowRun`'s, untouched: an
in-memory run pays nothing for any of this.

Resuming folds the journal (`fold.py`) and starts exactly the executions that have no
completion record; an execution that was in flight re-runs, skipping the sends it had made
and not storing again the stream writes its earlier run stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from threading import get_ident
from typing import TYPE_CHECKING, Any

from agentflow.durable.journal import RunJournal
from agentflow.durable.status import RunStatusNotes
from agentflow.durable.stream import numbered, stored_writes, unnumbered
from agentflow.durable.writer import as_store_error
from agentflow.errors import ContextSerdeError, RecordTooLargeError, StoreWriteError
from agentflow.events import Event, StartEvent, StepFailedEvent, StopEvent, WorkflowFailedEvent
from agentflow.runtime import outcome as outcomes
from agentflow.runtime.collect import Collections, collect_in_run
from agentflow.runtime.execution import Execution, current_execution
from agentflow.runtime.lanes import StepLane, lane_for
from agentflow.runtime.once import call, calling_execution
from agentflow.runtime.outcome import Outcome
from agentflow.runtime.run import WorkflowRun
from agentflow.runtime.stall import check_stalled_soon, restored
from agentflow.runtime.waiters import wait_in
from agentflow.stores.base import JournalRecord

if TYPE_CHECKING:
    from agentflow.context import Context
    from agentflow.durable.fold import Fold
    from agentflow.runtime.port import RunOwner
    from agentflow.runtime.step_table import StepTable
    from agentflow.stores.base import RunStore
    from agentflow.workflow import Workflow


class DurableRun(WorkflowRun):
    """A run journalled in a store; see the module docstring."""

    __slots__ = ("_fold_to_resume", "_start", "status_notes")

    def __init__(
        self,
        workflow: Workflow,
        table: StepTable,
        ctx: Context[Any],
        store: RunStore,
        run_id: str,
        fold: Fold,
        *,
        start_event: StartEvent | None,
        next_seq: int,
        next_stream_seq: int = 0,
        replayed_stream: dict[str, int] | None = None,
    ) -> None:
        # The start event is routed once the run is in the store (`_create`), not by the
        # base class's start.
        super().__init__(workflow, table, ctx, None, run_id)
        self._start = start_event
        self.status_notes = RunStatusNotes(self)
        self._fold_to_resume = fold if start_event is None else None
        self.journal = RunJournal(
            store,
            run_id,
            fold,
            next_seq=next_seq,
            next_stream_seq=next_stream_seq,
            replayed_stream=replayed_stream,
            checkpoint_every=workflow.checkpoint_every,
            durability=workflow.durability,
            on_failure=self._journal_failed,
            state_text=self._state_text,
            asking=self.status_notes.asking,
        )
        self.write_to_stream = stored_writes(self, self.journal, self.write_to_stream)

    def write_internal(self, event: Event) -> None:
        """Stored under no execution's key: a re-run execution skips as many of its writes
        as its earlier run stored (`RunStream.number`), and a step state is none of them (a
        cancelled execution reports NOT_RUNNING, which its re-run does not at that point)."""
        journal = self.journal
        assert journal is not None
        execution = current_execution.get()
        step = None if execution is None else execution.step
        journal.streamed(None, journal.journalled_text(event, "streamed event", step))
        self.stream.write(event)

    def stream_events(self) -> AsyncIterator[Event]:
        journal = self.journal
        assert journal is not None
        return unnumbered(self.stream.consume(), journal.stream.seqs)

    def numbered_stream(self) -> AsyncIterator[tuple[int | None, Event]]:
        """The run's stream (its one consumer, as `stream_events`), each event with its
        seq in the stored stream: None for a write a re-run execution made before the crash
        too, which the store holds under its first seq already."""
        events = self.stream.consume()
        journal = self.journal
        assert journal is not None
        return numbered(events, journal.stream.seqs)

    def status_changed(self) -> asyncio.Future[None]:
        return self.status_notes.changed()

    def suspend(self, only_if_waiting: bool) -> bool:
        """Stop the run here (only if it is parked, `RunStatusNotes.parked`, when
        `only_if_waiting`): it ends as suspended, which its journal writes nothing for once
        every queued record is in the store (`RunJournal.end`), so another process can
        resume it, as after a crash."""
        if not self.is_running or (only_if_waiting and not self.status_notes.parked()):
            return False
        self.decide(outcomes.suspended(self.run_id, self.workflow_name))
        return True

    def _state_text(self) -> str:
        journal = self.journal
        assert journal is not None
        return self.ctx.store.to_text(journal.serializer)

    def _journal_failed(self, error: BaseException) -> None:
        """The journal cannot go on: the run fails with its error, at once."""
        self.decide(
            Outcome(terminal=WorkflowFailedEvent(step_name="", exception=error), error=error)
        )

    def start(self, handler: asyncio.Future[Any], owner: RunOwner) -> None:
        journal = self.journal
        assert journal is not None
        started = None
        if self._start is not None:
            # Numbered before anything starts (a start the serializer cannot write is
            # refused with nothing left running), so that the start is event 0 and record
            # 0 whatever the caller sends next.
            entry = journal.enter(self._start)
            state = self._state_text()
            data = json.dumps({"event": entry, "state": state})
            started = JournalRecord(0, "started", None, data)
            journal.fold.apply("started", None, data)
            journal.last_state = state
            journal.next_seq = 1
        WorkflowRun.start(self, handler, owner)
        if self._start is not None and started is not None:
            # Not one of the run's workers, which a cancel stops at once: the run's end
            # waits for this to know whether the run is in the store at all.
            journal.creating = self.loop.create_task(self._create(self._start, started))
        else:
            journal.created.set_result(None)
            if self._fold_to_resume is not None:
                self._resume_from(self._fold_to_resume)
                self._fold_to_resume = None
            if self.executing:
                journal.note_status("running")  # it may have been waiting when it stopped
            else:
                # Nothing to run (it waited for an answer after a step returned its
                # question): waiting, unless what it has left over makes it stuck.
                check_stalled_soon(self)

    async def _create(self, start_event: StartEvent, started: JournalRecord) -> None:
        """Put the run in the store with its start record, then route the start event."""
        journal = self.journal
        assert journal is not None
        try:
            await journal.store.create_run(
                self.run_id, qualified_name(type(self.workflow)), self.workflow.version, [started]
            )
        except asyncio.CancelledError:
            journal.created.cancel()  # the loop shut down: whether it is stored is unknown
            raise
        except Exception as error:  # a store's own failure, named, or anything it raised
            failure = as_store_error(error, self.run_id, "to create it")
            journal.created.set_exception(failure)  # its writes fail with this, unnoted
            journal.fail(failure, note=False)
            return
        journal.created.set_result(None)
        self.route(start_event)

    def _resume_from(self, fold: Fold) -> None:
        """Start the executions the journal has no completion for, and restore the
        buffers and left-over events."""
        journal = self.journal
        assert journal is not None
        if fold.ended is not None:
            self._end_as_journalled(fold.ended)
            return
        for event_id, event in fold.events.items():
            journal.know(event, event_id)
            fold.live.pop(event_id, None)
        if fold.questions:
            # Questions steps returned and nobody answered: whoever follows the resumed run
            # sees them first, as a run restored from `Context.to_dict` streams them. The
            # store holds them under the seqs they had; they are not stored again.
            self.open_questions = [fold.events[i] for i in fold.questions]
            for question in self.open_questions:
                journal.stream.seqs.append(None)
                self.stream.write(question)
        if fold.buffers:
            self.collections = Collections(
                {key: [fold.events[i] for i in ids] for key, ids in fold.buffers.items()}
            )
        if fold.unclaimed:
            self.unclaimed = [restored(fold.events[i]) for i in fold.unclaimed]

        # Executions that were in flight (they had sent or collected: at most a lane's
        # workers of them) start first, replaying what they did; the rest are delivered
        # as the lanes have room.
        def was_in_flight(pair: tuple[str, str]) -> bool:
            key = f"{pair[0]}@{pair[1]}"
            return key in fold.emitted or key in fold.collected or key in fold.onces

        for step, event_id in sorted(fold.deliveries, key=lambda pair: not was_in_flight(pair)):
            event = fold.events[event_id]
            lane = self.lanes[step]
            if not was_in_flight((step, event_id)):
                self.deliver(lane, event)
                continue
            execution = Execution(self.link, step, event)
            key = f"{step}@{event_id}"
            sent = fold.emitted.get(key)
            if sent:
                journal.replayed_sends[execution] = list(sent)
            onces = fold.onces.get(key)
            if onces:
                journal.replayed_onces[execution] = dict(onces)
            calls = fold.collected.get(key)
            if calls:
                execution.replayed = len(calls)
                execution.collected = {
                    number: [fold.events[taken] for taken in took]
                    for number, took in enumerate(calls)
                    if took is not None
                } or None
                execution.touched = True
            self.start_worker(lane, event, execution)

    def _end_as_journalled(self, ended: str | bool) -> None:
        """A step had ended the run when its process died, before the run's end was
        stored: end it now with the StopEvent that step returned, running nothing."""
        journal = self.journal
        assert journal is not None
        if isinstance(ended, str):
            stop = journal.serializer.deserialize_at(ended, "the journalled StopEvent")
            if isinstance(stop, StopEvent):
                self.decide(Outcome(terminal=stop, stop=stop))
                return
        error = ContextSerdeError(
            f"durable run {self.run_id!r} had ended when its process died, with a StopEvent "
            "the serializer could not write: its result is lost"
        )
        self.decide(outcomes.failed("", error, self.workflow_name))

    async def wait_for_event(
        self,
        event_type: type[Event],
        waiter_event: Event | None,
        waiter_id: str | None,
        requirements: dict[str, Any],
        timeout: float | None,
    ) -> Event:
        """`wait_in`, with the run's status in the store following (`status.py`)."""
        return await self.status_notes.around_wait(
            lambda left: wait_in(self, event_type, waiter_event, waiter_id, requirements, left),
            waiter_id,
            timeout,
        )

    def idempotency_key(self, name: str) -> str:
        """`run_id:step@event_id:name`: the same for every run of the execution, in any
        process."""
        return f"{self.run_id}:{self._lineage(calling_execution(self, 'idempotency_key'))}:{name}"

    async def once(self, name: str, function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """`function(*args)` once per execution and `name`: its result is journalled
        before it is returned, and a re-run of the execution gets it back."""
        execution = calling_execution(self, "once")
        journal = self.journal
        assert journal is not None
        recorded = journal.replayed_onces.get(execution, {}).get(name)
        if recorded is not None:
            return journal.serializer.deserialize_at(recorded, f"ctx.once({name!r})")
        if journal.failure is not None:
            raise journal.failure  # nothing more is journalled: do not call it unrecorded
        result = await call(function, args)
        value = journal.serializer.serialize(result, f"the result of ctx.once({name!r})")
        key = f"{self._lineage(execution)}!{name}"
        if not await journal.commit("once", key, {"value": value}):
            raise journal.failure or StoreWriteError(f"ctx.once({name!r}) was not journalled")
        # A retry of this execution (its retry policy) gets the recorded result too.
        journal.replayed_onces.setdefault(execution, {})[name] = value
        return result

    def _lineage(self, execution: Execution) -> str:
        journal = self.journal
        assert journal is not None
        return f"{execution.step}@{journal.id_of(execution.event)}"

    def became_idle(self) -> None:
        """Nothing to run and nothing stuck: the run is noted waiting (`status.py`)."""
        self.status_notes.became_idle()

    def dispatch(self, event: Event, /) -> None:  # type: ignore[override]
        self._journal_then_route(event, None)

    def send_to_step(self, step: str, event: Event) -> None:
        lane_for(self, step, event)  # refused at once, as in memory
        self.call_on_loop(self._journal_then_route, event, step)

    async def stored(self) -> bool:
        """See `RunPort.stored`: done once `create_run` has returned (or failed)."""
        journal = self.journal
        assert journal is not None
        await asyncio.wait([journal.created])
        return not journal.created.cancelled() and journal.created.exception() is None

    async def send_confirmed(
        self, event: Event, step: str | None, idempotency_key: str | None = None
    ) -> bool:
        """See `RunPort.send_confirmed`: True once the event's `sent` record is durable.
        Its key is the record's, so that the fold (and a resume's) knows it was sent."""
        journal = self.journal
        assert journal is not None
        if idempotency_key is not None and idempotency_key in journal.fold.idempotency_keys:
            return True
        if step is not None:
            lane_for(self, step, event)  # refused at once, as in memory
        return await RunJournal.durable(self._journal_then_route(event, step, idempotency_key))

    def idempotency_keys(self) -> frozenset[str]:
        """See `RunPort.idempotency_keys`: those the journal holds."""
        journal = self.journal
        assert journal is not None
        return frozenset(journal.fold.idempotency_keys)

    def _journal_then_route(
        self, event: Event, step: str | None, idempotency_key: str | None = None
    ) -> asyncio.Future[None] | None:
        """Queue the record of `event` and route it once written; the record's future (None
        when nothing was queued: the run has ended, or the send was replayed). A `sent`
        record's key is the sender's idempotency key, if any."""
        if not self.is_running:
            return None
        journal = self.journal
        assert journal is not None
        execution = current_execution.get()
        kind, key, sender = "sent", idempotency_key, None
        self.status_notes.event_arrives()
        if execution is not None and execution.link is self.link:
            log = journal.log_of(execution)
            replayed = journal.replayed_sends.get(execution)
            if replayed:
                replayed.pop(0)  # sent before the crash, and routed then
                log.sends += 1
                return None
            consumed = journal.id_of(execution.event)
            kind, key, sender = (
                "emitted",
                f"{execution.step}@{consumed}#{log.sends}",
                execution.step,
            )
            log.sends += 1
        try:
            entry = journal.enter(event, step, made_by=sender)
        except (ContextSerdeError, RecordTooLargeError) as error:
            if sender is None:
                raise  # the caller's event is refused; the run goes on without it
            journal.refuse(error)  # a step's: the run cannot go on without it
            return None
        routed = journal.fold.live[entry["id"]]
        body: dict[str, Any] = {"event": entry}
        if journal.routes_at_once:
            # Queued (or folded) before it is routed, and so before anything it causes;
            # a caller that must know it is durable (`send_confirmed`) awaits the future.
            queued = journal.enqueue(kind, key, body)
            if queued is not None:
                if step is None:
                    self.route(routed)
                else:
                    WorkflowRun.dispatch_to(self, self.lanes[step], routed)
            return queued
        # Queued now, so that it comes before the sending step's completion record.
        written = journal.enqueue(kind, key, body)

        async def route_once_written() -> None:
            if await journal.durable(written):
                self.status_notes.routing -= 1
                if step is None:
                    self.route(routed)
                else:
                    WorkflowRun.dispatch_to(self, self.lanes[step], routed)

        self.status_notes.routing += 1
        self.tasks.start_worker(self.loop, route_once_written())
        return written

    def dispatch_to(self, lane: StepLane, event: Event) -> None:
        """A failed step's StepFailedEvent on its way to a `@catch_error` step: that
        hand-off is journalled as the failed execution's completion, then routed."""
        execution = current_execution.get()
        if (
            not isinstance(event, StepFailedEvent)
            or execution is None
            or execution.link is not self.link
        ):
            WorkflowRun.dispatch_to(self, lane, event)
            return
        journal = self.journal
        assert journal is not None
        handed_over = journal.completed_by_failure(execution, event, lane.spec.name)
        if handed_over is None:
            WorkflowRun.dispatch_to(self, lane, event)
            return
        written, routed = handed_over
        if journal.routes_at_once:
            if written is not None:
                WorkflowRun.dispatch_to(self, lane, routed)
            return

        async def route_once_written() -> None:
            if await journal.durable(written):
                self.status_notes.routing -= 1
                WorkflowRun.dispatch_to(self, lane, routed)

        self.status_notes.routing += 1
        self.tasks.start_worker(self.loop, route_once_written())

    def collect_events(
        self,
        event: Event,
        expected: list[type[Event]] | type[Event],
        buffer_id: str | None,
        count: int | None,
    ) -> list[Event] | None:
        execution = current_execution.get()
        if execution is None or execution.link is not self.link:
            return collect_in_run(self, event, expected, buffer_id, count)
        replaying = execution.collects < execution.replayed
        result = collect_in_run(self, event, expected, buffer_id, count)
        if replaying:
            return result
        call_number = execution.collects - 1
        if get_ident() == self.thread_id:
            self._journal_collect(execution, call_number, event, result, buffer_id)
        else:
            # A sync step's thread: the record is made on the loop, before the step's
            # completion (which comes back to the loop after this callback).
            self.loop.call_soon_threadsafe(
                self._journal_collect, execution, call_number, event, result, buffer_id
            )
        return result

    def _journal_collect(
        self,
        execution: Execution,
        call_number: int,
        event: Event,
        result: list[Event] | None,
        buffer_id: str | None,
    ) -> None:
        """Queue the record of `execution`'s collect call `call_number`: not awaited, as
        the execution's completion record comes after it."""
        journal = self.journal
        assert journal is not None
        event_id = journal.id_of(event)
        if event_id is None:
            try:
                added = journal.enter(event, routed=False, made_by=execution.step)
            except (ContextSerdeError, RecordTooLargeError) as error:
                journal.refuse(error)
                return
        else:
            added = {"id": event_id}
        call: dict[str, Any] = {
            "buffer": buffer_id if buffer_id is not None else execution.step,
            "added": added,
        }
        if result is not None:
            call["took"] = [journal.id_of(taken) for taken in result]
        consumed = journal.id_of(execution.event)
        journal.queue("collect", f"{execution.step}@{consumed}%{call_number}", call)


def qualified_name(workflow_type: type) -> str:
    """How a durable run names its workflow in the store: `module:QualName`."""
    return f"{workflow_type.__module__}:{workflow_type.__qualname__}"
