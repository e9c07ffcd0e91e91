"""A run's start, and its driver task, from the start to the handler's result.

It opens the run's trace span and its timer, waits for the outcome, keeps what the run did
not finish with the run's owner (the context), then cancels and awaits every worker, waiter
and child run, and lets go of what the workflow held for the run, before it writes the
terminal event to the stream and resolves the handler: once the handler is done, no task
of the run is left, and nothing held for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from agentflow.events import WorkflowFailedEvent
from agentflow.runtime import outcome as outcomes
from agentflow.tracing import record_run_failure, run_span

if TYPE_CHECKING:
    from agentflow.runtime.port import RunOwner
    from agentflow.runtime.run import WorkflowRun
    from agentflow.runtime.run_slots import RunSlots

_NO_SPAN: nullcontext[None] = nullcontext()


def start(run: WorkflowRun, handler: asyncio.Future[Any], owner: RunOwner) -> None:
    """Start `run`'s driver task and deliver its start event (or restore its saved run),
    then take what the workflow holds for the run (`Workflow.hold_for_run`); `handler`
    resolves once the run has cleaned up, and `owner` hears of the end."""
    run.handler, run.owner = handler, owner
    if run.parent is not None:
        siblings = run.parent.children
        if siblings is None:
            siblings = run.parent.children = set()
        siblings.add(run)
    slots = run.slots
    waits_for_slot = slots is not None and not slots.try_take()
    try:
        if slots is not None and waits_for_slot:
            run.tasks.start_driver(run.loop, _drive_once_a_slot_is_free(run, slots))
        else:
            run.tasks.start_driver(run.loop, drive(run))
            # Delivered before run() returns, so that nothing the caller sends next can
            # come before the start (or the saved events). The driver task, made first,
            # runs before any worker.
            _deliver_start(run)
        # Taken last, so that a hold that fails has nothing to let go of, and still before
        # any of the run's tasks has run; the driver lets go at the end.
        run.tasks.let_go = run.workflow.hold_for_run()
    except BaseException:
        run.tasks.abandon()
        if slots is not None and not waits_for_slot:
            slots.give_back()
        if run.parent is not None:
            run.parent.children.discard(run)  # type: ignore[union-attr]
        raise


def _deliver_start(run: WorkflowRun) -> None:
    if run.resume is not None:
        from agentflow.runtime.snapshot import restore

        restore(run, run.resume)
    elif run.start_event is not None:
        run.route(run.start_event)
    run.started = True


async def _drive_once_a_slot_is_free(run: WorkflowRun, slots: RunSlots) -> None:
    """The driver of a run started while its workflow instance had no free slot
    (`num_concurrent_runs`): it waits for one, then starts the run (its timeout from
    now on) and drives it. A run ended while it waits (cancelled, or its parent ended)
    never starts, and keeps its start event for a later run with its context."""
    turn = slots.wait(run.loop)
    try:
        await asyncio.wait([turn, run.ended], return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        slots.withdraw(turn)
        run.decide(outcomes.cancelled(run.run_id, run.workflow_name))
        await drive(run)  # settles at once: nothing of the run was started
        raise
    if run.ended.done():
        slots.withdraw(turn)
    else:
        if run.timeout is not None:
            run.deadline = run.loop.time() + run.timeout
        try:
            _deliver_start(run)
        except Exception as error:  # a saved run that cannot be restored: the run fails
            slots.give_back()
            run.fail("", error)
    await drive(run)


async def drive(run: WorkflowRun) -> None:
    """The driver task of `run`: waits for its outcome (a StopEvent, a failure, the timeout
    or a cancel), then stops every worker, waiter and child run before it writes the
    terminal event to the stream and resolves the handler."""
    tracing = (
        run_span(run.tracing, run.workflow, run.workflow_name, run.run_id, run.start_event)
        if run.tracing is not None
        else _NO_SPAN
    )
    with tracing as trace_context:
        run.trace_context = trace_context
        timer = None
        if run.timeout is not None:
            timer = run.loop.call_later(run.timeout, _on_timeout, run)
        try:
            await run.ended
        except asyncio.CancelledError:
            # The loop is shutting down under us; end the run as cancelled and clean up.
            run.decide(outcomes.cancelled(run.run_id, run.workflow_name))
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if run.outcome is None or run.outcome.stop is None:
                # Unfinished work stays with the owner, so that it can be saved and resumed.
                assert run.owner is not None, "a run is started with its owner"
                run.owner.keep_unfinished(run.ctx, run.snapshot())
            await run.tasks.stop_workers()
            if run.waiters is not None:
                run.waiters.cancel_all()
            if run.children:
                await _stop_children(run.children)
            if run.tasks.let_go is not None:
                await _let_go(run, run.tasks.let_go)
            if run.journal is not None and run.outcome is not None:
                failure = await run.journal.end(run.outcome, run.cancel_request is not None)
                if failure is not None:  # the run's end could not be written: it failed
                    run.outcome = outcomes.Outcome(
                        terminal=WorkflowFailedEvent(step_name="", exception=failure),
                        error=failure,
                    )
            _settle(run)
        if trace_context is not None and run.outcome is not None and run.outcome.error:
            record_run_failure(trace_context, run.outcome.error)


async def _stop_children(children: set[WorkflowRun]) -> None:
    """Cancel the child runs still going and wait until their tasks are gone too."""
    stopping = list(children)
    for child in stopping:
        child.cancel()
    await asyncio.wait([child.handler for child in stopping])


async def _let_go(run: WorkflowRun, let_go: Callable[[], Awaitable[None]]) -> None:
    """Let go of what the workflow held for the run, now that nothing of the run uses it;
    what that raises fails the run."""
    run.tasks.let_go = None
    try:
        await let_go()
    except Exception as error:
        error.add_note(
            f"raised letting go of what workflow {run.workflow_name} held for the run "
            "(Workflow.hold_for_run)"
        )
        run.outcome = outcomes.Outcome(
            terminal=WorkflowFailedEvent(step_name="", exception=error), error=error
        )


def _settle(run: WorkflowRun) -> None:
    outcome = run.outcome
    assert outcome is not None, "the driver only settles a decided run"
    assert run.owner is not None, "a run is started with its owner"
    run.link.run = None
    run.owner.release(run.ctx, run)
    if run.slots is not None and run.started:
        run.slots.give_back()
    parent = run.parent
    if parent is not None:
        parent.children.discard(run)  # type: ignore[union-attr]
        if parent.unclaimed and not parent.executing:
            # Loaded once an event is left over, not at `import agentflow`.
            from agentflow.runtime.stall import check_stalled_soon

            check_stalled_soon(parent)  # this child may have been all it waited for
    run.stream.close(outcome.terminal)
    outcomes.resolve_handler(run.handler, outcome, run.cancel_request)


def _on_timeout(run: WorkflowRun) -> None:
    assert run.timeout is not None, "only a run with a timeout sets its timer"
    unclaimed = None
    if run.unclaimed:
        from agentflow.runtime.stall import describe  # loaded once an event is left over

        unclaimed = describe(run.unclaimed)
    parent = run.parent
    run.decide(
        outcomes.timed_out(
            run.workflow_name,
            run.timeout,
            run.active_steps(),
            unclaimed,
            parent.workflow_name if parent is not None and run.timeout_from_parent else None,
        )
    )
