"""How a run ends (its StopEvent, a failure, the timeout or a cancel), and how the handler
learns it once the run's tasks are gone."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

from agentflow.errors import RunSuspendedError, WorkflowCancelledByUser, WorkflowTimeoutError
from agentflow.events import (
    StopEvent,
    WorkflowCancelledEvent,
    WorkflowFailedEvent,
    WorkflowTimedOutEvent,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the run ended: exactly one of `stop` or `error` is set; `terminal` is the last
    event of the stream."""

    terminal: StopEvent
    stop: StopEvent | None = None
    error: BaseException | None = None


def failed(
    step_name: str,
    error: BaseException,
    workflow_name: str,
    attempts: int | None = None,
    elapsed_seconds: float | None = None,
) -> Outcome:
    """Step `step_name` failed with `error` after `attempts` attempts over
    `elapsed_seconds`, and nothing recovered it."""
    error.add_note(f"raised in step '{step_name}' of workflow {workflow_name}")
    terminal = WorkflowFailedEvent(
        step_name=step_name,
        exception=error,
        attempts=attempts,
        elapsed_seconds=elapsed_seconds,
    )
    return Outcome(terminal=terminal, error=error)


def stop_event_of(outcome: Outcome) -> StopEvent | None:
    """The StopEvent a handler holds once the run ended with `outcome`: the run's own, or
    the cancel event for a cancelled run; none for a failure or a timeout (as the
    reference's `get_stop_event()`)."""
    if outcome.stop is not None:
        return outcome.stop
    return outcome.terminal if isinstance(outcome.terminal, WorkflowCancelledEvent) else None


def cancelled(run_id: str, workflow_name: str) -> Outcome:
    return Outcome(
        terminal=WorkflowCancelledEvent(),
        error=WorkflowCancelledByUser(f"run {run_id} of {workflow_name} was cancelled"),
    )


def suspended(run_id: str, workflow_name: str) -> Outcome:
    """The durable run stopped in this process while it waited, unfinished in its store."""
    return Outcome(
        terminal=WorkflowCancelledEvent(),
        error=RunSuspendedError(
            f"run {run_id} of {workflow_name} was suspended while it waited; resume it "
            "from its store"
        ),
    )


def timed_out(
    workflow_name: str,
    timeout: float,
    active: list[str],
    unclaimed: str | None,
    parent_name: str | None,
) -> Outcome:
    """The run's `timeout` passed with `active` steps running; `unclaimed` describes the
    events no step took, if any; `parent_name` is set when the timeout was the share of a
    parent run's time left."""
    running = ", ".join(active) or "none"
    if unclaimed:
        running += f"; events no step took: {unclaimed}"
    if parent_name is not None:
        message = (
            f"workflow {workflow_name} ran out of the {timeout:.3g}s it was given from what "
            f"its parent workflow {parent_name} had left (steps still running: {running}); a "
            "child run never outlives the step that started it. Operation timed out after "
            f"{timeout:.3g} seconds."
        )
    else:
        message = (
            f"workflow {workflow_name} timed out after {timeout}s (steps still running: "
            f"{running}); pass a larger `timeout=` to the workflow, or `timeout=None` to "
            f"disable it. Operation timed out after {timeout} seconds."
        )
    return Outcome(
        terminal=WorkflowTimedOutEvent(timeout=timeout, active_steps=active),
        error=WorkflowTimeoutError(message),
    )


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Who asked for the cancel: `handler.cancel()` (the handler then ends cancelled, with
    `message`) or `cancel_run()` (it raises WorkflowCancelledByUser)."""

    by_handler: bool
    message: Any = None


def resolve_handler(
    handler: asyncio.Future[Any], outcome: Outcome, cancel: CancelRequest | None
) -> None:
    """Give `handler` the run's result, or its error. An error the caller asked for with a
    cancel is marked retrieved, so that it is not reported as never retrieved."""
    if handler.done():
        return
    if cancel is not None and cancel.by_handler:
        # The handler's own `cancel()` asks the run to cancel; this is the future's.
        asyncio.Future.cancel(handler, cancel.message)
        return
    if outcome.error is not None:
        handler.set_exception(outcome.error)
        if cancel is not None:
            handler.exception()
        return
    stop = outcome.stop
    assert stop is not None, "an outcome without an error has its StopEvent"
    handler.set_result(stop if _has_own_fields(type(stop)) else stop.result)


@functools.cache
def _has_own_fields(stop_type: type[StopEvent]) -> bool:
    """A StopEvent subclass that declares fields besides `result` is itself the result."""
    return stop_type is not StopEvent and set(stop_type.model_fields) != {"result"}
