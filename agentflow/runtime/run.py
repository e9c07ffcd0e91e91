"""One run of a workflow: routes events to step workers and owns every task it starts.

    caller ── Workflow.run() ──> WorkflowRun ──> driver task
                                     │   dispatch(event): waiters first, then the steps
                                     │   the StepTable routes the event's type to
                                     ├──> step workers (at most num_workers per step)
                                     └──> EventStream ──> handler.stream_events()

Workers are started on demand and drain their step's pending events before exiting, so an
idle run holds no worker tasks and a fan-out of n events to a step with k workers starts k
tasks, not n. The driver task waits for the run's outcome (a StopEvent, a failure, the
timeout or a cancel), then cancels and awaits every worker before it writes the terminal
event to the stream and resolves the handler: once the handler is done, no task of the run
is left.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import get_ident
from typing import TYPE_CHECKING, Any

from agentflow.errors import (
    StepCancelledError,
    WorkflowCancelledByUser,
    WorkflowRuntimeError,
    WorkflowStepDoesNotExistError,
    WorkflowTimeoutError,
)
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
    WorkflowCancelledEvent,
    WorkflowFailedEvent,
    WorkflowTimedOutEvent,
)
from agentflow.resource import ResourceCache
from agentflow.runtime.collect import CollectBuffer
from agentflow.runtime.execution import (
    Execution,
    RunLink,
    Waiter,
    current_execution,
    record_answer,
)
from agentflow.runtime.retries import Exhausted, current_attempt, retry_failed_execution
from agentflow.runtime.step_table import StepSpec, StepTable, step_deadline
from agentflow.runtime.stream import EventStream
from agentflow.tracing import active_tracer, record_run_failure, run_span, traced_step

if TYPE_CHECKING:
    from opentelemetry.context import Context as TraceContext

    from agentflow.context import Context
    from agentflow.handler import WorkflowHandler
    from agentflow.runtime.snapshot import InProgress, RunSnapshot
    from agentflow.runtime.stall import Unclaimed
    from agentflow.workflow import Workflow


class _StepLane:
    """A step's share of one run: how many workers run it, and the events waiting for one."""

    __slots__ = ("active", "executions", "invoke", "pending", "spec")

    def __init__(self, spec: StepSpec) -> None:
        self.spec = spec
        self.invoke: Callable[[Event], Awaitable[Any]] | None = None
        self.active = 0
        self.executions = 0
        # Made on first overflow: most lanes of a waiting or short run never queue.
        self.pending: deque[Event] | None = None


_CHILD_SHARE_OF_TIME_LEFT = 0.95
_NO_SPAN: nullcontext[None] = nullcontext()
_YIELD_EVERY = 256
"""A worker draining its lane lets the event loop run after this many events."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How the run ended: exactly one of `stop` or `error` is set."""

    terminal: StopEvent
    stop: StopEvent | None = None
    error: BaseException | None = None


class WorkflowRun:
    """Everything one run needs while it is going: lanes, waiters, buffers and tasks."""

    # Slots: thousands of runs may wait for a human at once, and a dict per run would
    # be most of each one's memory.
    __slots__ = (
        "_cancel_handler",
        "_cancel_message",
        "_cancel_requested",
        "_children",
        "_collect_buffers",
        "_deadline_from_parent",
        "_ended",
        "_executing",
        "_forward_events",
        "_lanes",
        "_next_execution",
        "_open_questions",
        "_outcome",
        "_parent",
        "_recoveries",
        "_resources",
        "_resume",
        "_routes",
        "_start_event",
        "_started",
        "_table",
        "_tasks",
        "_timeout",
        "_trace_context",
        "_tracer",
        "_unclaimed",
        "_verbose",
        "_waiters",
        "ctx",
        "deadline",
        "handler",
        "link",
        "loop",
        "run_id",
        "stream",
        "thread_id",
        "workflow",
        "write_to_stream",
    )

    def __init__(
        self,
        workflow: Workflow,
        table: StepTable,
        ctx: Context[Any],
        start_event: StartEvent | None,
        run_id: str,
        forward_events: bool = False,
        resume: RunSnapshot | None = None,
    ) -> None:
        from agentflow.handler import WorkflowHandler

        self.workflow = workflow
        self.ctx = ctx
        self.run_id = run_id
        self.stream = EventStream()
        self.loop = asyncio.get_running_loop()
        self.handler: WorkflowHandler = WorkflowHandler(self, loop=self.loop)
        self._table = table
        self._routes = table.routes
        self._start_event = start_event
        self._resume = resume
        self._started = False
        self._next_execution = 0
        self._open_questions: list[Event] | None = None
        parent_execution = current_execution.get()
        self._parent = None
        if parent_execution is not None:
            self._parent = parent_execution.link.run
            if self._parent is None or self._parent._outcome is not None:
                raise WorkflowRuntimeError(
                    f"cannot start {type(workflow).__name__} from step "
                    f"'{parent_execution.step}' of a {parent_execution.link.workflow_name} "
                    "run which has ended; a child run never outlives its parent"
                )
        if forward_events and self._parent is None:
            raise WorkflowRuntimeError(
                "forward_events=True streams a child workflow's events to its parent's "
                "stream, so run() must be called from inside a step"
            )
        self._forward_events = forward_events
        self.write_to_stream: Callable[[Event], None] = (
            self._write_and_forward if forward_events else self.stream.write
        )
        """Put an event on this run's stream (and on its parent's when forwarding)."""
        # Made when first needed: most runs have no children, collect nothing, use no
        # resources, recover from nothing and wait for no event, and a waiting run should
        # stay small.
        self._children: set[WorkflowRun] | None = None
        if self._parent is None:
            self._timeout, self._deadline_from_parent = workflow.timeout, False
        else:
            self._timeout, self._deadline_from_parent = self._effective_timeout(workflow.timeout)
        self.deadline = None if self._timeout is None else self.loop.time() + self._timeout
        self._verbose = workflow.verbose
        self._lanes = {name: _StepLane(spec) for name, spec in table.steps.items()}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._executing: set[Execution] = set()
        self._waiters: list[Waiter] | None = None
        self._unclaimed: list[Unclaimed] | None = None
        self.link = RunLink(self, ctx._store, table.workflow_name)
        """What this run's step executions reach it by; cut when the run ends."""
        self._collect_buffers: dict[str, CollectBuffer] | None = None
        self._resources: ResourceCache | None = None
        self._recoveries: dict[str, int] | None = None
        self._cancel_requested = False
        self._tracer = active_tracer()
        self._trace_context: TraceContext | None = None
        self._cancel_handler = False
        self._cancel_message: Any = None
        self._outcome: _Outcome | None = None
        self._ended = self.loop.create_future()
        self.thread_id = get_ident()

    def _effective_timeout(self, own: float | None) -> tuple[float | None, bool]:
        """The run's own timeout, or less when a parent run must end sooner: a child never
        outlives the run (or the step timeout) it was started from. It gets a share of the
        time left, so that its timeout reaches the parent's step while that step can still
        react to it."""
        parent = self._parent
        assert parent is not None, "only a child run has a parent's deadline to keep"
        deadlines = [d for d in (parent.deadline, step_deadline.get()) if d is not None]
        if not deadlines:
            return own, False
        remaining = max(min(deadlines) - self.loop.time(), 0.0) * _CHILD_SHARE_OF_TIME_LEFT
        if own is None or remaining < own:
            return remaining, True
        return own, False

    @property
    def is_running(self) -> bool:
        """True until the run's outcome is decided."""
        return self._outcome is None

    def snapshot(self) -> RunSnapshot:
        """Everything needed to go on with this run elsewhere (see `RunSnapshot`)."""
        # Loaded when a run is first saved or ends unfinished, not at `import agentflow`.
        from agentflow.runtime.snapshot import InProgress, RunSnapshot

        queued = [
            (name, event) for name, lane in self._lanes.items() for event in lane.pending or ()
        ]
        if not self._started:
            if self._resume is not None:
                return self._resume
            if self._start_event is not None:
                queued = [
                    (spec.name, self._start_event)
                    for spec in self._table.route(type(self._start_event))
                ]
        # A question a waiting step asked is asked again when that step re-runs.
        waiters = self._waiters or []
        asked_again = {id(w.waiter_event) for w in waiters if w.waiter_event is not None}
        unconsumed = [e for e in self.stream.unconsumed() if id(e) not in asked_again]
        consumed_questions = [
            question
            for question in self._open_questions or ()
            if not any(question is event for event in unconsumed)
        ]
        streamed = consumed_questions + unconsumed
        return RunSnapshot(
            queued=queued,
            in_progress=[
                InProgress(
                    step=execution.step,
                    event=execution.event,
                    execution=execution.number,
                    answered=dict(execution.answered or {}),
                    collected=execution.collected_by_call(),
                )
                for execution in self._executing
            ],
            unclaimed=[item.event for item in self._unclaimed or ()],
            collected={
                key: buffer.events() for key, buffer in (self._collect_buffers or {}).items()
            },
            recoveries=dict(self._recoveries or {}),
            next_execution=self._next_execution,
            stream_position=self.stream.position(),
            unconsumed=streamed,
            open_questions=[
                next(i for i, event in enumerate(streamed) if event is question)
                for question in self._open_questions or ()
            ],
        )

    def _restore(self, snapshot: RunSnapshot) -> None:
        """Go on from `snapshot`: stream what the consumer had not seen, re-run the steps
        that were running, then deliver the queued events."""
        self.stream.resume_at(snapshot.stream_position)
        for event in snapshot.unconsumed:
            self.stream.write(event)
        self._open_questions = [snapshot.unconsumed[i] for i in snapshot.open_questions] or None
        if snapshot.unclaimed:
            from agentflow.runtime.stall import restored

            self._unclaimed = [restored(event) for event in snapshot.unclaimed]
        self._recoveries = dict(snapshot.recoveries) or None
        self._next_execution = snapshot.next_execution
        for key, events in snapshot.collected.items():
            buffer = CollectBuffer()
            self._collect_buffer_map()[key] = buffer
            for event in events:
                buffer.add(event)
        for item in snapshot.in_progress:
            self._start_worker(self._lanes[item.step], item.event, item)
        for step_name, event in snapshot.queued:
            self._deliver(self._lanes[step_name], event)
        if self._unclaimed and not self._executing:
            self._check_stalled_soon()

    def active_steps(self) -> list[str]:
        """The steps with at least one execution under way now."""
        return [name for name, lane in self._lanes.items() if lane.active]

    def step_executions(self) -> dict[str, int]:
        """How many times each step has started in this run, for steps that ran at all."""
        return {name: lane.executions for name, lane in self._lanes.items() if lane.executions}

    def start(self) -> WorkflowHandler:
        """Start the driver task; the handler resolves once it has cleaned up."""
        if self._parent is not None:
            siblings = self._parent._children
            if siblings is None:
                siblings = self._parent._children = set()
            siblings.add(self)
        driver = self.loop.create_task(self._drive())
        # Delivered before run() returns, so that nothing the caller sends next can come
        # before the start (or the saved events). The driver task, made first, runs
        # before any worker.
        try:
            if self._resume is not None:
                self._restore(self._resume)
            elif self._start_event is not None:
                self.dispatch(self._start_event)
        except BaseException:
            self._abandon(driver)
            raise
        self._started = True
        return self.handler

    def _abandon(self, driver: asyncio.Task[None]) -> None:
        """Undo a start that failed halfway: the driver and the workers started so far are
        cancelled before they ever ran, so none of them acts on a run that never began."""
        driver.cancel()
        for task in self._tasks:
            task.cancel()
        if self._parent is not None:
            self._parent._children.discard(self)  # type: ignore[union-attr]

    async def _drive(self) -> None:
        tracing = (
            run_span(self._tracer, self._table.workflow_name, self.run_id)
            if self._tracer is not None
            else _NO_SPAN
        )
        with tracing as trace_context:
            self._trace_context = trace_context
            timer = None
            if self._timeout is not None:
                timer = self.loop.call_later(self._timeout, self._on_timeout)
            try:
                await self._ended
            except asyncio.CancelledError:
                # The loop is shutting down under us; end the run as cancelled and clean up.
                self._decide_cancelled()
                raise
            finally:
                if timer is not None:
                    timer.cancel()
                if self._outcome is None or self._outcome.stop is None:
                    # Unfinished work stays in the context, so that it can be saved and resumed.
                    self.ctx._keep_unfinished_run(self.snapshot())
                await self._stop_workers()
                self._settle()
            if self._tracer is not None and self._outcome is not None and self._outcome.error:
                record_run_failure(self._outcome.error)

    async def _stop_workers(self) -> None:
        # A cancelled worker's `finally` may still dispatch; dispatch is a no-op once the
        # outcome is decided, so this loop ends after at most a couple of rounds. Workers
        # that have already finished (the one that returned the StopEvent, typically) are
        # left to their done callbacks: awaiting them would cost a turn of the loop.
        while tasks := [task for task in self._tasks if not task.done()]:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for waiter in self._waiters or ():
            waiter.future.cancel()
        self._waiters = None
        children = list(self._children or ())
        for child in children:
            child.cancel()
        if children:
            await asyncio.wait([child.handler for child in children])

    def _settle(self) -> None:
        outcome = self._outcome
        assert outcome is not None, "the driver only settles a decided run"
        self.link.run = None
        self.ctx._detach(self)
        parent = self._parent
        if parent is not None:
            parent._children.discard(self)  # type: ignore[union-attr]
            if parent._unclaimed and not parent._executing:
                parent._check_stalled_soon()  # this child may have been all it waited for
        self.stream.close(outcome.terminal)
        if self.handler.done():
            return
        if self._cancel_handler:
            self.handler._cancel_now(self._cancel_message)
            return
        if outcome.error is not None:
            self.handler.set_exception(outcome.error)
            if self._cancel_requested:
                self.handler.exception()
            return
        stop = outcome.stop
        assert stop is not None
        self.handler.set_result(stop if _has_own_fields(type(stop)) else stop.result)

    def _decide(self, outcome: _Outcome) -> None:
        if self._outcome is None:
            self._outcome = outcome
            if not self._ended.done():
                self._ended.set_result(None)

    def _decide_cancelled(self) -> None:
        self._decide(
            _Outcome(
                terminal=WorkflowCancelledEvent(),
                error=WorkflowCancelledByUser(
                    f"run {self.run_id} of {self._table.workflow_name} was cancelled"
                ),
            )
        )

    def cancel(self, cancel_message: Any = None, cancel_handler: bool = False) -> None:
        """End the run as cancelled. The handler then raises WorkflowCancelledByUser (which
        the caller asked for, so it is not reported as never retrieved), or is itself
        cancelled when the request came through `handler.cancel()`."""
        if self._outcome is None:
            self._cancel_requested = True
            self._cancel_handler = cancel_handler
            self._cancel_message = cancel_message
        self._decide_cancelled()

    def _on_timeout(self) -> None:
        active = self.active_steps()
        self._decide(
            _Outcome(
                terminal=WorkflowTimedOutEvent(timeout=self._timeout, active_steps=active),
                error=WorkflowTimeoutError(self._timeout_message(active)),
            )
        )

    def _timeout_message(self, active: list[str]) -> str:
        running = ", ".join(active) or "none"
        if self._unclaimed:
            from agentflow.runtime.stall import describe

            running += f"; events no step took: {describe(self._unclaimed)}"
        name = self._table.workflow_name
        if self._deadline_from_parent:
            assert self._parent is not None
            return (
                f"workflow {name} ran out of the {self._timeout:.3g}s it was given from what "
                f"its parent workflow {self._parent._table.workflow_name} had left (steps "
                f"still running: {running}); a child run never outlives the step that "
                "started it"
            )
        return (
            f"workflow {name} timed out after {self._timeout}s (steps still running: "
            f"{running}); pass a larger `timeout=` to the workflow, or `timeout=None` to "
            "disable it"
        )

    def _fail(self, step_name: str, error: BaseException) -> None:
        if self._outcome is not None:
            return
        error.add_note(f"raised in step '{step_name}' of workflow {self._table.workflow_name}")
        self._decide(
            _Outcome(
                terminal=WorkflowFailedEvent(step_name=step_name, exception=error), error=error
            )
        )

    def dispatch(self, event: Event, finishing: _StepLane | None = None) -> _StepLane | None:
        """Hand `event` to a waiting `wait_for_event` if one matches, else to every step
        that accepts its type; keep it for a later waiter if nothing takes it.

        `finishing` is the lane of a worker that produced `event` and has nothing else to
        do there. When `event` goes to a single step that can take it now, the lane of
        that step is returned and the worker carries on with the event itself: a chain of
        steps then costs no new task per step."""
        if self._outcome is not None:
            return None
        if self._waiters and self._resolve_waiter(event):
            return None
        if self._open_questions and isinstance(event, HumanResponseEvent):
            del self._open_questions[0]  # answers the oldest question a step returned
        specs = self._routes.get(type(event))
        if specs is None:
            specs = self._table.route(type(event))
        if not specs:
            if not (self._children and self._offer_to_children(event)):
                self._keep_unclaimed(event)
            return None
        lanes = self._lanes
        if finishing is not None and len(specs) == 1:
            lane = lanes[specs[0].name]
            if lane is finishing or lane.active < lane.spec.num_workers:
                return lane
        for spec in specs:
            lane = lanes[spec.name]
            if lane.active < spec.num_workers:
                self._start_worker(lane, event)
            elif lane.pending is None:
                lane.pending = deque((event,))
            else:
                lane.pending.append(event)
        return None

    def _keep_unclaimed(self, event: Event) -> None:
        """Keep `event`, which no step accepts, for a `wait_for_event` that may still ask
        for it; unless the run may still do something else, it is stuck with it."""
        # Loaded when a run first has an event left over, not at `import agentflow`.
        from agentflow.runtime.stall import unclaimed_here

        if self._unclaimed is None:
            self._unclaimed = []
        self._unclaimed.append(unclaimed_here(event, self.link))
        if not self._executing:
            self._check_stalled_soon()

    def _check_stalled_soon(self) -> None:
        # After the callbacks already scheduled: a send that was made with call_soon (or
        # from a sync step's thread, or by the caller right after run()) comes first.
        self.loop.call_soon(self._fail_if_stalled)

    def _fail_if_stalled(self) -> None:
        """Fail the run if nothing in it can happen any more and events are left over.
        A run with nothing left over may be waiting for an event sent from outside, one
        with a question out (an InputRequiredEvent a step returned, or a waiter) for its
        answer, and one with a step its callers feed for them: none is stuck."""
        unclaimed = self._unclaimed
        if (
            self._outcome is not None
            or not unclaimed
            or self._executing
            or self._waiters
            or self._open_questions
            or self._children
        ):
            return
        from agentflow.runtime.stall import callers_feed, stall_error, step_of

        if callers_feed(self._table):
            return  # the timeout names the left-over events, if it comes first
        collected = {key: len(buffer) for key, buffer in (self._collect_buffers or {}).items()}
        error = stall_error(self._table, unclaimed, collected)
        failed = WorkflowFailedEvent(step_name=step_of(unclaimed), exception=error)
        self._decide(_Outcome(terminal=failed, error=error))

    def _offer_to_children(self, event: Event) -> bool:
        """An answer sent to the parent for a question a forwarding child asked (an
        InputRequiredEvent on the parent's stream) goes down to that child."""
        for child in self._children or ():
            if child._forward_events and child.takes(event):
                child.dispatch(event)
                return True
        return False

    def takes(self, event: Event) -> bool:
        """True when a waiter or a step of this run would take `event`."""
        if self._outcome is not None:
            return False
        if any(waiter.matches(event) for waiter in self._waiters or ()):
            return True
        return bool(self._table.route(type(event)))

    def lane_for(self, step_name: str, event: Event) -> _StepLane:
        """The lane of the step named `step_name`, which must accept `event`."""
        lane = self._lanes.get(step_name)
        if lane is None:
            raise WorkflowStepDoesNotExistError(
                f"workflow {self._table.workflow_name} has no step '{step_name}' "
                f"(steps: {', '.join(self._lanes)})"
            )
        if not lane.spec.accepts(type(event)):
            accepted = ", ".join(t.__name__ for t in lane.spec.accepted)
            raise WorkflowRuntimeError(
                f"step '{step_name}' does not accept {type(event).__name__} (it accepts {accepted})"
            )
        return lane

    def dispatch_to(self, lane: _StepLane, event: Event) -> None:
        """Send `event` to one step only, bypassing waiters and routing."""
        if self._outcome is None:
            self._deliver(lane, event)

    def _deliver(self, lane: _StepLane, event: Event) -> None:
        if lane.active < lane.spec.num_workers:
            self._start_worker(lane, event)
        else:
            if lane.pending is None:
                lane.pending = deque()
            lane.pending.append(event)

    def _write_and_forward(self, event: Event) -> None:
        """`write_to_stream` of a child run that forwards its events to its parent."""
        self.stream.write(event)
        if self._parent is not None and self._outcome is None:
            self._parent.write_to_stream(_tagged(event, self._table.workflow_name))

    def call_on_loop(self, function: Callable[..., object], *args: Any) -> None:
        """Call `function(*args)` on the loop's thread: sync steps run in worker threads."""
        if get_ident() == self.thread_id:
            function(*args)
        else:
            self.loop.call_soon_threadsafe(function, *args)

    def _start_worker(
        self, lane: _StepLane, event: Event, resumed: InProgress | None = None
    ) -> None:
        # The execution is registered before the task first runs, so that a snapshot taken
        # in between still sees the event it was handed.
        execution = Execution(self.link, lane.spec.name, event)
        if resumed is not None:
            execution.number, execution.answered = resumed.execution, dict(resumed.answered)
            execution.collected = {
                call: events for call, events in enumerate(resumed.collected) if events is not None
            } or None
            execution.replayed = len(resumed.collected)
            execution.touched = True
        lane.active += 1
        self._executing.add(execution)
        task = self.loop.create_task(self._work(lane, execution))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, lane: _StepLane, execution: Execution) -> None:
        """A worker: run the lane's step on its first event, then on pending events until
        none are left. One coroutine per worker, not per event, keeps a fan-out cheap."""
        spec = lane.spec
        event = execution.event
        current_execution.set(execution)
        failed = False
        invoke = lane.invoke
        if invoke is None:
            invoke = lane.invoke = self._bind(spec)
        until_yield = _YIELD_EVERY
        verbose = self._verbose
        try:
            while True:
                until_yield -= 1
                if not until_yield:
                    # Steps that never await would otherwise starve the loop: the
                    # timeout, cancel_run() and other runs all need it to get a turn.
                    until_yield = _YIELD_EVERY
                    await asyncio.sleep(0)
                lane.executions += 1
                if verbose:
                    print(f"Running step {spec.name}")
                try:
                    result = await invoke(event)
                except Exception as error:
                    result = await retry_failed_execution(
                        spec.retry_policy, invoke, event, error, execution.replay
                    )
                    if isinstance(result, Exhausted):
                        if self._step_gave_up(spec, event, result):
                            failed = True  # kept in the snapshot, to be run again on resume
                            return
                        result = None  # a @catch_error step took over; keep draining
                except asyncio.CancelledError as cancelled:
                    if _being_cancelled():
                        raise
                    # The step's own CancelledError (it awaited something cancelled):
                    # a failure of the step, not a reason to drop the worker silently.
                    stray = StepCancelledError(
                        f"step '{spec.name}' raised CancelledError ({cancelled!r}) although "
                        "its task was not cancelled; it awaited something cancelled elsewhere"
                    )
                    if self._step_gave_up(spec, event, Exhausted(stray, 1, 0.0)):
                        failed = True
                        return
                    result = None
                if result is None and not verbose:
                    routed: bool | _StepLane = True  # nothing to route (a collector waiting)
                else:
                    routed = self._route_result(spec, result, None if lane.pending else lane)
                if routed is False:
                    failed = self._outcome is not None and self._outcome.stop is None
                    return
                if routed is True:
                    pending = lane.pending  # routing the result may have just made it
                    if not pending:
                        return
                    event = pending.popleft()
                elif routed is lane:
                    event = result  # the step feeds itself: carry on with its event
                else:
                    # Hand-off: this worker leaves its idle lane for the one the event
                    # goes to, instead of starting a task there.
                    lane.active -= 1
                    self._executing.discard(execution)
                    lane, spec, event = routed, routed.spec, result
                    lane.active += 1
                    execution = Execution(self.link, spec.name, event)
                    self._executing.add(execution)
                    current_execution.set(execution)
                    invoke = lane.invoke
                    if invoke is None:
                        invoke = lane.invoke = self._bind(spec)
                    continue  # a new execution: nothing to clear
                execution.event = event
                execution.collects = 0  # all a collection that only buffered leaves to clear
                if execution.touched:
                    execution.start_over()
        finally:
            lane.active -= 1
            if not failed:
                executing = self._executing
                executing.discard(execution)
                if not executing and self._unclaimed:
                    self._check_stalled_soon()

    def _bind(self, spec: StepSpec) -> Callable[[Event], Awaitable[Any]]:
        """The call into `spec`'s function for this run, made once per step and run."""
        if spec.resources and self._resources is None:
            self._resources = ResourceCache()
        invoke = spec.bind(self.workflow, self.ctx, self._resources)
        if self._tracer is not None and self._trace_context is not None:
            invoke = traced_step(
                invoke,
                self._tracer,
                self._trace_context,
                spec.name,
                self.run_id,
                current_attempt.get,
            )
        return invoke

    def _step_gave_up(self, spec: StepSpec, event: Event, exhausted: Exhausted) -> bool:
        """Hand the failure to the step's `@catch_error` handler while its budget lasts,
        else fail the run. True when the run has ended."""
        handler = self._table.catch_handlers.get(spec.name)
        budget = handler.catch_error.max_recoveries if handler and handler.catch_error else 0
        recoveries = self._recoveries
        if recoveries is None:
            recoveries = self._recoveries = {}
        if handler is None or recoveries.get(handler.name, 0) >= budget:
            self._fail(spec.name, exhausted.error)
            return True
        recoveries[handler.name] = recoveries.get(handler.name, 0) + 1
        failure = StepFailedEvent(
            step_name=spec.name,
            input_event=event,
            exception=exhausted.error,
            attempts=exhausted.attempts,
            elapsed_seconds=exhausted.elapsed_seconds,
            failed_at=datetime.now(UTC),
        )
        self.dispatch_to(self._lanes[handler.name], failure)
        return self._outcome is not None

    def _route_result(
        self, spec: StepSpec, result: Any, finishing: _StepLane | None
    ) -> bool | _StepLane:
        """Send on what a step returned. False when it ended the run or was not an event;
        a lane when the worker should carry on there with `result` (see `dispatch`)."""
        if self._verbose:
            produced = "no event" if result is None else f"event {type(result).__name__}"
            print(f"Step {spec.name} produced {produced}")
        if type(result) in self._table.plain_results:
            return self.dispatch(result, finishing) or True
        if result is None:
            return True
        if isinstance(result, StopEvent):
            self._decide(_Outcome(terminal=result, stop=result))
            return False
        if isinstance(result, InputRequiredEvent):
            if self._open_questions is None:
                self._open_questions = []
            self._open_questions.append(result)
            self.write_to_stream(result)
            if self._table.route(type(result)):
                self.dispatch(result)
            return True
        if isinstance(result, Event):
            self._table.plain_results.add(type(result))
            return self.dispatch(result, finishing) or True
        self._fail(
            spec.name,
            WorkflowRuntimeError(
                f"step '{spec.name}' returned a {type(result).__name__}; a step returns an "
                "Event or None"
            ),
        )
        return False

    def _resolve_waiter(self, event: Event) -> bool:
        waiters = self._waiters or []
        for index, waiter in enumerate(waiters):
            if not waiter.future.done() and waiter.matches(event):
                del waiters[index]
                if not waiter.future.done():
                    waiter.future.set_result(event)
                    record_answer(waiter.execution, waiter.waiter_id, event)
                return True
        return False

    async def wait_for_event(
        self,
        event_type: type[Event],
        waiter_event: Event | None,
        waiter_id: str | None,
        requirements: dict[str, Any],
        timeout: float | None,
    ) -> Event:
        """Suspend the calling step until a matching event is dispatched. An answer this
        execution already received before a save is returned at once after a resume."""
        execution = current_execution.get()
        if execution is not None:
            if execution.link is not self.link:
                execution = None  # a step of another run called into this one
            else:
                execution.touched = True
        if waiter_id is None:
            waiter_id = self._default_waiter_id(execution)
        if execution is not None and execution.answered and waiter_id in execution.answered:
            return execution.answered[waiter_id]
        waiters = self._waiters
        if waiters is None:
            waiters = self._waiters = []
        if any(waiter.waiter_id == waiter_id for waiter in waiters):
            raise WorkflowRuntimeError(f"a step is already waiting with waiter_id '{waiter_id}'")
        future: asyncio.Future[Event] = self.loop.create_future()
        waiter = Waiter(event_type, requirements, future, waiter_id, execution, waiter_event)
        unclaimed = self._unclaimed or []
        for index, item in enumerate(unclaimed):
            if waiter.matches(item.event):
                del unclaimed[index]
                record_answer(execution, waiter_id, item.event)
                return item.event
        waiters.append(waiter)
        if waiter_event is not None:
            self.write_to_stream(waiter_event)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise WorkflowTimeoutError(
                f"step '{execution.step if execution else '?'}' waited {timeout}s for "
                f"{event_type.__name__} "
                "in wait_for_event; pass a larger `timeout=` or `timeout=None`"
            ) from None
        finally:
            if waiter in waiters:
                waiters.remove(waiter)
            if self._unclaimed and not self._executing:
                self._check_stalled_soon()  # a waiter from outside the run was all it had

    def _default_waiter_id(self, execution: Execution | None) -> str:
        # Made from the execution and the count of waits in it, so that a step re-run
        # after a resume asks for the same ids in the same order.
        if execution is None:
            return uuid.uuid4().hex
        if execution.number is None:
            execution.number = self._next_execution
            self._next_execution += 1
        waiter_id = f"{execution.step}:{execution.number}:{execution.waits}"
        execution.waits += 1
        return waiter_id

    def _collect_buffer_map(self) -> dict[str, CollectBuffer]:
        if self._collect_buffers is None:
            self._collect_buffers = {}
        return self._collect_buffers

    def collect_events(
        self,
        event: Event,
        expected: list[type[Event]] | type[Event],
        buffer_id: str | None,
        count: int | None,
        execution: Execution | None,
    ) -> list[Event] | None:
        """Buffer `event` for the calling step; see `Context.collect_events`. Inside a
        step execution that runs again (a retry, or a resume), each call gives back what
        it gave the first time instead of buffering the event twice."""
        if execution is not None:
            call = execution.collects
            execution.collects = call + 1
            if call < execution.replayed:
                recorded = execution.collected
                return recorded.get(call) if recorded is not None else None
            if buffer_id is None:
                buffer_id = execution.step
        elif buffer_id is None:
            buffer_id = ""
        buffers = self._collect_buffers
        if buffers is None:
            buffers = self._collect_buffers = {}
        buffer = buffers.get(buffer_id)
        if buffer is None:
            buffer = buffers[buffer_id] = CollectBuffer()
        result = buffer.collect(event, expected, 1 if count is None else count)
        if result is not None and execution is not None:
            execution.record_collected(result)  # a None needs no record but the count
        return result


def _tagged(event: Event, workflow_name: str) -> Event:
    """A copy of a child's event for the parent's stream, naming the workflow it came from
    (the innermost one, when forwarded through several levels)."""
    if "source_workflow" in event or event.model_config.get("extra") != "allow":
        return event
    return event.model_copy(update={"source_workflow": workflow_name})


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@functools.cache
def _has_own_fields(stop_type: type[StopEvent]) -> bool:
    """A StopEvent subclass that declares fields besides `result` is itself the result."""
    return stop_type is not StopEvent and set(stop_type.model_fields) != {"result"}
