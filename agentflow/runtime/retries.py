"""What happens after a step execution raises: retries by its policy, then the verdict,
and, once the policy gives up, the step's `@catch_error` handler while its budget lasts.

Kept off the hot path: a worker only comes here once an attempt has failed, so steps that
succeed pay nothing for retry support.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agentflow.events import Event, StepFailedEvent
from agentflow.runtime.execution import Execution, current_execution

if TYPE_CHECKING:
    from agentflow.retry_policy import RetryInfo, RetryPolicy
    from agentflow.runtime.run import WorkflowRun
    from agentflow.runtime.step_table import StepSpec

current_attempt: contextvars.ContextVar[int] = contextvars.ContextVar(
    "agentflow_current_attempt", default=1
)
"""The attempt number of the execution the running task performs (1 for the first)."""

attempt_started: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "agentflow_attempt_started", default=None
)
"""When the running task's latest attempt of a step with a retry policy began: a policy's
`elapsed_time` counts from its first attempt's start, as tenacity's does."""


previous_failure: contextvars.ContextVar[PreviousFailure | None] = contextvars.ContextVar(
    "agentflow_previous_failure", default=None
)
"""What the previous attempt of the running task's step execution raised, and when; None
on a first attempt. Set only while retrying, so that first attempts pay nothing for it."""


@dataclass(frozen=True, slots=True)
class PreviousFailure:
    """The execution being retried, the retry about to run (1 for the first retry), when
    the first attempt began (the monotonic clock), and the previous attempt's error and the
    time it failed."""

    execution: Execution | None
    retry_number: int
    first_attempt: float
    error: Exception
    failed_at: datetime


def retry_info_now() -> RetryInfo:
    """The running step execution's `RetryInfo` (what `ctx.retry_info()` returns)."""
    from agentflow.retry_policy.policies import FIRST_ATTEMPT, RetryInfo

    failure = previous_failure.get()
    # A child run's steps inherit the context variables of the step that started them;
    # the failure is theirs only when they are the execution it belongs to.
    if failure is None or failure.execution is not current_execution.get():
        return FIRST_ATTEMPT
    return RetryInfo(
        retry_number=failure.retry_number,
        elapsed_seconds=max(0.0, time.monotonic() - failure.first_attempt),
        last_exception=failure.error,
        last_failed_at=failure.failed_at,
    )


def timing_attempts(call: Callable[[Event], Awaitable[Any]]) -> Callable[[Event], Awaitable[Any]]:
    """`call`, noting when each attempt begins; wraps only steps with a retry policy, so
    that other steps do not read the clock."""

    def call_timed(event: Event) -> Awaitable[Any]:
        attempt_started.set(time.monotonic())
        return call(event)

    return call_timed


@dataclass(frozen=True, slots=True)
class Exhausted:
    """The step gave up: its last error, after how many attempts and how long."""

    error: Exception
    attempts: int
    elapsed_seconds: float


async def retry_failed_execution(
    policy: RetryPolicy | None,
    invoke: Callable[[Event], Awaitable[Any]],
    event: Event,
    error: Exception,
    before_retry: Callable[[], None],
) -> Any:
    """Try `invoke(event)` again while `policy` allows, sleeping as it says and calling
    `before_retry` before each attempt. Returns the first successful result, or an
    `Exhausted` once the policy (or its absence) gives up."""
    attempts = 1
    started = attempt_started.get() if policy is not None else None
    first_attempt = started if started is not None else time.monotonic()
    try:
        while policy is not None:
            failed_at = datetime.now(UTC)
            delay = policy.next(time.monotonic() - first_attempt, attempts, error)
            if delay is None:
                break
            if delay > 0:
                await asyncio.sleep(delay)
            current_attempt.set(attempts + 1)
            previous_failure.set(
                PreviousFailure(current_execution.get(), attempts, first_attempt, error, failed_at)
            )
            before_retry()
            try:
                return await invoke(event)
            except Exception as next_error:
                error = next_error
                attempts += 1
    finally:
        current_attempt.set(1)
        previous_failure.set(None)
    return Exhausted(error, attempts, time.monotonic() - first_attempt)


def step_gave_up(run: WorkflowRun, spec: StepSpec, event: Event, exhausted: Exhausted) -> bool:
    """Hand the failure of `spec` on `event` to the step's `@catch_error` handler while its
    budget lasts, else fail the run. True when the run has ended."""
    handler = run.table.catch_handlers.get(spec.name)
    budget = handler.catch_error.max_recoveries if handler and handler.catch_error else 0
    recoveries = run.recoveries
    if recoveries is None:
        recoveries = run.recoveries = {}
    if handler is None or recoveries.get(handler.name, 0) >= budget:
        run.fail(spec.name, exhausted.error, exhausted.attempts, exhausted.elapsed_seconds)
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
    run.dispatch_to(run.lanes[handler.name], failure)
    return not run.is_running
