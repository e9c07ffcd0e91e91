"""What happens after a step execution raises: retries by its policy, then the verdict.

Kept off the hot path: a worker only comes here once an attempt has failed, so steps that
succeed pay nothing for retry support.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentflow.events import Event

if TYPE_CHECKING:
    from agentflow.retry_policy import RetryPolicy

current_attempt: contextvars.ContextVar[int] = contextvars.ContextVar(
    "agentflow_current_attempt", default=1
)
"""The attempt number of the execution the running task performs (1 for the first)."""

attempt_started: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "agentflow_attempt_started", default=None
)
"""When the running task's latest attempt of a step with a retry policy began: a policy's
`elapsed_time` counts from its first attempt's start, as tenacity's does."""


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
            delay = policy.next(time.monotonic() - first_attempt, attempts, error)
            if delay is None:
                break
            if delay > 0:
                await asyncio.sleep(delay)
            current_attempt.set(attempts + 1)
            before_retry()
            try:
                return await invoke(event)
            except Exception as next_error:
                error = next_error
                attempts += 1
    finally:
        current_attempt.set(1)
    return Exhausted(error, attempts, time.monotonic() - first_attempt)
