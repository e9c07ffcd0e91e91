"""Events no step took, and the words for a run that they leave stuck.

An event that no step accepts and no waiter matches is kept (a `wait_for_event` may still
ask for it), along with where it came from. Once nothing else can happen in the run (no
step running or queued, no waiter, no question out to a human, no child run, no step that
the run's callers feed), those events are why the run is stuck: `fail_if_stalled` then fails
it with `stall_error`, and a timeout names them too. Nothing here runs per event: only
when an event is left over, or when a durable run has nothing left to run (it may be
waiting then: `WorkflowRun.became_idle`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentflow.decorators import REACHABILITY
from agentflow.errors import WorkflowStalledError
from agentflow.events import Event, HumanResponseEvent, StopEvent, WorkflowFailedEvent
from agentflow.runtime.execution import RunLink, current_execution
from agentflow.runtime.outcome import Outcome

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun
    from agentflow.runtime.step_table import StepTable


@dataclass(frozen=True, slots=True)
class Unclaimed:
    """An event that no step and no waiter took."""

    event: Event
    step: str | None
    """The step of this run that returned or sent it; None when it came from elsewhere."""
    source: str
    """Where it came from, in words: "from step 'x'", "sent from outside the run"."""


def unclaimed_here(event: Event, run_link: RunLink) -> Unclaimed:
    """`event`, left over in the run whose executions hold `run_link`, with where it came
    from: the step execution calling now, if any, dispatched it."""
    execution = current_execution.get()
    if execution is None:
        return Unclaimed(event, None, "sent from outside the run")
    if execution.link is not run_link:
        return Unclaimed(
            event,
            None,
            f"sent by step '{execution.step}' of workflow {execution.link.workflow_name}",
        )
    return Unclaimed(event, execution.step, f"from step '{execution.step}'")


def keep_unclaimed(run: WorkflowRun, event: Event) -> None:
    """Keep `event`, which no step of `run` accepts, for a `wait_for_event` that may still
    ask for it; unless the run may still do something else, it is stuck with it."""
    if run.unclaimed is None:
        run.unclaimed = []
    run.unclaimed.append(unclaimed_here(event, run.link))
    if not run.executing:
        check_stalled_soon(run)


def check_stalled_soon(run: WorkflowRun) -> None:
    """Fail `run` soon if nothing in it can happen any more and events are left over.
    After the callbacks already scheduled: a send that was made with call_soon (or from a
    sync step's thread, or by the caller right after run()) comes first."""
    run.loop.call_soon(fail_if_stalled, run)


def fail_if_stalled(run: WorkflowRun) -> None:
    """Fail `run` if nothing in it can happen any more and events are left over. A run
    with nothing left over may be waiting for an event sent from outside, one with a
    question out (an InputRequiredEvent a step returned, or a waiter) for its answer, and
    one with a step its callers feed for them: none is stuck, and each is told
    `run.became_idle()` (a durable run is then listed as waiting)."""
    if not run.is_running or run.executing or run.children:
        return
    unclaimed = run.unclaimed
    if (
        not unclaimed
        or (run.waiters is not None and run.waiters.pending)
        or run.open_questions
        # The timeout names the left-over events, if it comes first.
        or callers_feed(run.table)
    ):
        run.became_idle()
        return
    collected = run.collections.sizes() if run.collections is not None else {}
    error = stall_error(run.table, unclaimed, collected)
    failed = WorkflowFailedEvent(step_name=step_of(unclaimed), exception=error)
    run.decide(Outcome(terminal=failed, error=error))


def restored(event: Event) -> Unclaimed:
    """An event a saved run had left over."""
    return Unclaimed(event, None, "left over when the run was saved")


def callers_feed(table: StepTable) -> bool:
    """True when a step of `table` is one the run's callers feed
    (`@step(skip_graph_checks=["reachability"])`): an idle run may be waiting for them."""
    return any(REACHABILITY in spec.skip_graph_checks for spec in table.steps.values())


def describe(unclaimed: list[Unclaimed]) -> str:
    """Each left-over event and where it came from, oldest first."""
    return ", ".join(f"{type(item.event).__name__} ({item.source})" for item in unclaimed)


def stall_error(
    table: StepTable, unclaimed: list[Unclaimed], collected: dict[str, int]
) -> WorkflowStalledError:
    """The error a run of `table`'s workflow stuck with `unclaimed` fails with; `collected`
    is how many events each `collect_events` buffer holds, for a collection the left-over
    events may have been meant for."""
    waiting = "".join(
        f"; the collect_events buffer '{buffer}' holds {count} event{'s' * (count != 1)}"
        for buffer, count in collected.items()
        if count
    )
    hint = (
        "; a StopEvent ends a run only when a step returns it, not when it is sent"
        if any(isinstance(item.event, StopEvent) for item in unclaimed)
        else ""
    )
    if _takes_answers(table):
        # The run counts the questions steps return and the waiters' questions; one only
        # written to the stream looks like any other streamed event (telling them apart
        # there would cost every streamed event a type check).
        hint += (
            "; an InputRequiredEvent written with ctx.write_event_to_stream does not keep a "
            "run waiting for its answer: return it from the step, or pass it to "
            "ctx.wait_for_event as waiter_event"
        )
    return WorkflowStalledError(
        f"workflow {table.workflow_name} can make no progress: no step is running or queued and "
        f"nothing waits for an event, but no step accepts these events and no "
        f"wait_for_event took them: {describe(unclaimed)}{waiting}. Add a step that "
        f"accepts them, or return the event the next step accepts{hint}"
    )


def _takes_answers(table: StepTable) -> bool:
    return any(
        issubclass(accepted, HumanResponseEvent)
        for spec in table.steps.values()
        for accepted in spec.accepted
    )


def step_of(unclaimed: list[Unclaimed]) -> str:
    """The step to blame on the failure event: the first that left an event over."""
    return next((item.step for item in unclaimed if item.step is not None), "")
