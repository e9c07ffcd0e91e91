"""One run of a workflow: routes events to step workers and decides how the run ends.

    caller ── Workflow.run() ──> WorkflowRun ──> driver task (driver.py)
                                     │   dispatch(event): waiters first, then the steps
                                     │   the StepTable routes the event's type to
                                     ├──> step workers (at most num_workers per step)
                                     └──> EventStream ──> handler.stream_events()

The faces reach a run only through the port (`port.py`); `WorkflowRun` is the one class
that implements it. This module keeps dispatch, the workers (each draining a `StepLane`,
`lanes.py`) and what they do with a step's result, and the decision of the outcome
(`outcome.py` words it). The rest of a run has modules of its own: its start and driver
task (`driver.py`), its tasks (`tasks.py`), waits (`waiters.py`), collections
(`collect.py`), child runs (`nesting.py`), events no step took (`stall.py`), snapshots
(`snapshot.py`) and the `@catch_error` budget (`retries.py`). Their functions take the run:
its members without an underscore are for them, and the faces see only the port's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from threading import get_ident
from typing import TYPE_CHECKING, Any, Final

from agentflow.errors import StepCancelledError, WorkflowRuntimeError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)
from agentflow.resource.manager import RunResources
from agentflow.runtime import driver
from agentflow.runtime import outcome as outcomes
from agentflow.runtime.collect import Collections, collect_in_run
from agentflow.runtime.execution import Execution, RunLink, current_execution
from agentflow.runtime.lanes import Next, Routed, StepLane, bind_step, lane_for
from agentflow.runtime.nesting import (
    child_timeout,
    forwarding_writer,
    offer_to_children,
    parent_of_caller,
)
from agentflow.runtime.once import idempotency_key_in, once_in
from agentflow.runtime.outcome import CancelRequest, Outcome
from agentflow.runtime.outside_sends import idempotency_keys_of, send_confirmed_in
from agentflow.runtime.retries import (
    Exhausted,
    retry_failed_execution,
    step_gave_up,
)
from agentflow.runtime.stream import EventStream
from agentflow.runtime.tasks import RunTasks
from agentflow.runtime.waiters import Waiters, wait_in
from agentflow.tracing import active_tracing

if TYPE_CHECKING:
    from agentflow.context import Context
    from agentflow.durable.journal import RunJournal
    from agentflow.runtime.port import RunOwner
    from agentflow.runtime.run_slots import RunSlots
    from agentflow.runtime.snapshot import RunSnapshot
    from agentflow.runtime.stall import Unclaimed
    from agentflow.runtime.step_table import StepSpec, StepTable
    from agentflow.tracing import RunSpans
    from agentflow.workflow import Workflow


_YIELD_EVERY = 256
"""A worker draining its lane lets the event loop run after this many events."""
# Module names, read faster than the enum's attributes; Final keeps them literal types, so
# that mypy narrows a `Routed` compared with them to a lane.
_DRAIN: Final = Next.DRAIN
_EXIT: Final = Next.EXIT


class WorkflowRun:
    """Everything one run needs while it is going: lanes, waiters, buffers and tasks.
    Implements `RunPort`; its other public members are for the runtime's own modules."""

    # Slots: thousands of runs may wait for a human at once, and a dict per run would
    # be most of each one's memory.
    __slots__ = (
        "_routes",
        "_verbose",
        "cancel_request",
        "children",
        "collections",
        "ctx",
        "deadline",
        "ended",
        "executing",
        "forwards_events",
        "handler",
        "journal",
        "lanes",
        "link",
        "loop",
        "once_results",
        "open_questions",
        "outcome",
        "owner",
        "parent",
        "recoveries",
        "reports_step_states",
        "resources",
        "resume",
        "run_id",
        "sent_keys",
        "slots",
        "start_event",
        "started",
        "stream",
        "table",
        "tasks",
        "thread_id",
        "timeout",
        "timeout_from_parent",
        "trace_context",
        "tracing",
        "unclaimed",
        "waiters",
        "workflow",
        "workflow_name",
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
        slots: RunSlots | None = None,
    ) -> None:
        self.workflow = workflow
        self.slots = slots
        """The workflow instance's `num_concurrent_runs` slots, when it has a limit."""
        self.ctx = ctx
        self.run_id = run_id
        self.workflow_name = table.workflow_name
        self.stream = EventStream()
        self.loop = asyncio.get_running_loop()
        self.table = table
        self._routes = table.routes
        self.start_event = start_event
        self.resume = resume
        self.started = False
        self.open_questions: list[Event] | None = None
        # A run started outside any step, the common case, has no parent to look for.
        self.parent = (
            parent_of_caller(type(workflow).__name__, forward_events)
            if forward_events or current_execution.get() is not None
            else None
        )
        self.forwards_events = forward_events
        self.write_to_stream: Callable[[Event], None] = (
            forwarding_writer(self) if forward_events else self.stream.write
        )
        """Put an event on this run's stream (and on its parent's when forwarding)."""
        # Made when first needed: most runs have no children, collect nothing, use no
        # resources, recover from nothing and wait for no event, and a waiting run should
        # stay small.
        self.children: set[WorkflowRun] | None = None
        if self.parent is None:
            self.timeout, self.timeout_from_parent = workflow.timeout, False
        else:
            self.timeout, self.timeout_from_parent = child_timeout(
                workflow.timeout, self.parent, self.loop
            )
        self.deadline = None if self.timeout is None else self.loop.time() + self.timeout
        self._verbose = workflow.verbose
        self.lanes = {name: StepLane(spec) for name, spec in table.steps.items()}
        self.tasks = RunTasks()
        self.executing: set[Execution] = set()
        self.waiters: Waiters | None = None
        self.unclaimed: list[Unclaimed] | None = None
        """Events no step and no waiter took (see `stall.py`), oldest first."""
        self.link = RunLink(self, ctx.store, table.workflow_name)
        """What this run's step executions reach it by; cut when the run ends."""
        self.collections: Collections | None = None
        self.resources: RunResources | None = None
        self.recoveries: dict[str, int] | None = None
        self.tracing = active_tracing()
        self.trace_context: RunSpans | None = None
        self.reports_step_states = False
        """True once a stream asked for step states: steps bound from then on report them."""
        self.cancel_request: CancelRequest | None = None
        self.outcome: Outcome | None = None
        self.handler: asyncio.Future[Any]
        """Resolved once the run's tasks are gone; given by `start`."""
        self.owner: RunOwner | None = None
        self.once_results: dict[str, Any] | None = None
        """What `ctx.once` calls returned, by execution and name (made on first use)."""
        self.sent_keys: set[str] | None = None
        """The idempotency keys of the events sent from outside (`outside_sends.py`)."""
        self.journal: RunJournal | None = None
        """A durable run's journal (`agentflow.durable`); None for a run in memory."""
        self.ended = self.loop.create_future()
        """Done once the outcome is decided."""
        self.thread_id = get_ident()

    @property
    def is_running(self) -> bool:
        """True until the run's outcome is decided."""
        return self.outcome is None

    def snapshot(self) -> RunSnapshot:
        """Everything needed to go on with this run elsewhere (see `RunSnapshot`)."""
        # Loaded when a run is first saved or ends unfinished, not at `import agentflow`.
        from agentflow.runtime.snapshot import take_snapshot

        return take_snapshot(self)

    def active_steps(self) -> list[str]:
        """The steps with at least one execution under way now."""
        return [name for name, lane in self.lanes.items() if lane.active]

    def step_executions(self) -> dict[str, int]:
        """How many times each step has started in this run, for steps that ran at all."""
        return {name: lane.executions for name, lane in self.lanes.items() if lane.executions}

    def stream_events(self) -> AsyncIterator[Event]:
        return self.stream.consume()

    def expose_internal_events(self) -> None:
        # Loaded when a stream first asks for them, not at `import agentflow`.
        from agentflow.runtime.step_states import report_step_states

        report_step_states(self)

    def write_internal(self, event: Event) -> None:
        """Put an event of the runtime's own (a `StepStateChanged`) on the stream: written
        while a step runs, yet none of the step's writes (a durable run keys those)."""
        self.write_to_stream(event)

    def stop_event(self) -> StopEvent | None:
        return None if self.outcome is None else outcomes.stop_event_of(self.outcome)

    start = driver.start  # the port's `start`, written beside the driver task it starts

    def decide(self, outcome: Outcome) -> None:
        if self.outcome is None:
            self.outcome = outcome
            if not self.ended.done():
                self.ended.set_result(None)

    def became_idle(self) -> None:
        """Nothing runs or is queued and nothing is stuck: the run waits for an event from
        outside (an answer, a caller's send). Told by `stall.fail_if_stalled`, only when it
        checks an idle run; a run in memory has nothing to do then (a durable one is listed
        as waiting, `agentflow.durable.run`)."""

    def cancel(self, cancel_message: Any = None, cancel_handler: bool = False) -> None:
        """End the run as cancelled. The handler then raises WorkflowCancelledByUser (which
        the caller asked for, so it is not reported as never retrieved), or is itself
        cancelled when the request came through `handler.cancel()`."""
        if self.outcome is None:
            self.cancel_request = CancelRequest(cancel_handler, cancel_message)
        self.decide(outcomes.cancelled(self.run_id, self.workflow_name))

    def fail(
        self,
        step_name: str,
        error: BaseException,
        attempts: int | None = None,
        elapsed_seconds: float | None = None,
    ) -> None:
        if self.outcome is None:
            self.decide(
                outcomes.failed(step_name, error, self.workflow_name, attempts, elapsed_seconds)
            )

    def route(self, event: Event, finishing: StepLane | None = None) -> StepLane | None:
        """Hand `event` to a waiting `wait_for_event` if one matches, else to every step
        that accepts its type; keep it for a later waiter if nothing takes it.

        `finishing` is the lane of a worker that produced `event` and has nothing else to
        do there. When `event` goes to a single step that can take it now, the lane of
        that step is returned and the worker carries on with the event itself: a chain of
        steps then costs no new task per step."""
        if self.outcome is not None:
            return None
        if (waiters := self.waiters) is not None and waiters.pending and waiters.resolve(event):
            return None
        if self.open_questions and isinstance(event, HumanResponseEvent):
            del self.open_questions[0]  # answers the oldest question a step returned
        specs = self._routes.get(type(event))
        if specs is None:
            specs = self.table.route(type(event))
        if not specs:
            if not (self.children and offer_to_children(self.children, event)):
                # Loaded when a run first has an event left over, not at `import agentflow`.
                from agentflow.runtime.stall import keep_unclaimed

                keep_unclaimed(self, event)
            return None
        lanes = self.lanes
        if finishing is not None and len(specs) == 1:
            lane = lanes[specs[0].name]
            if lane is finishing or lane.active < lane.spec.num_workers:
                return lane
        for spec in specs:
            lane = lanes[spec.name]
            if lane.active < spec.num_workers:
                self.start_worker(lane, event)
            elif lane.pending is None:
                lane.pending = deque((event,))
            else:
                lane.pending.append(event)
        return None

    dispatch = route
    """The port's `dispatch`: a durable run (`agentflow.durable`) journals an event from a
    face before it routes it, and its own routing (`route`) stays as it is."""

    def send_to_step(self, step: str, event: Event) -> None:
        """Send `event` to the step named `step` only, bypassing waiters and routing."""
        self.call_on_loop(self.dispatch_to, lane_for(self, step, event), event)

    async def stored(self) -> bool:
        """See `RunPort.stored`: a run without a store has nothing to wait for."""
        return True

    send_confirmed = send_confirmed_in
    idempotency_keys = idempotency_keys_of

    def dispatch_to(self, lane: StepLane, event: Event) -> None:
        if self.outcome is None:
            self.deliver(lane, event)

    def deliver(self, lane: StepLane, event: Event) -> None:
        if lane.active < lane.spec.num_workers:
            self.start_worker(lane, event)
        else:
            if lane.pending is None:
                lane.pending = deque()
            lane.pending.append(event)

    def call_on_loop(self, function: Callable[..., object], *args: Any) -> None:
        """Call `function(*args)` on the loop's thread: sync steps run in worker threads."""
        if get_ident() == self.thread_id:
            function(*args)
        else:
            self.loop.call_soon_threadsafe(function, *args)

    def start_worker(self, lane: StepLane, event: Event, resumed: Execution | None = None) -> None:
        """Start a worker on `event` (or on `resumed`, an execution a restored run goes on
        with). The execution is registered before the task first runs, so that a snapshot
        taken in between still sees the event it was handed."""
        execution = Execution(self.link, lane.spec.name, event) if resumed is None else resumed
        lane.active += 1
        self.executing.add(execution)
        self.tasks.start_worker(self.loop, self._work(lane, execution))

    async def _work(self, lane: StepLane, execution: Execution) -> None:
        """A worker: run the lane's step on its first event, then on pending events until
        none are left. One coroutine per worker, not per event, keeps a fan-out cheap."""
        spec = lane.spec
        event = execution.event
        current_execution.set(execution)
        failed = False
        invoke = lane.invoke
        if invoke is None:
            invoke = lane.invoke = bind_step(self, spec)
        until_yield = _YIELD_EVERY
        verbose = self._verbose
        journal = self.journal
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
                        if step_gave_up(self, spec, event, result):
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
                    if step_gave_up(self, spec, event, Exhausted(stray, 1, 0.0)):
                        failed = True
                        return
                    result = None
                if journal is not None:
                    result = await journal.completed(execution, result)
                    if result is journal.FAILED:
                        failed = True  # the journal failed the run: nothing may go on
                        return
                if result is None and not verbose:
                    routed: Routed = _DRAIN  # nothing to route (a collector waiting)
                else:
                    routed = self._route_result(spec, result, None if lane.pending else lane)
                if routed is _EXIT:
                    failed = self.outcome is not None and self.outcome.stop is None
                    return
                if routed is _DRAIN:
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
                    self.executing.discard(execution)
                    lane, spec, event = routed, routed.spec, result
                    lane.active += 1
                    execution = Execution(self.link, spec.name, event)
                    self.executing.add(execution)
                    current_execution.set(execution)
                    invoke = lane.invoke
                    if invoke is None:
                        invoke = lane.invoke = bind_step(self, spec)
                    continue  # a new execution: nothing to clear
                execution.event = event
                execution.collects = 0  # all a collection that only buffered leaves to clear
                if execution.touched:
                    execution.start_over()
        finally:
            lane.active -= 1
            if not failed:
                executing = self.executing
                executing.discard(execution)
                # Idle now: stuck if events are left over; a durable run may be waiting.
                if not executing and (self.unclaimed or journal is not None):
                    from agentflow.runtime.stall import check_stalled_soon

                    check_stalled_soon(self)

    def _route_result(self, spec: StepSpec, result: Any, finishing: StepLane | None) -> Routed:
        """Send on what a step returned. EXIT when it ended the run or was not an event;
        a lane when the worker should carry on there with `result` (see `dispatch`)."""
        if self._verbose:
            produced = "no event" if result is None else f"event {type(result).__name__}"
            print(f"Step {spec.name} produced {produced}")
        if type(result) in self.table.plain_results:
            return self.route(result, finishing) or _DRAIN
        if result is None:
            return _DRAIN
        if isinstance(result, StopEvent):
            self.decide(Outcome(terminal=result, stop=result))
            return _EXIT
        if isinstance(result, InputRequiredEvent):
            if self.open_questions is None:
                self.open_questions = []
            self.open_questions.append(result)
            self.write_to_stream(result)
            if self.table.route(type(result)):
                self.route(result)
            return _DRAIN
        if isinstance(result, Event):
            self.table.plain_results.add(type(result))
            return self.route(result, finishing) or _DRAIN
        self.fail(
            spec.name,
            WorkflowRuntimeError(
                f"step '{spec.name}' returned a {type(result).__name__}; a step returns an "
                "Event or None"
            ),
        )
        return _EXIT

    wait_for_event = wait_in
    once = once_in
    idempotency_key = idempotency_key_in
    collect_events = collect_in_run


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
