"""Retry policies: what `@step(retry_policy=...)` takes, and the ways to build one.

A policy is any object with `next(elapsed_time, attempts, error, *, seed=None)`: the seconds
to wait before the next attempt, or None to give up. `retry_policy(retry, wait, stop)`
builds one from a condition, a wait and a stop, ours or tenacity's; the shorthands
`ConstantDelayRetryPolicy` and `ExponentialBackoffRetryPolicy` are deprecated, as in
LlamaIndex Workflows, whose argument order and defaults they follow.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from agentflow.retry_policy import conditions, stops, waits
from agentflow.retry_policy.call_state import as_part, call_state


@dataclass(frozen=True)
class RetryInfo:
    """Where the running step execution stands in its retries (`ctx.retry_info()`)."""

    retry_number: int
    """0 on the first attempt, 1 on the first retry, and so on."""
    elapsed_seconds: float
    """Seconds since the first attempt began (0.0 on the first attempt)."""
    last_exception: Exception | None
    """What the previous attempt raised; None on the first attempt."""
    last_failed_at: datetime | None
    """When the previous attempt failed, in UTC; None on the first attempt."""


FIRST_ATTEMPT = RetryInfo(0, 0.0, None, None)
"""`RetryInfo` of a first attempt, the only one of a step without a retry policy."""


@runtime_checkable
class RetryPolicy(Protocol):
    """What `@step(retry_policy=...)` takes. A policy written for agentflow before seeds
    existed (`next(elapsed_time, attempts, error)`) still runs: the engine passes no seed."""

    def next(
        self, elapsed_time: float, attempts: int, error: Exception, *, seed: int | None = None
    ) -> float | None:
        """Seconds to wait before another attempt, or None to stop retrying.

        `elapsed_time`: seconds from the first attempt's start to the last failure;
        `attempts`: failures so far (1 after the first); `error`: the last one's exception;
        `seed`: makes random waits deterministic (one seed, one delay)."""
        ...


class ComposedRetryPolicy:
    """A policy made of a retry condition, a wait and a stop (see `retry_policy`)."""

    def __init__(
        self,
        retry: conditions.RetryCondition | retry_base | None,
        wait: waits.WaitStrategy | wait_base,
        stop: stops.StopCondition | stop_base,
    ) -> None:
        self.retry = retry
        self.wait = wait
        self.stop = stop

    def next(
        self, elapsed_time: float, attempts: int, error: Exception, *, seed: int | None = None
    ) -> float | None:
        """See `RetryPolicy.next`. The condition decides first; then the wait gives the
        delay before retry `attempts - 1` (waits count retries from 0); then the stop
        decides, seeing that delay as `upcoming_sleep`, so that `stop_before_delay(5)` with
        a 0.5 s wait gives up at 4.5 s."""
        if self.retry is not None:
            state = (
                call_state(attempts, elapsed_time, error, 0.0)
                if isinstance(self.retry, retry_base)
                else None
            )
            if not conditions.ask(self.retry, error, state):
                return None
        delay = waits.ask(self.wait, max(attempts - 1, 0), seed)
        if stops.ask(self.stop, attempts, elapsed_time, delay):
            return None
        return delay

    def __repr__(self) -> str:
        return f"retry_policy(retry={self.retry!r}, wait={self.wait!r}, stop={self.stop!r})"


DEFAULT_WAIT = waits.wait_fixed(5)
DEFAULT_STOP = stops.stop_after_attempt(3)


def retry_policy(
    retry: conditions.RetryCondition | retry_base | None = None,
    wait: waits.WaitStrategy | wait_base = DEFAULT_WAIT,
    stop: stops.StopCondition | stop_base = DEFAULT_STOP,
) -> ComposedRetryPolicy:
    """A policy from a retry condition (None: any exception), a wait (5 s by default) and a
    stop (3 attempts by default), as in LlamaIndex Workflows. Each may be ours, tenacity's
    own, or a plain function speaking the reference's protocol."""
    return ComposedRetryPolicy(as_part(retry), as_part(wait), as_part(stop))


def ConstantDelayRetryPolicy(maximum_attempts: int = 3, delay: float = 5) -> ComposedRetryPolicy:
    """Wait `delay` seconds between attempts, at most `maximum_attempts` attempts in all.
    Deprecated: `retry_policy(wait=wait_fixed(delay), stop=stop_after_attempt(n))`."""
    warnings.warn(
        "ConstantDelayRetryPolicy is deprecated, use retry_policy(wait=wait_fixed(delay), "
        "stop=stop_after_attempt(n)) instead. Its positional order is "
        "(maximum_attempts, delay), as in LlamaIndex Workflows; agentflow's own used to "
        "be (delay, maximum_attempts).",
        DeprecationWarning,
        stacklevel=2,
    )
    return ComposedRetryPolicy(
        None, waits.wait_fixed(delay), stops.stop_after_attempt(maximum_attempts)
    )


def ExponentialBackoffRetryPolicy(
    maximum_attempts: int = 5,
    initial_delay: float = 1.0,
    multiplier: float = 2.0,
    max_delay: float = 60.0,
    jitter: bool = True,
) -> ComposedRetryPolicy:
    """Wait `initial_delay * multiplier**n` seconds before retry n (from 0), capped at
    `max_delay`; with `jitter`, a delay drawn uniformly up to that ("full jitter").
    Deprecated: `retry_policy(wait=wait_exponential(...), stop=stop_after_attempt(n))`."""
    warnings.warn(
        "ExponentialBackoffRetryPolicy is deprecated, use retry_policy(wait=wait_exponential"
        "(...), stop=stop_after_attempt(n)) instead. Its positional order is "
        "(maximum_attempts, initial_delay, multiplier, max_delay, jitter), as in LlamaIndex "
        "Workflows; agentflow's own used to be (initial_delay, multiplier, max_delay, "
        "maximum_attempts, jitter), with max_delay=30 and additive jitter.",
        DeprecationWarning,
        stacklevel=2,
    )
    kind = waits.wait_random_exponential if jitter else waits.wait_exponential
    wait = kind(multiplier=initial_delay, exp_base=multiplier, max=max_delay)
    return ComposedRetryPolicy(None, wait, stops.stop_after_attempt(maximum_attempts))
