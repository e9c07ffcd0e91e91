"""Retry policies for `@step(retry_policy=...)`.

A policy is any object with `next(elapsed_time, attempts, error) -> float | None`: the
seconds to wait before the next attempt, or None to give up. `retry_policy(retry=, wait=,
stop=)` composes tenacity's own conditions, waits and stops (re-exported here, so
`retry_if_exception_type(...)`, `wait_exponential_jitter(...)` and
`stop_after_attempt(3) | stop_after_delay(30)` mean exactly what they mean in tenacity).
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from tenacity import (
    RetryCallState,
    retry_all,
    retry_always,
    retry_any,
    retry_if_exception,
    retry_if_exception_cause_type,
    retry_if_exception_message,
    retry_if_exception_type,
    retry_if_not_exception_message,
    retry_if_not_exception_type,
    retry_never,
    retry_unless_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_all,
    stop_any,
    stop_before_delay,
    stop_never,
    wait_chain,
    wait_combine,
    wait_exponential,
    wait_exponential_jitter,
    wait_fixed,
    wait_full_jitter,
    wait_incrementing,
    wait_none,
    wait_random,
    wait_random_exponential,
)
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

__all__ = [
    "ConstantDelayRetryPolicy",
    "ExponentialBackoffRetryPolicy",
    "RetryPolicy",
    "retry_all",
    "retry_always",
    "retry_any",
    "retry_if_exception",
    "retry_if_exception_cause_type",
    "retry_if_exception_message",
    "retry_if_exception_type",
    "retry_if_not_exception_message",
    "retry_if_not_exception_type",
    "retry_never",
    "retry_policy",
    "retry_unless_exception_type",
    "stop_after_attempt",
    "stop_after_delay",
    "stop_all",
    "stop_any",
    "stop_before_delay",
    "stop_never",
    "wait_chain",
    "wait_combine",
    "wait_exponential",
    "wait_exponential_jitter",
    "wait_fixed",
    "wait_full_jitter",
    "wait_incrementing",
    "wait_none",
    "wait_random",
    "wait_random_exponential",
]


@runtime_checkable
class RetryPolicy(Protocol):
    """What `@step(retry_policy=...)` takes."""

    def next(self, elapsed_time: float, attempts: int, error: Exception) -> float | None:
        """Seconds to wait before another attempt, or None to stop retrying.

        `elapsed_time`: seconds since the step's first attempt started; `attempts`: how
        many attempts failed so far (1 after the first failure); `error`: the last one's
        exception."""
        ...


class TenacityRetryPolicy:
    """A policy made of tenacity's `retry` condition, `wait` strategy and `stop` condition."""

    def __init__(self, retry: retry_base, wait: wait_base, stop: stop_base) -> None:
        self.retry = retry
        self.wait = wait
        self.stop = stop

    def next(self, elapsed_time: float, attempts: int, error: Exception) -> float | None:
        """See `RetryPolicy.next`; evaluates the tenacity parts on an equivalent call state,
        in tenacity's order: the retry condition, then the wait, then the stop, which sees
        the coming sleep as `upcoming_sleep` (so `stop_before_delay(5)` stops at 4.6 s
        elapsed when the wait is 0.5 s)."""
        state = _call_state(elapsed_time, attempts, error)
        if not self.retry(state):
            return None
        state.upcoming_sleep = delay = float(self.wait(state))
        if self.stop(state):
            return None
        return delay

    def __repr__(self) -> str:
        return f"retry_policy(retry={self.retry!r}, wait={self.wait!r}, stop={self.stop!r})"


def _call_state(elapsed_time: float, attempts: int, error: Exception) -> RetryCallState:
    # tenacity's conditions read the attempt number, the outcome and the time since the
    # start; a call state carrying exactly those lets them run outside tenacity's loop.
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempts
    state.set_exception((type(error), error, error.__traceback__))
    state.start_time = time.monotonic() - elapsed_time
    state.outcome_timestamp = state.start_time + elapsed_time
    return state


def retry_policy(
    *,
    retry: retry_base | None = None,
    wait: wait_base | None = None,
    stop: stop_base | None = None,
) -> TenacityRetryPolicy:
    """Compose a policy from tenacity parts. Defaults: retry on any exception, no wait,
    stop after 3 attempts."""
    return TenacityRetryPolicy(
        retry=retry if retry is not None else retry_if_exception_type(Exception),
        wait=wait if wait is not None else wait_none(),
        stop=stop if stop is not None else stop_after_attempt(3),
    )


def ConstantDelayRetryPolicy(delay: float = 5, maximum_attempts: int = 3) -> TenacityRetryPolicy:
    """Wait `delay` seconds between attempts, at most `maximum_attempts` attempts in all."""
    return retry_policy(wait=wait_fixed(delay), stop=stop_after_attempt(maximum_attempts))


def ExponentialBackoffRetryPolicy(
    initial_delay: float = 1.0,
    multiplier: float = 2.0,
    max_delay: float = 30.0,
    maximum_attempts: int = 5,
    jitter: bool = True,
) -> TenacityRetryPolicy:
    """Wait `initial_delay * multiplier**(n-1)` seconds (capped at `max_delay`, with
    random jitter by default) before attempt n+1, at most `maximum_attempts` in all."""
    wait: wait_base
    if jitter:
        wait = wait_exponential_jitter(initial=initial_delay, exp_base=multiplier, max=max_delay)
    else:
        wait = wait_exponential(multiplier=initial_delay, exp_base=multiplier, max=max_delay)
    return retry_policy(wait=wait, stop=stop_after_attempt(maximum_attempts))
